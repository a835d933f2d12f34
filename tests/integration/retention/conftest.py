"""A fresh database per test for the shop, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.servers import fresh_database

KINDS = {"sqlite": "sqlite", "postgresql": "postgresql", "mariadb": "mysql"}


@dataclass(frozen=True)
class ShopDatabase:
    """The shop's database URL and the data map kind that reaches it."""

    url: str
    kind: str


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ]
)
def shop_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ShopDatabase]:
    """An empty database for the shop."""
    if request.param == "sqlite":
        yield ShopDatabase(f"sqlite:///{tmp_path / 'shop.db'}", "sqlite")
        return
    with fresh_database(request.param) as url:
        yield ShopDatabase(url, KINDS[request.param])


from tests.support.store import session, store_engine, store_url  # noqa: E402

__all__ = ["ShopDatabase", "session", "shop_database", "store_engine", "store_url"]
