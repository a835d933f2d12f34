"""The composition root: one application per process, the same for the API, CLI and worker."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy import select

from personvern.bootstrap import bootstrap
from personvern.datamap.errors import DataMapNotFoundError
from personvern.domain.roles import Role
from personvern.security.tokens import issue_token
from personvern.settings import Settings
from personvern.store.errors import StoreUnavailableError
from personvern.store.models import ApiToken

SRC = Path(__file__).resolve().parents[3] / "src" / "personvern"


def test_the_application_holds_one_store_map_and_connector_pool(
    tmp_path: Path, example_datamap_path: Path
) -> None:
    application = bootstrap(Settings(home=tmp_path), datamap_path=example_datamap_path)
    try:
        first, second = application.request_engine(), application.request_engine("cli:kari")
        assert first.pool is second.pool is application.connectors
        assert first.datamap is second.datamap is application.datamap.require()
        assert ("engine", "cli:kari") == (first.actor, second.actor)
        # The embedded store was migrated on the way up.
        with application.unit_of_work() as uow:
            assert [] == uow.requests.list()
    finally:
        application.close()


def test_a_unit_of_work_commits_on_success_and_undoes_everything_on_error(tmp_path: Path) -> None:
    application = bootstrap(Settings(home=tmp_path), with_datamap=False)
    try:
        with application.unit_of_work() as uow:
            issue_token(uow.session, name="kept", role=Role.ADMIN)

        def fail_half_way() -> None:
            with application.unit_of_work() as uow:
                issue_token(uow.session, name="undone", role=Role.ADMIN)
                uow.session.flush()
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            fail_half_way()
        with application.unit_of_work() as uow:
            names = uow.session.scalars(select(ApiToken.name)).all()
        assert ["kept"] == names
        with pytest.raises(RuntimeError, match="with"):
            application.unit_of_work().session  # noqa: B018 - the property raises
    finally:
        application.close()


def test_a_store_that_cannot_be_used_is_one_clear_error(tmp_path: Path) -> None:
    application = bootstrap(Settings(home=tmp_path), with_datamap=False, migrate=False)
    try:
        # Not migrated: the table is missing, which is the operator's to fix.
        unit = application.unit_of_work()
        with pytest.raises(StoreUnavailableError, match="personvern db upgrade"), unit as uow:
            uow.tokens.list_all()
    finally:
        application.close()


def test_a_missing_data_map_stops_the_command_line_but_not_the_server(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    with pytest.raises(DataMapNotFoundError):
        bootstrap(settings, datamap_path=tmp_path / "nowhere.yaml")
    served = bootstrap(settings, datamap_path=tmp_path / "nowhere.yaml", datamap_required=False)
    try:
        assert isinstance(served.datamap.error, DataMapNotFoundError)
        with pytest.raises(DataMapNotFoundError):
            served.request_engine()
    finally:
        served.close()


def _calls(name: str) -> list[str]:
    """Modules of src/ that call ``name(...)``."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                if called == name:
                    found.append(str(path.relative_to(SRC)))
                    break
    return found


@pytest.mark.parametrize(
    ("call", "allowed"),
    [
        ("RequestEngine", ["bootstrap.py"]),
        ("make_session_factory", ["bootstrap.py"]),
        ("session_scope", ["store/unit_of_work.py"]),
    ],
)
def test_only_the_composition_root_wires_the_application(call: str, allowed: list[str]) -> None:
    # Entry points (API, CLI, worker) take what they need from bootstrap(); a second
    # place that builds engines or opens sessions is how the wiring drifted before.
    assert allowed == _calls(call)
