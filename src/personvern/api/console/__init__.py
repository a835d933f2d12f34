"""The staff console: server-rendered pages for the privacy office, mounted at /staff."""
