"""The HTTP API: build it with :func:`personvern.api.app.create_app`."""
