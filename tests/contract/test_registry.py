"""Every kind of system the data map can declare is served by a connector or needs none."""

from __future__ import annotations

from pathlib import Path

import pytest

from personvern.connectors.base import ConnectorBase
from personvern.connectors.port import ConnectorNotConfiguredError
from personvern.connectors.registry import connector_for, connector_kind
from personvern.domain.datamap import SystemKind
from tests.contract.conftest import system_of


@pytest.mark.parametrize("kind", list(SystemKind), ids=str)
def test_each_kind_that_needs_a_connection_has_a_connector(kind: SystemKind) -> None:
    assert (connector_kind(kind) is not None) == kind.needs_connection


def test_a_missing_setting_is_named_before_anything_is_opened(tmp_path: Path) -> None:
    system = system_of(SystemKind.WEBHOOK, tmp_path)
    with pytest.raises(ConnectorNotConfiguredError, match="CONTRACT_STORE is not set"):
        connector_for(system, {})
    with pytest.raises(ConnectorNotConfiguredError, match="CONTRACT_STORE_SECRET is not set"):
        connector_for(system, {"CONTRACT_STORE": "http://127.0.0.1:9"})


def test_every_connector_closes_as_a_context_manager(tmp_path: Path) -> None:
    system = system_of(SystemKind.SQLITE, tmp_path)
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    with connector_for(system, {"CONTRACT_STORE": url}) as connector:
        assert isinstance(connector, ConnectorBase)
    assert 0 == connector.statements_issued
