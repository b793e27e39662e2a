"""Overlays, physical anchors and tours: the language report and guided tours."""
