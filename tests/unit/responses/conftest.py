"""Fixtures for the answers: the example data map and Åse's collected data."""

from __future__ import annotations

from pathlib import Path

import pytest

from personvern.domain.datamap import DataMap
from personvern.domain.requests.collected import CollectedData
from tests.unit.responses.sample import collected, example_datamap, write_wav


@pytest.fixture
def datamap() -> DataMap:
    """The example company's data map."""
    return example_datamap()


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    """A real WAV file standing in for a call recording."""
    path = tmp_path / "recordings" / "2025" / "call-001.wav"
    write_wav(path)
    return path


@pytest.fixture
def data(recording: Path) -> CollectedData:
    """Everything found about Åse, recordings included, in Norwegian."""
    return collected(recording)
