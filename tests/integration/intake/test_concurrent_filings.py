"""Concurrent filings through a real server on the embedded store all succeed.

Under 20 concurrent clients about 2 % of filings used to fail with 503 "database is
locked" (a deferred SQLite transaction that read, then wrote), and the answer carried
the store's file path. How fast they go is measured by `make bench` (bench/intake_load.py);
this checks only that none fails.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from personvern.api.app import create_app
from tests.conftest import EXAMPLE_DATAMAP
from tests.integration.intake.conftest import make_settings
from tests.integration.intake.smtp import Inbox
from tests.support.live_server import serving

CLIENTS = 50


def test_fifty_concurrent_filings_on_the_embedded_store_all_succeed(
    tmp_path: Path, inbox: Inbox
) -> None:
    settings = make_settings(tmp_path / "home", inbox, intake_codes_per_client=1000)
    app = create_app(settings, EXAMPLE_DATAMAP)
    barrier = threading.Barrier(CLIENTS)
    with serving(app) as base:

        def file(n: int) -> int:
            with httpx.Client(base_url=base, timeout=120) as client:
                barrier.wait()
                response = client.post(
                    "/api/v1/requests",
                    json={
                        "type": "access",
                        "identities": [{"kind": "email", "value": f"burst{n}@example.no"}],
                    },
                )
                return response.status_code

        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            statuses = Counter(pool.map(file, range(CLIENTS)))
    assert {201: CLIENTS} == dict(statuses)
    assert CLIENTS == len(inbox.messages)
