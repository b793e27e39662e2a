"""Chat: moderation, languages, glossaries and translation."""
