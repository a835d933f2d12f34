"""The tamper-evident audit trail: events, their canonical form, the hash chain, purposes."""
