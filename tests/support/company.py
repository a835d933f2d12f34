"""A seeded demo company per database kind, and a store and engine to run requests against it.

Import the ``company`` fixture into a test folder's conftest to use it there.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from personvern.datamap.loader import load_datamap
from personvern.demo import schema
from personvern.demo.mailbox import serve_mailbox
from personvern.demo.seed import seed_demo_company
from personvern.demo.targets import DemoTargets, demo_environment, targets_from_urls
from personvern.domain.datamap import DataMap
from personvern.domain.requests.lifecycle import RequestState, RequestType
from personvern.engine.runner import RequestEngine
from personvern.settings import Settings
from personvern.store.db import make_engine, make_session_factory
from personvern.store.migrate import upgrade_to_head
from personvern.store.unit_of_work import unit_of_work_factory
from tests.conftest import EXAMPLE_DATAMAP
from tests.support.servers import fresh_database

CUSTOMERS = 80


@dataclass
class Company:
    """The demo company's systems, the environment pointing at them, and the data map."""

    kind: str
    targets: DemoTargets
    environ: dict[str, str]
    datamap: DataMap
    home: Path

    def engine(self, settings: Settings) -> RequestEngine:
        """A request engine over this company with a store of its own."""
        store = make_engine(settings)
        upgrade_to_head(store)
        return RequestEngine(
            settings=settings,
            datamap=self.datamap,
            unit_of_work=unit_of_work_factory(make_session_factory(store)),
            environ=self.environ,
            today=lambda: date(2026, 11, 25),
        )

    def customers(
        self, where: sa.ColumnElement[bool] | None = None
    ) -> list[sa.Row[tuple[object, ...]]]:
        """Customer rows (id, email, phone), optionally filtered."""
        engine = sa.create_engine(self.targets.url("crm"))
        try:
            with engine.connect() as conn:
                query = sa.select(
                    schema.customers.c.id, schema.customers.c.email, schema.customers.c.phone
                ).order_by(schema.customers.c.id)
                if where is not None:
                    query = query.where(where)
                return list(conn.execute(query))
        finally:
            engine.dispose()


MAILBOX_SECRET = "company-mailbox-secret-0123456789abcdef"


@contextmanager
def _company(kind: str, url: str, home: Path) -> Iterator[Company]:
    targets = targets_from_urls(home, company_db_url=url)
    seed_demo_company(targets, customers=CUSTOMERS, reference_date=date(2026, 11, 1))
    with serve_mailbox(targets.mailbox_path, MAILBOX_SECRET) as mailbox_url:
        environ = demo_environment(targets, EXAMPLE_DATAMAP, mailbox_url, MAILBOX_SECRET)
        yield Company(kind, targets, environ, load_datamap(EXAMPLE_DATAMAP).datamap, home)


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mariadb"])
def company(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Company]:
    """A demo company seeded once per module and database kind (its own database)."""
    home = tmp_path_factory.mktemp(f"company-{request.param}")
    if request.param == "sqlite":
        with _company("sqlite", f"sqlite:///{home / 'company.sqlite'}", home) as company:
            yield company
        return
    with fresh_database(request.param) as url, _company(request.param, url, home) as company:
        yield company


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with a fresh SQLite store in this test's folder.

    Four eyes off: these tests drive the engine directly, as the second person would
    after approving (the rule itself is tested in request_flow/test_who_did_what.py).
    """
    return Settings(
        home=tmp_path,
        secret_key="test-secret-key-0123456789abcdef",  # type: ignore[arg-type]
        four_eyes="off",
    )


def file_request(
    engine: RequestEngine,
    request_type: RequestType,
    identities: list[dict[str, str]],
    details: dict[str, object] | None = None,
    verification_method: str = "staff_known_contact",
) -> str:
    """A verified request in the engine's store, as staff would register it."""
    with engine.unit_of_work() as uow:
        repo = uow.requests
        request = repo.add(
            type=request_type,
            identities=identities,
            identity_hashes=(),
            subject_key="0" * 64,
            language="nb",
            channel="staff",
            created_by="test",
            deadline=date(2026, 12, 28),
            details=details,
        )
        request.verification_method = verification_method
        repo.transition(request, RequestState.VERIFIED, "verified by test", "test")
        return request.id
