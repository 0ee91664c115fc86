"""Domain operations with no HTTP: they take plain arguments and return plain data."""
