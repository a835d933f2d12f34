"""The privacy centre: public pages where a person exercises their rights, at /privacy."""
