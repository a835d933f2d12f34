"""Encryption at rest: AES-256-GCM under per-subject data keys wrapped by a KEK.

Here rather than in personvern.security because the store's models seal and open
their own fields, and the layering lets the store import nothing above it.
"""
