"""Decisions: may the company contact or process for this person, and why (not)."""
