"""Nordavind Strøm AS, the second test company: generator, truth, seeding and data map."""
