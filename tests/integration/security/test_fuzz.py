"""Fuzzing with Hypothesis: the data map loader and request intake take anything calmly.

Whatever bytes or structure a data map file holds, loading it gives findings or a
personvern error, never a traceback. Whatever JSON is posted to the public filing
route, the answer is never 5xx, and every refusal is problem+json.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from personvern.api.app import create_app
from personvern.datamap.loader import check_datamap
from personvern.domain.datamap import IdentityKind
from personvern.domain.requests.lifecycle import RequestType
from personvern.errors import PersonvernError
from personvern.settings import Settings
from tests.conftest import EXAMPLE_DATAMAP

TODAY = date(2026, 12, 2)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=30),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
#: Keys the data map uses, so nested structures reach past the top-level schema check.
MAP_KEYS = st.sampled_from(
    ["organization", "systems", "datasets", "fields", "purposes", "name", "languages", "key"]
)
map_like = st.dictionaries(
    MAP_KEYS,
    st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(MAP_KEYS | st.text(max_size=8), inner, max_size=3),
        ),
        max_leaves=15,
    ),
    max_size=5,
)


def _check(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "datamap.yaml"
        path.write_bytes(content)
        try:
            datamap, _, findings = check_datamap(path, today=TODAY)
        except PersonvernError as exc:
            error: PersonvernError | None = exc
        else:
            error = None
            assert datamap is not None or findings, "an invalid map must say why"
        assert error is None or error.message


@FUZZ
@given(content=st.binary(max_size=600) | st.text(max_size=600).map(str.encode))
def test_any_bytes_as_a_data_map_give_findings_not_a_crash(content: bytes) -> None:
    _check(content)


@FUZZ
@given(structure=map_like | json_values)
def test_any_structure_as_a_data_map_gives_findings_not_a_crash(structure: Any) -> None:
    _check(yaml.safe_dump(structure, allow_unicode=True).encode())


# -- request intake ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app serving the example company, started once for the module."""
    home = tmp_path_factory.mktemp("fuzz") / "home"
    settings = Settings(
        home=home,
        database_url=None,
        datamap=None,
        # Generous, so the fuzzing reaches validation rather than the limiter.
        intake_codes_per_client=10_000,
    )
    with TestClient(create_app(settings, EXAMPLE_DATAMAP)) as client:
        yield client


identities = st.lists(
    st.fixed_dictionaries(
        {"kind": st.sampled_from([k.value for k in IdentityKind]) | st.text(max_size=10)},
        optional={"value": st.text(max_size=40) | scalars},
    ),
    max_size=3,
)
filings = st.fixed_dictionaries(
    {"type": st.sampled_from([t.value for t in RequestType]) | scalars, "identities": identities},
    optional={
        "language": st.sampled_from(["nb", "en", "xx"]) | scalars,
        "details": json_values,
        "verification_method": scalars,
    },
)


@FUZZ
@given(body=filings | json_values)
def test_any_filing_is_answered_without_a_server_error(client: TestClient, body: Any) -> None:
    response = client.post(
        "/api/v1/requests", content=json.dumps(body), headers={"content-type": "application/json"}
    )
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert "application/problem+json" == response.headers["content-type"]
        assert response.json()["detail"]


def test_a_control_character_in_a_data_map_is_a_finding_with_its_place(tmp_path: Path) -> None:
    # Found by the fuzzing above: YAML's reader refused the NUL before parsing began, and
    # the error escaped as a traceback.
    path = tmp_path / "datamap.yaml"
    path.write_bytes(b"organization:\n  name: A\x00S\n")
    datamap, _, findings = check_datamap(path, today=TODAY)
    assert datamap is None
    assert [(2, 10, "invalid YAML: the character U+0000 is not allowed in YAML")] == [
        (f.location.line, f.location.column, f.finding.message) for f in findings if f.location
    ]
