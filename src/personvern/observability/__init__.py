"""Logs without personal data or secrets: a redactor and the logging configuration using it."""
