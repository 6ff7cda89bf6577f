"""Reading a segment's bytes: the reader (both paths) and change maps."""
