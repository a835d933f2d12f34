"""The second test company's generator."""
