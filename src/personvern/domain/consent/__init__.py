"""The consent ledger's rules: what a record holds and how the current state follows from it."""
