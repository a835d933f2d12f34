"""Rules and models of privacy operations, free of I/O and frameworks."""
