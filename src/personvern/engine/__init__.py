"""Plans and runs data subject requests over the connectors."""
