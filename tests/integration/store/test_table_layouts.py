"""Table layouts in the store: kept per system and fingerprint, replaced, a few per system."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from personvern.store.db import make_session_factory
from personvern.store.table_layouts import KEPT_PER_SYSTEM, StoredTableLayouts
from personvern.store.unit_of_work import unit_of_work_factory


def test_a_layout_is_found_by_system_and_fingerprint(store_engine: Engine) -> None:
    layouts = StoredTableLayouts(unit_of_work_factory(make_session_factory(store_engine)))

    layouts.put("crm", "a" * 64, '{"crm": 1}')
    layouts.put("billing", "a" * 64, '{"billing": 1}')

    assert '{"crm": 1}' == layouts.get("crm", "a" * 64)
    assert '{"billing": 1}' == layouts.get("billing", "a" * 64)
    assert layouts.get("crm", "b" * 64) is None
    assert layouts.get("support", "a" * 64) is None


def test_putting_again_replaces_the_layout(store_engine: Engine) -> None:
    layouts = StoredTableLayouts(unit_of_work_factory(make_session_factory(store_engine)))

    layouts.put("crm", "a" * 64, "{not json")
    layouts.put("crm", "a" * 64, '{"crm": 2}')

    assert '{"crm": 2}' == layouts.get("crm", "a" * 64)


def test_only_the_newest_layouts_of_a_system_are_kept(store_engine: Engine) -> None:
    layouts = StoredTableLayouts(unit_of_work_factory(make_session_factory(store_engine)))
    prints = [f"{n:064x}" for n in range(KEPT_PER_SYSTEM + 2)]

    for fingerprint in prints:
        layouts.put("crm", fingerprint, f'"{fingerprint}"')
    layouts.put("billing", prints[0], '"billing"')

    with store_engine.connect() as conn:
        kept = conn.execute(
            sa.text("SELECT fingerprint FROM table_layouts WHERE system = 'crm'")
        ).scalars()
        assert set(prints[-KEPT_PER_SYSTEM:]) == set(kept)
    assert '"billing"' == layouts.get("billing", prints[0])
