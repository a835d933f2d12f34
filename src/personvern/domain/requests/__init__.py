"""Data subject requests: their lifecycle and deadlines (GDPR Art. 12)."""
