"""Reading the data map from YAML and rendering documents from it."""
