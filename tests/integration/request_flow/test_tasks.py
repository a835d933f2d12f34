"""What a run leaves to people, through the API: listed with the request, marked done with a note.

Before, a restriction ended ``completed`` having changed nothing, and the Art. 19
notifications of an erasure were a "to do" in the receipt that nobody could ever tick
off. Now they are tasks of the request: it ends ``partially_completed`` while any is
open, each is marked done by someone with a note, and the last one completes it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from personvern.demo import ground_truth
from personvern.domain.roles import Role
from personvern.housekeeping import sweep
from personvern.security.tokens import issue_token
from personvern.store.base import utcnow
from tests.integration.request_flow.staff import Staff, company, staff
from tests.support.company import Company

__all__ = ["company", "staff"]


def _customer(company: Company, index: int) -> str:
    """The e-mail of a customer with invoices (a dataset that declares no restriction)."""
    emails = [
        str(email)
        for customer_id, email, _phone in company.customers()[:30]
        if ground_truth(company.targets, customer_id)["billing.invoices"]
    ]
    return emails[index]


def _done(staff: Staff, request_id: str, task_id: int, note: str, **kw: Any) -> Any:
    return staff.client.post(
        f"/api/v1/requests/{request_id}/tasks/{task_id}/done",
        headers=kw.get("headers", staff.agent),
        json={"note": note},
    )


def _run(staff: Staff, request_id: str) -> dict[str, Any]:
    ran = staff.client.post(f"/api/v1/requests/{request_id}/run", headers=staff.agent)
    assert 202 == ran.status_code, ran.text
    return staff.wait(request_id)


def test_a_restriction_lists_its_tasks_and_completes_when_they_are_done(
    staff: Staff, company: Company
) -> None:
    request_id = staff.file("restriction", _customer(company, 0))
    finished = _run(staff, request_id)
    assert "partially_completed" == finished["state"]
    tasks = finished["tasks"]
    kinds = {task["key"]: task["kind"] for task in tasks}
    assert "manual_step" == kinds["billing.invoices"]
    assert "notify_recipient" == kinds["collection-agency"]
    assert "crm.customers" not in kinds  # restricted by personvern itself
    assert {("open", None, None)} == {(t["status"], t["done_by"], t["note"]) for t in tasks}
    assert finished["events"][-1]["message"].split("; ", 1)[1].startswith(f"{len(tasks)} tasks")
    first_completed = finished["completed_at"]

    *others, last = tasks
    for task in others:
        marked = _done(staff, request_id, task["id"], "Restricted in the billing system.\n")
        assert 200 == marked.status_code, marked.text
        assert "partially_completed" == marked.json()["state"]
    agent = f"api-token:{staff.agent_id}"
    body = _done(staff, request_id, last["id"], "Told them by e-mail, ref. 1234", headers=staff.dpo)
    assert 200 == body.status_code, body.text
    done = body.json()
    assert "completed" == done["state"]
    completed_at = datetime.fromisoformat(done["completed_at"])
    assert datetime.fromisoformat(first_completed) < completed_at
    assert ("all tasks done", f"api-token:{staff.dpo_id}") == (
        done["events"][-1]["message"],
        done["events"][-1]["actor"],
    )
    by = {task["id"]: (task["status"], task["done_by"], task["note"]) for task in done["tasks"]}
    assert ("done", agent, "Restricted in the billing system.") == by[others[0]["id"]]
    assert ("done", f"api-token:{staff.dpo_id}", "Told them by e-mail, ref. 1234") == by[last["id"]]
    assert f"task {last['id']} done: {last['kind']} {last['key']}" in [
        event["message"] for event in done["events"]
    ]
    # The receipt shows the status of each task it lists.
    receipt = done["receipt"]
    assert {"done"} == {e["status"] for e in receipt["notify_recipients"] + receipt["manual_steps"]}
    assert completed_at.replace(microsecond=0) == datetime.fromisoformat(receipt["completed_at"])

    again = _done(staff, request_id, last["id"], "once more")
    assert (409, "Task already done") == (again.status_code, again.json()["title"])
    assert again.json()["detail"].startswith(f"task {last['id']} of request {request_id} is")


def test_tasks_are_refused_with_a_bad_note_or_under_another_request(
    staff: Staff, company: Company
) -> None:
    request_id = staff.file("restriction", _customer(company, 1))
    task_id = _run(staff, request_id)["tasks"][0]["id"]
    other = staff.file("access", _customer(company, 1))

    assert 404 == _done(staff, other, task_id, "wrong request").status_code
    assert 404 == _done(staff, "0" * 32, task_id, "no request").status_code
    assert 404 == _done(staff, request_id, 2**31 - 1, "no such task").status_code
    assert 422 == _done(staff, request_id, 2**31, "too large an id").status_code
    hidden = _done(staff, request_id, task_id, "done\x1b]0;owned\x07")
    assert (422, "the note contains an ESC (escape) character, which is not allowed") == (
        hidden.status_code,
        hidden.json()["detail"],
    )
    assert 422 == _done(staff, request_id, task_id, "").status_code
    assert 422 == _done(staff, request_id, task_id, "   ").status_code
    assert 422 == _done(staff, request_id, task_id, "x" * 2001).status_code
    unknown = {"Authorization": "Bearer nope"}
    assert 401 == _done(staff, request_id, task_id, "who?", headers=unknown).status_code
    with staff.client.app.state.context.application.unit_of_work() as uow:  # type: ignore[attr-defined]
        auditor = issue_token(uow.session, name="auditor", role=Role.AUDITOR).token
    reading = _done(
        staff, request_id, task_id, "looked", headers={"Authorization": f"Bearer {auditor}"}
    )
    assert 403 == reading.status_code
    task = next(
        t
        for t in staff.client.get(f"/api/v1/requests/{request_id}", headers=staff.dpo).json()[
            "tasks"
        ]
        if t["id"] == task_id
    )
    assert ("open", None) == (task["status"], task["note"])


def test_an_erasures_art_19_tasks_appear_and_can_be_done(staff: Staff, company: Company) -> None:
    request_id = staff.file("erasure", _customer(company, 2))
    approved = staff.client.post(f"/api/v1/requests/{request_id}/approve", headers=staff.dpo)
    assert 200 == approved.status_code, approved.text
    finished = _run(staff, request_id)
    assert "partially_completed" == finished["state"]
    tasks = finished["tasks"]
    # Every system is connected here: only the recipients are left to tell.
    assert {"notify_recipient"} == {task["kind"] for task in tasks}
    assert "collection-agency" in {task["key"] for task in tasks}
    agency = next(t for t in tasks if t["key"] == "collection-agency")
    assert (
        "tell Debt collection agency (NO) of the erasure (Art. 19)",
        {"recipient": "collection-agency", "name": "Debt collection agency", "country": "NO"},
    ) == (
        agency["description"],
        {k: agency["details"][k] for k in ("recipient", "name", "country")},
    )
    entries = {e["recipient"]: e for e in finished["receipt"]["notify_recipients"]}
    assert ("open", agency["id"]) == (
        entries["collection-agency"]["status"],
        entries["collection-agency"]["task"],
    )

    assert finished["identities"]  # readable while the erasure is not complete
    for task in tasks:
        assert 200 == _done(staff, request_id, task["id"], "Sent the erasure notice").status_code
    url = f"/api/v1/requests/{request_id}"
    completed = staff.client.get(url, headers=staff.dpo).json()
    assert "completed" == completed["state"]
    # The address stays (sealed) for the letter confirming the erasure...
    assert ["email"] == [identity["kind"] for identity in completed["identities"]]
    # ...until the letter is sent or, unsent, PERSONVERN_ERASURE_LETTER_DAYS have passed.
    context = staff.client.app.state.context
    with context.application.unit_of_work() as uow:
        later = utcnow() + timedelta(days=context.settings.erasure_letter_days + 1)
        assert 1 == sweep(uow.session, context.settings, later).shredded_subjects
    done = staff.client.get(url, headers=staff.dpo).json()
    # Shredded, the subject's identities are unreadable.
    assert [] == done["identities"]
    assert done["verification_note"] is None
    # The plan (found records) went with the key; the receipt, the proof, stays.
    assert (True, None, {}) == (done["erased"], done["plan"], done["details"])
    assert "erasure" == done["receipt"]["request_type"]
    assert {f"api-token:{staff.agent_id}"} == {task["done_by"] for task in done["tasks"]}
