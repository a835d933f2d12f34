"""The privacy centre: a person files a request in the browser's forms, proves the address
with the mailed code, and follows their requests; nothing personal lands in a URL."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.integration.intake.smtp import Inbox

ADDRESS = "kari.nordmann@example.no"


def token(client: TestClient, page: str) -> str:
    """The CSRF token of the form on ``page``."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(page).text)
    assert found, page
    return found.group(1)


def file(client: TestClient, request_type: str, **fields: str) -> object:
    page = f"/privacy/file/{request_type}"
    return client.post(
        page, data={"csrf_token": token(client, page), **fields}, follow_redirects=False
    )


def test_a_person_files_proves_and_follows_their_request(client: TestClient, inbox: Inbox) -> None:
    home = client.get("/privacy/", headers={"Accept-Language": "nb"})
    assert 200 == home.status_code
    assert "Be om innsyn" in home.text
    for request_type in ("access", "erasure", "rectification", "withdraw-consent"):
        assert 200 == client.get(f"/privacy/file/{request_type}").status_code

    filed = file(client, "access", email=ADDRESS)
    assert 303 == filed.status_code  # type: ignore[attr-defined]
    location = filed.headers["location"]  # type: ignore[attr-defined]
    request_id = location.rsplit("/", 1)[-1]
    assert f"/privacy/verify/{request_id}" == location
    assert "kari" not in location

    before = client.get("/privacy/status")
    assert request_id not in before.text, "nothing to see before the code"
    wrong = client.post(location, data={"csrf_token": token(client, location), "code": "000000"})
    assert 422 == wrong.status_code
    verified = client.post(
        location,
        data={"csrf_token": token(client, location), "code": inbox.last_code(ADDRESS)},
        follow_redirects=False,
    )
    assert (303, "/privacy/status") == (verified.status_code, verified.headers["location"])
    status = client.get("/privacy/status", headers={"Accept-Language": "en"})
    assert request_id in status.text
    assert "verified" in status.text


def test_a_bad_address_is_shown_on_the_form_and_nothing_is_filed(
    client: TestClient, inbox: Inbox
) -> None:
    refused = file(client, "erasure", email="not an address")
    assert 422 == refused.status_code  # type: ignore[attr-defined]
    assert 'role="alert"' in refused.text  # type: ignore[attr-defined]
    assert [] == inbox.messages


def test_forms_need_their_csrf_token_and_a_forged_proof_shows_nothing(
    client: TestClient, inbox: Inbox
) -> None:
    assert 403 == client.post("/privacy/file/access", data={"email": ADDRESS}).status_code
    client.cookies.set("personvern-subject", "someid.99999999999.deadbeef", path="/privacy")
    assert "someid" not in client.get("/privacy/status").text
    assert 404 == client.get("/privacy/file/no-such-right").status_code


def prove(client: TestClient, inbox: Inbox, request_type: str = "access") -> str:
    """File a request and enter its code; the request id."""
    filed = file(client, request_type, email=ADDRESS)
    location = filed.headers["location"]  # type: ignore[attr-defined]
    client.post(
        location,
        data={"csrf_token": token(client, location), "code": inbox.last_code(ADDRESS)},
    )
    return str(location.rsplit("/", 1)[-1])


def test_consent_is_given_and_withdrawn_with_one_click_on_the_same_page(
    client: TestClient, inbox: Inbox
) -> None:
    assert "marketing_newsletter" not in client.get("/privacy/consents").text
    prove(client, inbox)
    page = client.get("/privacy/consents", headers={"Accept-Language": "en"})
    assert 'value="marketing_newsletter"' in page.text
    assert "You have not given consent." in page.text

    def press(action: str) -> str:
        current = client.get("/privacy/consents", headers={"Accept-Language": "en"}).text
        section = current[current.index('value="marketing_newsletter"') :]
        version = re.search(r'name="version" value="([0-9a-f]+)"', section)
        assert version
        pressed = client.post(
            "/privacy/consents",
            data={
                "csrf_token": token(client, "/privacy/consents"),
                "purpose": "marketing_newsletter",
                "action": action,
                "version": version.group(1),
            },
            headers={"Accept-Language": "en"},
        )
        assert 200 == pressed.status_code
        return pressed.text

    given = press("granted")
    assert "You have given consent." in given
    assert 'value="withdrawn"' in given, "withdrawing is the same single button"
    withdrawn = press("withdrawn")
    assert "You have withdrawn consent." in withdrawn
