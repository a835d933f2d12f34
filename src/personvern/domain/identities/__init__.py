"""Identities a data subject is found by, each with one canonical form every comparison uses."""
