"""Who did what: runs are recorded as their requester, links as their creator, and four eyes.

Before, runs were recorded as done by ``engine``, nothing recorded who created a
download link, a link outlived the revocation of the token that created it, and one
agent could verify a requester and run an erasure alone.
"""

from __future__ import annotations

from personvern.domain.roles import Role
from personvern.security.tokens import issue_token, revoke_token
from tests.integration.request_flow.staff import Staff, company, staff
from tests.support.company import Company

__all__ = ["company", "staff"]


def events(staff: Staff, request_id: str) -> list[tuple[str, str]]:
    """(message, actor) of each step of the request's history."""
    body = staff.client.get(f"/api/v1/requests/{request_id}", headers=staff.dpo).json()
    return [(e["message"], e["actor"]) for e in body["events"]]


def test_an_erasure_verified_by_staff_needs_someone_else_to_approve_it(
    staff: Staff, company: Company
) -> None:
    email = str(company.customers()[0].email)
    request_id = staff.file("erasure", email)
    agent = f"api-token:{staff.agent_id}"
    dpo = f"api-token:{staff.dpo_id}"

    refused = staff.client.post(f"/api/v1/requests/{request_id}/run", headers=staff.agent)
    assert (409, "Approval needed") == (refused.status_code, refused.json()["title"])
    own = staff.client.post(f"/api/v1/requests/{request_id}/approve", headers=staff.agent)
    assert (403, f"{agent} filed or verified this request and cannot also approve it") == (
        own.status_code,
        own.json()["detail"],
    )

    approved = staff.client.post(f"/api/v1/requests/{request_id}/approve", headers=staff.dpo)
    assert 200 == approved.status_code, approved.text
    planned = {d["system"] + "." + d["dataset"]: d["delete"] for d in approved.json()["datasets"]}
    assert (
        202
        == staff.client.post(f"/api/v1/requests/{request_id}/run", headers=staff.agent).status_code
    )
    finished = staff.wait(request_id)
    assert finished["state"] in ("completed", "partially_completed")
    # The run executed exactly the plan that was approved.
    done = {d["system"] + "." + d["dataset"]: d["delete"] for d in finished["plan"]["datasets"]}
    assert planned == done

    history = events(staff, request_id)
    actors = {message.split(":")[0]: actor for message, actor in history}
    assert (dpo, agent, agent) == (
        actors["erasure plan approved"],
        actors["run requested"],
        actors["run started"],
    )
    assert "engine" not in {actor for _, actor in history}


def test_links_record_their_creator_and_die_with_the_creators_token(
    staff: Staff, company: Company
) -> None:
    email = str(company.customers()[1].email)
    request_id = staff.file("access", email)
    assert (
        202
        == staff.client.post(f"/api/v1/requests/{request_id}/run", headers=staff.agent).status_code
    )
    assert staff.wait(request_id)["state"] in ("completed", "partially_completed")

    agents = staff.client.get(f"/api/v1/requests/{request_id}/downloads", headers=staff.agent)
    dpos = staff.client.get(f"/api/v1/requests/{request_id}/downloads", headers=staff.dpo)
    agent_link = next(link["url"] for link in agents.json() if link["name"] == "export.zip")
    dpo_link = next(link["url"] for link in dpos.json() if link["name"] == "export.zip")
    assert 200 == staff.client.get(agent_link).status_code

    history = events(staff, request_id)
    issued = [actor for message, actor in history if "download links issued" in message]
    assert [f"api-token:{staff.agent_id}", f"api-token:{staff.dpo_id}"] == issued
    assert (
        f"export.zip downloaded through a link issued by api-token:{staff.agent_id}",
        "subject",
    ) in history

    # The agent leaves: revoking their token takes back the links they handed out.
    with staff.client.app.state.context.application.unit_of_work() as uow:  # type: ignore[attr-defined]
        revoke_token(uow.session, staff.agent_id)
    gone = staff.client.get(agent_link)
    assert (410, "this download link has been withdrawn") == (
        gone.status_code,
        gone.json()["detail"],
    )
    assert 200 == staff.client.get(dpo_link).status_code

    withdrawn = staff.client.post(
        f"/api/v1/requests/{request_id}/downloads/withdraw", headers=staff.dpo
    )
    # Every link issued is withdrawn (the agent's had died with their token already).
    assert {"withdrawn": len(agents.json()) + len(dpos.json())} == withdrawn.json()
    assert 410 == staff.client.get(dpo_link).status_code


def test_a_staff_verified_rectification_needs_someone_else_too(
    staff: Staff, company: Company
) -> None:
    # Changing the e-mail on file would send the next access answer to a new address: one
    # agent alone could hand a customer's data to themselves.
    email = str(company.customers()[3].email)
    filed = staff.client.post(
        "/api/v1/requests",
        headers=staff.agent,
        json={
            "type": "rectification",
            "identities": [{"kind": "email", "value": email}],
            "details": {"corrections": {"user.contact.email": "mallory@evil.example"}},
            "verification_method": "staff_known_contact",
            "verification_note": "called back",
        },
    ).json()
    refused = staff.client.post(f"/api/v1/requests/{filed['id']}/run", headers=staff.agent)
    assert (409, "Approval needed") == (refused.status_code, refused.json()["title"])
    own = staff.client.post(f"/api/v1/requests/{filed['id']}/approve", headers=staff.agent)
    assert 403 == own.status_code
    approved = staff.client.post(f"/api/v1/requests/{filed['id']}/approve", headers=staff.dpo)
    assert 200 == approved.status_code, approved.text
    run = staff.client.post(f"/api/v1/requests/{filed['id']}/run", headers=staff.agent)
    assert 202 == run.status_code
    assert staff.wait(filed["id"])["state"] in ("completed", "partially_completed")


def test_only_staff_who_may_act_issue_links_and_only_for_a_finished_answer(
    staff: Staff, company: Company
) -> None:
    request_id = staff.file("access", str(company.customers()[4].email))
    early = staff.client.get(f"/api/v1/requests/{request_id}/downloads", headers=staff.dpo)
    assert (409, "Answer cannot be sent") == (early.status_code, early.json()["title"])
    assert (
        202
        == staff.client.post(f"/api/v1/requests/{request_id}/run", headers=staff.dpo).status_code
    )
    staff.wait(request_id)
    with staff.client.app.state.context.application.unit_of_work() as uow:  # type: ignore[attr-defined]
        auditor = issue_token(uow.session, name="auditor", role=Role.AUDITOR).token
    # Read-only means read-only: an auditor sees the request but hands out nothing.
    refused = staff.client.get(
        f"/api/v1/requests/{request_id}/downloads", headers={"Authorization": f"Bearer {auditor}"}
    )
    assert 403 == refused.status_code
