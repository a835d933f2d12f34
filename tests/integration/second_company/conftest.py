"""The second test company seeded once per module and database kind, and engines over it.

Each database kind gets one database that can hold undecodable text (see
tests/support/undecodable.py), seeded once for the module; erasures run on copies
seeded afresh (:meth:`Nordavind.fresh_copy`), so every test starts from the same data.

The data map is the base, plus each proposed addition of issue 7 that the loader
accepts (generator.BUILT lists the features built). When a feature lands, its addition
is used and the tests that need it pass, which their strict xfail markers then report.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from personvern.datamap.loader import check_datamap, load_datamap
from personvern.domain.datamap import DataMap
from personvern.engine.runner import RequestEngine
from personvern.settings import Settings
from personvern.store.db import SessionFactory, make_engine, make_session_factory
from personvern.store.migrate import upgrade_to_head
from personvern.store.unit_of_work import unit_of_work_factory
from tests.support.second_company.datamap import PROPOSED, data_map
from tests.support.second_company.generator import (
    REFERENCE_DATE,
    Feature,
    SecondCompany,
    generate,
)
from tests.support.second_company.seed import Seeded, seed
from tests.support.undecodable import undecodable_database


@dataclass
class Nordavind:
    """The second test company in one database kind, with the store requests are filed in."""

    kind: str
    company: SecondCompany
    seeded: Seeded
    datamap: DataMap
    settings: Settings
    session_factory: SessionFactory
    home: Path

    def engine(self, seeded: Seeded | None = None) -> RequestEngine:
        """A request engine over the module's company, or over a fresh copy of it."""
        return RequestEngine(
            settings=self.settings,
            datamap=self.datamap,
            unit_of_work=unit_of_work_factory(self.session_factory),
            environ=(seeded or self.seeded).environ(),
            today=lambda: REFERENCE_DATE,
        )

    @contextmanager
    def fresh_copy(self) -> Iterator[Seeded]:
        """The company seeded afresh in a database of its own, dropped afterwards."""
        folder = self.home / "copies"
        folder.mkdir(exist_ok=True)
        with undecodable_database(self.kind, folder) as url:
            target = folder / url.rsplit("/", 1)[-1].split("?")[0].replace(".", "-")
            yield seed(self.company, url, target)


@pytest.fixture(scope="session")
def accepted_additions(tmp_path_factory: pytest.TempPathFactory) -> frozenset[Feature]:
    """The proposed additions of issue 7 that today's loader accepts (each tried alone)."""
    folder = tmp_path_factory.mktemp("second-company-additions")
    accepted = set()
    for feature in {addition.feature for addition in PROPOSED}:
        datamap, _source, _findings = check_datamap(data_map(folder / feature.value, [feature]))
        if datamap is not None:
            accepted.add(feature)
    return frozenset(accepted)


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mariadb"])
def nordavind(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    accepted_additions: frozenset[Feature],
) -> Iterator[Nordavind]:
    """Nordavind Strøm AS seeded once per module and database kind."""
    kind = str(request.param)
    home = tmp_path_factory.mktemp(f"second-company-{kind}")
    datamap = load_datamap(data_map(home / "datamap", accepted_additions)).datamap
    # Four eyes off: these tests drive the engine directly, as the second person would.
    settings = Settings(
        home=home / "store",
        secret_key="second-company-secret-0123456789abcdef",
        four_eyes="off",
    )
    store = make_engine(settings)
    upgrade_to_head(store)
    company = generate()
    try:
        with undecodable_database(kind, home) as url:
            seeded = seed(company, url, home / "files")
            yield Nordavind(
                kind, company, seeded, datamap, settings, make_session_factory(store), home
            )
    finally:
        store.dispose()
