"""`/healthz`: public; reports the store and the data map."""

from __future__ import annotations

import gc
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from personvern.api.app import create_app
from personvern.settings import Settings
from personvern.store.migrate import head_revision


def test_healthz_reports_a_migrated_store_and_the_data_map(client: TestClient) -> None:
    response = client.get("/healthz")
    assert 200 == response.status_code
    assert {
        "status": "ok",
        "store": {"reachable": True, "revision": head_revision(), "head": head_revision()},
        "datamap": {"loaded": True, "error": None},
    } == response.json()


def test_the_server_migrates_the_embedded_store_on_start(
    settings: Settings, app: FastAPI, client: TestClient
) -> None:
    assert (settings.home / "personvern.db").is_file()
    assert head_revision() == app.state.context.migrated_to


def test_without_auto_migrate_healthz_says_the_store_needs_upgrading(
    settings: Settings, example_datamap_path: Path
) -> None:
    manual = settings.model_copy(update={"auto_migrate": False})
    with TestClient(create_app(manual, example_datamap_path)) as client:
        body = client.get("/healthz").json()
    assert ("degraded", None) == (body["status"], body["store"]["revision"])


def test_an_unreachable_store_is_503(settings: Settings, example_datamap_path: Path) -> None:
    remote = settings.model_copy(
        update={"database_url": "postgresql+psycopg://u@127.0.0.1:9/x?connect_timeout=2"}
    )
    with TestClient(create_app(remote, example_datamap_path)) as client:
        response = client.get("/healthz")
    assert 503 == response.status_code
    assert ("unavailable", False) == (
        response.json()["status"],
        response.json()["store"]["reachable"],
    )


def test_an_invalid_data_map_leaves_the_server_up_and_says_why(
    settings: Settings, tmp_path: Path
) -> None:
    broken = tmp_path / "personvern.yaml"
    broken.write_text("organization:\n  name: Acme\n  colour: blue\n", encoding="utf-8")
    with TestClient(create_app(settings, broken)) as client:
        health = client.get("/healthz")
        notice = client.get("/api/v1/notice", params={"lang": "nb"})
    assert (200, "degraded", False) == (
        health.status_code,
        health.json()["status"],
        health.json()["datamap"]["loaded"],
    )
    assert str(broken) in health.json()["datamap"]["error"]
    assert 503 == notice.status_code
    assert "application/problem+json" == notice.headers["content-type"]
    assert notice.json()["title"] == "Data map unavailable"
    # The public is told an incident id, never the server's files; /healthz says why.
    assert str(broken) not in notice.text
    assert f"incident {notice.json()['incident']}" in notice.json()["detail"]


def test_staff_are_told_why_the_data_map_is_unavailable(settings: Settings, tmp_path: Path) -> None:
    from personvern.domain.roles import Role
    from personvern.security.tokens import issue_token

    broken = tmp_path / "personvern.yaml"
    broken.write_text("organization:\n  name: Acme\n  colour: blue\n", encoding="utf-8")
    app = create_app(settings, broken)
    with TestClient(app) as client:
        with app.state.context.application.unit_of_work() as uow:
            token = issue_token(uow.session, name="dpo", role=Role.PRIVACY_OFFICER).token
        response = client.get("/api/v1/datamap", headers={"Authorization": f"Bearer {token}"})
    assert 503 == response.status_code
    assert response.json()["detail"].startswith(f"the data map did not load: {broken}:")


def test_a_missing_data_map_is_reported_too(settings: Settings, tmp_path: Path) -> None:
    with TestClient(create_app(settings, tmp_path / "nowhere.yaml")) as client:
        body = client.get("/healthz").json()
        response = client.get("/api/v1/cookies")
    # The same words as the command line's for a map that is not there.
    assert body["datamap"]["error"].startswith(
        f"no data map found (looked for {tmp_path / 'nowhere.yaml'})"
    )
    assert 503 == response.status_code


def test_livez_answers_while_the_store_is_unreachable(
    settings: Settings, example_datamap_path: Path
) -> None:
    # A store URL whose server does not exist: /healthz says 503, /livez stays alive.
    gone = settings.model_copy(
        update={
            "database_url": "postgresql+psycopg://nobody@127.0.0.1:1/none",
            "auto_migrate": False,
        }
    )
    with TestClient(create_app(gone, example_datamap_path)) as client:
        assert 503 == client.get("/healthz").status_code
        live = client.get("/livez")
    assert (200, {"status": "alive"}) == (live.status_code, live.json())


def test_what_start_up_built_is_kept_from_the_collector_while_serving(app: FastAPI) -> None:
    """A full collection under load would walk everything start-up built (p99 100 ms)."""
    assert 0 == gc.get_freeze_count()
    with TestClient(app) as client:
        assert 200 == client.get("/livez").status_code
        assert gc.get_freeze_count() > 0
    # Stopped: collectable again, so a process that starts many apps frees them.
    assert 0 == gc.get_freeze_count()
