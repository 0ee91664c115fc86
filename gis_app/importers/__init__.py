"""Survey file import: reading, mapping and loading uploaded files into the layers."""
