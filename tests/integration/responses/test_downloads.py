"""A subject downloads the answer's files through signed links, and only through them."""

from __future__ import annotations

import hashlib
import secrets
import zipfile
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from personvern.api.context import AppContext
from personvern.datamap.loader import load_datamap
from personvern.responses.download_link import sign
from personvern.responses.receipt import build_receipt
from personvern.responses.writer import write_request_outputs
from personvern.settings import Settings
from personvern.store.models import DataSubjectRequest, DownloadLink, RequestArtifact
from tests.integration.responses.conftest import SECRET
from tests.unit.responses.sample import GENERATED, collected, write_wav

REQUEST_ID = "req_Q2xh9vY3pT"


def _soon() -> datetime:
    return datetime.now(UTC) + timedelta(hours=1)


def _link(app: FastAPI, request_id: str, name: str, expires_at: datetime) -> str:
    """A link as staff hand it out: a DownloadLink row and the token signed for it."""
    context: AppContext = app.state.context
    link_id = secrets.token_hex(16)
    with context.application.unit_of_work() as uow:
        if uow.session.get(DataSubjectRequest, request_id) is not None:
            uow.session.add(
                DownloadLink(
                    id=link_id,
                    request_id=request_id,
                    name=name,
                    created_by="api-token:1",
                    created_at=datetime.now(UTC),
                    expires_at=expires_at,
                    downloads=0,
                )
            )
    return sign(SECRET, link_id, request_id, name, expires_at)


def _add_request(app: FastAPI, artifacts: list[RequestArtifact]) -> None:
    context: AppContext = app.state.context
    with context.application.unit_of_work() as uow:
        uow.session.add(
            DataSubjectRequest(
                id=REQUEST_ID,
                type="access",
                state="completed",
                deadline=date(2025, 4, 3),
                language="nb",
                identities=[{"kind": "email", "value": "ase.odegard@example.no"}],
                subject_key="0" * 64,
                channel="web",
                created_by="subject",
            )
        )
        uow.session.flush()
        uow.session.add_all(artifacts)


@pytest.fixture
def delivered(
    app: FastAPI, client: TestClient, settings: Settings, example_datamap_path: Path, tmp_path: Path
) -> dict[str, bytes]:
    """Åse's answer written into the request's folder and recorded as artifacts."""
    folder = settings.home / "requests" / REQUEST_ID
    wav = tmp_path / "src" / "call-001.wav"
    write_wav(wav)
    datamap = load_datamap(example_datamap_path).datamap
    written = write_request_outputs(folder, datamap, collected(wav), now=GENERATED)
    _add_request(
        app,
        [
            RequestArtifact(
                request_id=REQUEST_ID,
                name=a.name,
                media_type=a.media_type,
                sha256=a.sha256,
                size=a.size,
                path=str(a.path.relative_to(folder)),
            )
            for a in written
        ],
    )
    receipt = build_receipt(collected(wav), written, completed_at=GENERATED)
    return {s["name"]: bytes.fromhex(s["sha256"]) for s in receipt["sent"]}


def test_a_valid_link_streams_the_file_as_sent(
    app: FastAPI, client: TestClient, delivered: dict[str, bytes]
) -> None:
    token = _link(app, REQUEST_ID, "export.zip", _soon())
    response = client.get(f"/api/v1/downloads/{token}")
    assert (200, "application/zip") == (response.status_code, response.headers["content-type"])
    assert delivered["export.zip"] == hashlib.sha256(response.content).digest()
    assert 'attachment; filename="export.zip"' == response.headers["content-disposition"]
    assert ("no-store", "no-referrer") == (
        response.headers["cache-control"],
        response.headers["referrer-policy"],
    )
    archive = zipfile.ZipFile(BytesIO(response.content))
    assert "files/telephony/call-001.wav" in archive.namelist()


def test_the_html_report_downloads_with_its_media_type(
    app: FastAPI, client: TestClient, delivered: dict[str, bytes]
) -> None:
    token = _link(app, REQUEST_ID, "access-report.html", _soon())
    response = client.get(f"/api/v1/downloads/{token}")
    assert (200, "text/html; charset=utf-8") == (
        response.status_code,
        response.headers["content-type"],
    )
    assert "Åse Ødegård" in response.text
    assert "sandbox" in response.headers["content-security-policy"]


def _problem(client: TestClient, token: str) -> tuple[int, str, str]:
    response = client.get(f"/api/v1/downloads/{token}")
    return (
        response.status_code,
        response.headers["content-type"],
        response.json()["title"],
    )


def test_an_expired_link_answers_410(
    app: FastAPI, client: TestClient, delivered: dict[str, bytes]
) -> None:
    token = _link(app, REQUEST_ID, "export.zip", datetime.now(UTC) - timedelta(seconds=1))
    assert (410, "application/problem+json", "Download link expired") == _problem(client, token)


def test_a_tampered_or_foreign_link_answers_403(
    app: FastAPI, client: TestClient, delivered: dict[str, bytes]
) -> None:
    genuine = _link(app, REQUEST_ID, "export.zip", _soon())
    other = _link(app, "req_someoneelse", "export.zip", _soon())
    tampered = other.split(".")[0] + "." + genuine.split(".")[1]
    assert (403, "application/problem+json", "Download link not valid") == _problem(
        client, tampered
    )
    foreign = sign("not-our-secret-0123456789abcdef", "lnk", REQUEST_ID, "export.zip", _soon())
    assert 403 == _problem(client, foreign)[0]
    assert 403 == _problem(client, "garbage")[0]


def test_a_genuine_link_to_a_file_the_request_lacks_answers_404(
    app: FastAPI, client: TestClient, delivered: dict[str, bytes]
) -> None:
    token = _link(app, REQUEST_ID, "access-report.pdf", _soon())
    assert (404, "application/problem+json", "File not found") == _problem(client, token)


def test_a_removed_file_answers_410(
    app: FastAPI, client: TestClient, delivered: dict[str, bytes], settings: Settings
) -> None:
    (settings.home / "requests" / REQUEST_ID / "export.zip").unlink()
    token = _link(app, REQUEST_ID, "export.zip", _soon())
    assert (410, "application/problem+json", "File no longer available") == _problem(client, token)


def test_an_artifact_pointing_outside_its_folder_is_never_served(
    app: FastAPI, client: TestClient, settings: Settings
) -> None:
    secret_file = settings.home / "personvern-secret.txt"
    secret_file.parent.mkdir(parents=True, exist_ok=True)
    secret_file.write_text("not for subjects")
    _add_request(
        app,
        [
            RequestArtifact(
                request_id=REQUEST_ID,
                name="escape.txt",
                media_type="text/plain",
                sha256="0" * 64,
                size=16,
                path="../../personvern-secret.txt",
            )
        ],
    )
    token = _link(app, REQUEST_ID, "escape.txt", _soon())
    assert 404 == _problem(client, token)[0]


def test_a_link_signed_with_our_key_but_never_handed_out_is_refused(
    client: TestClient, delivered: dict[str, bytes]
) -> None:
    # Signed correctly (a stolen key, or a link from before links were recorded), but no
    # member of staff issued it: it grants nothing.
    token = sign(SECRET, "0" * 32, REQUEST_ID, "export.zip", _soon())
    assert (403, "application/problem+json", "Download link not valid") == _problem(client, token)
