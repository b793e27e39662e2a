"""Scene documents: schema, validation and loading."""
