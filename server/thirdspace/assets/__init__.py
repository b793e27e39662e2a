"""Assets: procedural recipes and the content-addressed asset library."""
