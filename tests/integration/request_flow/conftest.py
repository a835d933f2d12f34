"""The whole request flow through the API, against the demo company in each database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.intake.smtp import Inbox, smtp_server
from tests.support.company import company

__all__ = ["company"]


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    """A real SMTP server the app mails verification codes to."""
    with smtp_server() as received:
        yield received
