"""Test doubles that behave like the real thing, for personvern's tests and yours.

* :class:`~personvern.testing.memory.InMemoryConnector`: a connector keeping a system's
  records in memory, with the same matching, erasure and rectification rules as the
  database connectors; it passes the same contract tests.
* :func:`~personvern.testing.webhook_receiver.serve_webhook_receiver`: a receiver of
  the webhook contract over HTTP, signing and checking like a real one, backed by any
  connector (an in-memory one, say), to test a webhook system without the company's.
"""
