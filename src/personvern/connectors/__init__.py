"""Connectors to the company's stores: one adapter per kind of system, behind one port."""
