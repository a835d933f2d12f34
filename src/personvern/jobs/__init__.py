"""Background work: requests run in-process when embedded, through Celery when a broker is set."""
