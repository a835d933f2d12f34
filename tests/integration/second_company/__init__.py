"""Requests on the second test company, on SQLite, PostgreSQL and MariaDB."""
