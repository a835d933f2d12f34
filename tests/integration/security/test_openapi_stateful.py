"""Schemathesis' stateful run: walk a data subject request from filing to download.

The state machine Schemathesis builds from the schema's own links files a request,
follows the links to read its details and plan, approve it, run it, list its files and
download one (as a privacy officer), and walks every linked operation as an agent and
as an anonymous caller. Every answer must not be 5xx, must match the schema (status,
content type, body) and must not be 2xx where the role x permission matrix refuses the
caller. The run counts how far the scenarios got and fails if none reached a filing, a
run or a read. It is bounded and derandomised, on a fresh store per test.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.transport import Response
from schemathesis.generation.stateful.state_machine import APIStateMachine
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from personvern.api.app import create_app
from personvern.api.context import AppContext
from personvern.domain.requests.lifecycle import RequestState
from personvern.domain.roles import Role
from personvern.jobs.queue import InProcessJobs
from personvern.security.tokens import issue_token
from personvern.settings import Settings
from tests.conftest import EXAMPLE_DATAMAP
from tests.integration.intake.smtp import smtp_server
from tests.integration.security.test_route_permissions import rules

#: States of a request whose run has not stopped yet.
RUNNING = {RequestState.IN_PROGRESS}

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
#: Scenarios and steps per scenario: enough to reach a download, few enough for a
#: minute on two cores.
SETTINGS = hypothesis.settings(
    max_examples=25,
    stateful_step_count=10,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)

FILING = ("POST", "/api/v1/requests")
#: The way from filing to download: with every operation in the machine, a scenario of ten
#: steps seldom picks the run among the filing's dozen links (the stateless test and the
#: other callers' walks cover the rest).
WALK = (
    "POST /api/v1/requests",
    "GET /api/v1/requests/{request_id}",
    "GET /api/v1/requests/{request_id}/plan",
    "POST /api/v1/requests/{request_id}/approve",
    "POST /api/v1/requests/{request_id}/run",
    "GET /api/v1/requests/{request_id}/downloads",
    "GET /api/v1/downloads/{token}",
)
#: Where a scenario got: the operation and the status counted as reaching it.
MILESTONES = {
    "filed": ("POST", "/api/v1/requests", 201),
    "run": ("POST", "/api/v1/requests/{request_id}/run", 202),
    "details": ("GET", "/api/v1/requests/{request_id}", 200),
    "plan": ("GET", "/api/v1/requests/{request_id}/plan", 200),
    "listed": ("GET", "/api/v1/requests/{request_id}/downloads", 200),
    "downloaded": ("GET", "/api/v1/downloads/{token}", 200),
}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[FastAPI, dict[Role, str]]]:
    """The app on a fresh, migrated store with a real mail server, and a token per role."""
    with smtp_server() as inbox:
        settings = Settings(
            home=tmp_path / "home",
            database_url=None,
            datamap=None,
            # A subject's filing (no staff verification) is accepted only if its code can go.
            smtp_host=inbox.host,
            smtp_port=inbox.port,
            auth_failures_per_client=100_000,
            intake_codes_per_client=100_000,
        )
        app = create_app(settings, EXAMPLE_DATAMAP)
        with TestClient(app):  # start-up: migrations
            context: AppContext = app.state.context
            with context.application.unit_of_work() as uow:
                tokens = {
                    role: issue_token(uow.session, name=f"stateful {role}", role=role).token
                    for role in Role
                }
            yield app, tokens


#: Stand-ins in drawn filings, replaced by a new identity on each call (``_fresh``): the
#: store outlives a scenario, and Hypothesis replays draws, so a drawn identity would
#: file a duplicate the second time and the scenario would not go the same way.
FRESH_CUSTOMER = "C-fresh"
FRESH_ADDRESS = "fresh@example.com"
#: Filings the server accepts: staff's, identity checked (no mail), and a subject's
#: (a code is mailed). JSON Schema cannot say which strings are a valid phone number,
#: national identity number or e-mail address, so generated identities are nearly always
#: refused (422); these are drawn alongside them, so scenarios go on past the filing.
STAFF_FILINGS = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["access", "portability", "erasure"]),
        "identities": st.just([{"kind": "customer_id", "value": FRESH_CUSTOMER}]),
        "verification_method": st.sampled_from(
            ["staff_in_person", "staff_known_contact", "staff_id_document"]
        ),
        "verification_note": st.just("identity checked by the test"),
    }
)
SUBJECT_FILINGS = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["access", "portability", "erasure"]),
        "identities": st.just([{"kind": "email", "value": FRESH_ADDRESS}]),
    }
)


def _accepted_filings(
    caller: Role | None,
) -> Callable[[schemathesis.HookContext, st.SearchStrategy[Any]], st.SearchStrategy[Any]]:
    """A hook: filing bodies are the generated ones or ones the server accepts from ``caller``."""
    accepted = SUBJECT_FILINGS if caller is None else STAFF_FILINGS

    def before_generate_body(
        context: schemathesis.HookContext, strategy: st.SearchStrategy[Any]
    ) -> st.SearchStrategy[Any]:
        operation = context.operation
        if operation is None or (operation.method.upper(), operation.path) != FILING:
            return strategy
        # The accepted filing first: Hypothesis leans to the first branch, and most
        # scenarios should get a request to walk; the generated ones still go out.
        return st.one_of(accepted, strategy)

    return before_generate_body


def _fresh(body: Any, serial: int) -> Any:
    """``body`` with its stand-in identity replaced by one no earlier call used."""
    if not isinstance(body, dict) or not isinstance(body.get("identities"), list):
        return body
    fresh = {FRESH_CUSTOMER: f"C-{serial}", FRESH_ADDRESS: f"subject{serial}@example.com"}
    identities = [
        {**i, "value": fresh.get(str(i.get("value")), i.get("value"))} if isinstance(i, dict) else i
        for i in body["identities"]
    ]
    return {**body, "identities": identities}


def _wait_for_run(app: FastAPI, request_id: str, timeout: float = 30) -> None:
    """Wait until the queued run of ``request_id`` has been done.

    On the job itself, not on the request's state: the run is queued on a background
    thread, and until the thread takes it the request still reads ``verified``. Waiting
    on the state let a loaded machine's run go on during the scenario's next steps, so
    Hypothesis, checking a scenario again, saw the server answer differently.
    """
    context: AppContext = app.state.context
    jobs = context.application.jobs()
    assert isinstance(jobs, InProcessJobs), "the walk runs embedded, with in-process jobs"
    jobs.wait(request_id, timeout)
    with context.application.unit_of_work() as uow:
        state = uow.requests.get(request_id).state
    assert state not in RUNNING, f"the run of {request_id} is still {state} after its job"


def _walk(
    app: FastAPI, caller: Role | None, tokens: dict[Role, str], only: Sequence[str] = ()
) -> tuple[Counter[str], Counter[str]]:
    """Run the state machine as ``caller`` (None: anonymous), on ``only`` if given.

    Returns the milestones reached and the calls made (scenarios, steps, per status).
    """
    schema: BaseSchema = schemathesis.openapi.from_asgi(app.openapi_url or "", app)
    if only:
        schema = schema.include(name=list(only))
    schema.config.generation.update(modes=[schemathesis.GenerationMode.POSITIVE])
    # The schema's own links only: the walk tests what the schema documents, and links
    # Schemathesis infers (a listing's ids to every POST) spend the steps on made-up ids.
    schema.config.phases.stateful.inference.algorithms = []
    # On this schema object only, so the hook is scoped to this run.
    schema.hooks.register_hook_with_name(_accepted_filings(caller), "before_generate_body")
    reached: Counter[str] = Counter()
    calls: Counter[str] = Counter()
    by_call = {value: key for key, value in MILESTONES.items()}
    headers = {"Authorization": f"Bearer {tokens[caller]}"} if caller else {}
    matrix = {(rule.method, rule.path): rule for rule in rules(app)[0]}
    base: type[APIStateMachine] = schema.as_state_machine()

    class Walk(base):  # type: ignore[valid-type, misc]
        """The generated workflow, as one caller, checked with the conformance checks."""

        def setup(self) -> None:
            """Count the scenario."""
            calls["scenarios"] += 1

        def get_call_kwargs(self, case: schemathesis.Case[Any]) -> dict[str, Any]:
            """The caller's credentials on every call."""
            return {"headers": headers}

        def before_call(self, case: schemathesis.Case[Any]) -> None:
            """A filing's stand-in identity becomes a new one."""
            if (case.method.upper(), case.path) == FILING:
                calls["filings"] += 1
                case.body = _fresh(case.body, calls["filings"])

        def after_call(self, response: Response, case: schemathesis.Case[Any]) -> None:
            """Count the step and the milestone it reached."""
            super().after_call(response, case)
            calls["steps"] += 1
            calls[f"{case.method.upper()} {case.path} {response.status_code}"] += 1
            milestone = by_call.get((case.method.upper(), case.path, response.status_code))
            if milestone is not None:
                reached[milestone] += 1
            if milestone == "run":
                # The run is queued in-process; the scenario's next steps see its outcome
                # (a listing of its files) rather than racing it.
                _wait_for_run(app, case.path_parameters["request_id"])
            if 200 <= response.status_code < 300:
                rule = matrix[(case.method.upper(), case.path)]
                assert rule.admits(caller), f"{case.method} {case.path}: 2xx the matrix refuses"

        def validate_response(
            self, response: Response, case: schemathesis.Case[Any], **kwargs: Any
        ) -> None:
            """Only the conformance checks: the server must answer as its schema says."""
            case.validate_response(response, checks=CHECKS)

    Walk.run(settings=SETTINGS)
    return reached, calls


def test_a_privacy_officer_walks_a_request_from_filing_to_download(
    served: tuple[FastAPI, dict[Role, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    app, tokens = served
    reached, calls = _walk(app, Role.PRIVACY_OFFICER, tokens, WALK)
    with capsys.disabled():
        print(f"\nstateful as privacy_officer: {_summary(reached, calls)}")
    assert reached["filed"] > 0, "no generated filing was accepted"
    assert reached["run"] > 0, "no generated scenario ran a request"
    assert reached["details"] + reached["plan"] > 0, "no scenario read a request"
    # Listing and downloading files are counted, not asserted: whether a scenario lists
    # after its run depends on the order Hypothesis picks and on Schemathesis' link coin
    # (true random), so a run without them is not a failure.


@pytest.mark.parametrize("caller", [Role.AGENT, None], ids=["agent", "anonymous"])
def test_an_agent_and_an_anonymous_caller_walk_as_far_as_the_matrix_allows(
    served: tuple[FastAPI, dict[Role, str]],
    caller: Role | None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    app, tokens = served
    reached, calls = _walk(app, caller, tokens)
    with capsys.disabled():
        print(f"\nstateful as {caller or 'anonymous'}: {_summary(reached, calls)}")
    # Anyone may file (a subject's filing mails a code), so every caller gets that far.
    assert reached["filed"] > 0, "no generated filing was accepted"
    assert calls["steps"] > calls["scenarios"], "no scenario went past its first step"


def _summary(reached: Counter[str], calls: Counter[str]) -> str:
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(calls.items()) if " " in k)
    return (
        f"{calls['scenarios']} scenarios, {calls['steps']} steps; reached "
        + ", ".join(f"{name} {reached[name]}" for name in MILESTONES)
        + f"\n  {statuses}"
    )
