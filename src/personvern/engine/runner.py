"""Run a data subject request: search, plan, act, deliver, and leave a receipt.

A run is safe to repeat. Access and portability change nothing in the company's
systems, so a repeated run simply searches again. Erasure and the other changing
requests execute the plan stored by the first run, one system at a time, each in one
transaction, and record each system as done; a run that dies half-way (a killed
worker) resumes with the systems not yet recorded, and a system that was changed but
not recorded is changed again with no effect, because the plan names the same rows.

What a run cannot do itself it leaves as tasks of the request: telling the recipients
of an erasure, rectification or restriction (Art. 19), restricting records where the
data map declares no restriction field, working in a system that could not be
searched, checking files the request covers that no owner rule attributes to anyone.
With any task open the request ends ``partially_completed``; the last task marked done
(personvern.intake.tasks) completes it.

An erasure works through the systems children first, as within a system: the files a
row names (``files.owner.column``) are deleted before the row, so a run that dies
between the two leaves a row naming a deleted file, which the resumed run, following
the stored plan, then deletes. The receipt says where rows and files end apart for good
(a row kept under a legal hold whose file was erased, a row naming a missing file).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, assert_never

from personvern.connectors.files_attribution import unattributed_files
from personvern.connectors.port import (
    Connector,
    ConnectorDataError,
    ConnectorError,
    ConnectorNotConfiguredError,
    ConnectorUnavailableError,
    ErasureStep,
    Redaction,
)
from personvern.connectors.registry import ConnectorPool, connector_for
from personvern.domain.datamap import DataMap, ErasureStrategy, IdentityKind, RestrictionMark
from personvern.domain.envelope import EncryptionError
from personvern.domain.identities.kinds import SPELLED
from personvern.domain.requests.collected import CollectedData
from personvern.domain.requests.dataset_plan import DatasetPlan
from personvern.domain.requests.file_coverage import concerned_file_datasets
from personvern.domain.requests.handlers import RequestHandler, RunWrite, handler_for
from personvern.domain.requests.identity import (
    InvalidIdentityError,
    SubjectIdentity,
    parse_identity,
)
from personvern.domain.requests.lifecycle import (
    RequestState,
    RequestType,
    VerificationMethod,
    waiting_message,
)
from personvern.domain.requests.request_plan import (
    RequestPlan,
    UnknownPlanVersionError,
    build_plan,
)
from personvern.domain.requests.restriction import restriction_value
from personvern.domain.requests.review import (
    Candidate,
    CandidateKind,
    Review,
    leave_out,
    left_out_steps,
)
from personvern.domain.requests.subject_graph import SubjectGraph
from personvern.domain.requests.tasks import (
    TaskKind,
    TaskStatus,
    open_tasks_text,
    planned_tasks,
)
from personvern.domain.text_input import UnsafeTextError
from personvern.engine.mention_index import StoredMentionIndex
from personvern.engine.search import SearchResult, search_subject
from personvern.intake.approval import check_may_run
from personvern.security.pseudonym import pseudonymiser
from personvern.settings import Settings
from personvern.store.encryption.files import open_answer_file, seal_answer
from personvern.store.errors import RecordNotFoundError
from personvern.store.models import DataSubjectRequest, RequestTask
from personvern.store.requests import RequestRepository
from personvern.store.unit_of_work import UnitOfWorkFactory

if TYPE_CHECKING:
    from personvern.responses.access_report import AccessReport
    from personvern.responses.writer import PdfRenderer, Sealer, WrittenArtifact
    from personvern.store.encryption.vault import KeyCache

log = logging.getLogger(__name__)

#: How long a request waits before it tries an unreachable system again.
RETRY_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class WrittenAnswer:
    """An answer's files as written, with the data and the report they were made from."""

    collected: CollectedData
    files: tuple[WrittenArtifact, ...]
    generated_at: datetime
    #: The report the HTML edition shows; the PDF edition, made after the run, shows it too.
    report: AccessReport | None = None


@dataclass(frozen=True)
class RunOutcome:
    """Where a run left the request."""

    request_id: str
    state: RequestState
    plan: RequestPlan | None
    message: str


class RunObserver(Protocol):
    """Told where a run is, step by step (a test that kills a worker mid-run listens)."""

    def step_done(self, request_id: str, step: str) -> None:
        """The step's work is committed in the company's systems, not yet recorded."""

    def step_recorded(self, request_id: str, step: str) -> None:
        """The step is recorded as done: a resumed run skips it."""


class RequestEngine:
    """Searches, plans and runs requests against the systems of one data map."""

    def __init__(
        self,
        *,
        settings: Settings,
        datamap: DataMap,
        unit_of_work: UnitOfWorkFactory,
        environ: Mapping[str, str] | None = None,
        today: Callable[[], date] | None = None,
        actor: str = "engine",
        pool: ConnectorPool | None = None,
        observer: RunObserver | None = None,
        render_pdf: PdfRenderer | None = None,
    ) -> None:
        self.settings = settings
        self.datamap = datamap
        #: Each call opens one transaction on personvern's store.
        self.unit_of_work = unit_of_work
        self.environ = os.environ if environ is None else environ
        self.today = today or (lambda: datetime.now(UTC).date())
        #: Who the engine's steps are recorded as when a request names nobody who asked
        #: for its run (see ``_actor``).
        self.actor = actor
        self._actors: dict[str, str] = {}
        self.graph = SubjectGraph.from_datamap(datamap)
        self.pool = pool
        #: Statements (queries, calls) the connectors issued for this engine's work.
        self.statements = 0
        #: Told of every step a run does (tests stop runs at known points with it).
        self.observer = observer
        #: Lays out PDF reports (None: in this thread; a server's job runner hands it on).
        self.render_pdf = render_pdf
        #: Access answers whose PDF edition is still to be made, by request.
        self._pdf_due: dict[str, tuple[DataSubjectRequest, WrittenAnswer]] = {}

    def _actor(self, request_id: str) -> str:
        return self._actors.get(request_id, self.actor)

    # -- connections ---------------------------------------------------------------

    @contextmanager
    def connectors(self) -> Iterator[tuple[dict[str, Connector], dict[str, str]]]:
        """Open a connector per connected system; systems not configured are listed aside."""
        opened: dict[str, Connector] = {}
        missing: dict[str, str] = {}
        issued: dict[str, int] = {}
        try:
            for system in self.datamap.systems:
                if not system.kind.needs_connection or not system.datasets:
                    continue
                try:
                    connector = (
                        self.pool.get(system, self.environ)
                        if self.pool is not None
                        else connector_for(system, self.environ)
                    )
                except ConnectorNotConfiguredError as exc:
                    missing[system.key] = exc.message
                    continue
                # No check() round trip first: a system that is down fails its first
                # query with ConnectorUnavailableError, and the request waits from there.
                opened[system.key] = connector
                issued[system.key] = _issued(connector)
            yield opened, missing
        finally:
            for key, connector in opened.items():
                self.statements += _issued(connector) - issued[key]
                if self.pool is None:
                    connector.close()

    # -- planning ------------------------------------------------------------------

    def _identities(self, request: DataSubjectRequest) -> list[SubjectIdentity]:
        country = self.datamap.organization.controllers[0].country
        return [parse_identity(i["kind"], i["value"], country=country) for i in request.identities]

    def _search_identities(self, request: DataSubjectRequest) -> list[SubjectIdentity]:
        """The identities a search may start from: only what was proven.

        A code mailed to an address proves that address and nothing else. Anyone could
        add a stranger's phone number next to their own e-mail; starting from it would
        answer with the stranger's data. So such a request searches from the verified
        address alone, and reaches the subject's other identities through their records.
        """
        from personvern.intake.verification import verification_address

        identities = self._identities(request)
        if request.verification_method != VerificationMethod.EMAIL_CODE.value:
            return identities
        proven = verification_address(request)
        return [i for i in identities if i.kind is IdentityKind.EMAIL and i.value == proven]

    def _search(
        self, request: DataSubjectRequest, connectors: Mapping[str, Connector]
    ) -> SearchResult:
        country = self.datamap.organization.controllers[0].country
        return search_subject(
            self.graph,
            self._search_identities(request),
            connectors,
            country=country,
            review=Review.from_json(request.review),
            mention_index=StoredMentionIndex(
                self.unit_of_work, self.settings.secret(), self.datamap
            ),
        )

    def _with_review(self, request: DataSubjectRequest, plan: RequestPlan) -> RequestPlan:
        """``plan`` without the unreadable records a review left out, each a manual step."""
        review = Review.from_json(request.review)
        left = review.left_out()
        steps = [
            step
            for step in left_out_steps(review, plan.request_type)
            if step.key not in {s.key for s in plan.manual_steps}
        ]
        if not left and not steps:
            return plan
        return replace(
            plan,
            datasets=tuple(leave_out(d, left.get(d.name, frozenset())) for d in plan.datasets),
            manual_steps=plan.manual_steps + tuple(steps),
        )

    def _unattributed(
        self, request_type: RequestType, result: SearchResult, connectors: Mapping[str, Connector]
    ) -> dict[str, int]:
        """How many files nobody owns in each files dataset the request covers."""
        covered = concerned_file_datasets(request_type, self.graph, result.walk, self.datamap)
        if not covered:
            return {}
        return unattributed_files(self.datamap, connectors, covered)

    def dry_run(self, request_id: str) -> RequestPlan:
        """What a run would do now, computed without changing anything anywhere."""
        return self.preview(request_id)[0]

    def preview(self, request_id: str) -> tuple[RequestPlan, CollectedData]:
        """The plan a run would follow now, and what it found (to decide who answers)."""
        from personvern.engine.delivery import collect

        with self.unit_of_work() as uow:
            request = uow.requests.get(request_id)
            uow.session.expunge(request)
        with self.connectors() as (connectors, missing):
            result = self._search(request, connectors)
            unattributed = self._unattributed(RequestType(request.type), result, connectors)
        plan = build_plan(
            RequestType(request.type),
            self.graph,
            result.walk,
            self.datamap,
            self.today(),
            details=request.details,
            unavailable=missing,
            unattributed=unattributed,
        )
        plan = self._with_review(request, plan)
        # No connectors: only the records, never the files, are needed to decide.
        found = collect(request, self._identities(request), plan, result.walk, {}, self.datamap)
        return plan, found

    # -- running -------------------------------------------------------------------

    def run(self, request_id: str) -> RunOutcome:
        """Run the request to completion, or to the point where it must wait or be reviewed."""
        with self.unit_of_work() as uow:
            repo = uow.requests
            request = repo.get(request_id)
            resumed = request.state is RequestState.IN_PROGRESS
            # Refused here, before anything is recorded, unless the request may run.
            started = request.lifecycle.start_run()
            check_may_run(request, self.settings)
            # Every step of the run is recorded as done for whoever asked for it.
            actor = self._actors[request_id] = request.run_requested_by or self.actor
            request.attempts += 1
            if resumed:
                # A run that died (a killed worker) is picked up again: say so in the history.
                repo.add_event(request, "run resumed", actor)
            else:
                repo.transition(request, started, "run started", actor)
            uow.session.flush()
            uow.session.expunge(request)
        try:
            with self.connectors() as (connectors, missing):
                return self._run(request, connectors, missing)
        except ConnectorUnavailableError as exc:
            return self._wait(request_id, exc)
        except ConnectorError as exc:
            # Not a passing outage: the data map and the system disagree, or a record
            # cannot be read (ConnectorDataError), and a person must fix one of them
            # before the request can go on. A record named by its key is a candidate a
            # person may exclude (personvern.domain.requests.review).
            return self._stop_for_review(
                request_id, exc.message, candidates=self._unreadable_candidates(exc)
            )
        except UnknownPlanVersionError as exc:
            return self._stop_for_review(
                request_id, f"{exc.message}, and part of it was already carried out"
            )
        except (InvalidIdentityError, UnsafeTextError) as exc:
            # Filed under older rules (an address now over the RFC 5321 limits, a control
            # character): every run would fail alike, so a person decides.
            return self._stop_for_review(
                request_id, f"an identity of the request fails today's checks: {exc.message}"
            )

    def _wait(self, request_id: str, exc: ConnectorUnavailableError) -> RunOutcome:
        with self.unit_of_work() as uow:
            repo = uow.requests
            request = repo.get(request_id)
            request.last_error = exc.message
            request.next_attempt_at = datetime.now(UTC) + RETRY_AFTER
            repo.transition(
                request,
                request.lifecycle.wait_for(exc.system),
                waiting_message(exc.system),
                self._actor(request_id),
            )
        log.warning("request %s waits for %s", request_id, exc.system)
        return RunOutcome(request_id, RequestState.WAITING_FOR_SYSTEM, None, exc.message)

    def _run(
        self,
        request: DataSubjectRequest,
        connectors: Mapping[str, Connector],
        missing: Mapping[str, str],
    ) -> RunOutcome:
        request_type = RequestType(request.type)
        handler = handler_for(request_type)
        # Access and portability change nothing, so they always search afresh.
        stored = self._stored_plan(request) if handler.changes_data else None
        result: SearchResult | None = None
        if handler.changes_data and stored is not None and not stored.conflicts:
            # Resume: the first run's plan is the contract; searching again would miss
            # the rows a crashed run had already erased and report them as never found.
            # A system it can no longer connect to becomes a manual step, not a silent skip.
            plan = self._with_review(request, stored.with_unavailable(missing, self.datamap))
        else:
            result = self._search(request, connectors)
            plan = build_plan(
                request_type,
                self.graph,
                result.walk,
                self.datamap,
                self.today(),
                details=request.details,
                unavailable=missing,
                unattributed=self._unattributed(request_type, result, connectors),
            )
            if plan.conflicts:
                return self._review(request.id, plan)
            plan = self._with_review(request, plan)
            if handler.changes_data:
                # The plan a resumed run carries out: stored before the first write. A
                # run that changes nothing searches afresh when resumed, so its plan is
                # stored with the final state (_finish), one transaction fewer.
                with self.unit_of_work() as uow:
                    repo = uow.requests
                    repo.save_plan(repo.get(request.id), plan.to_json())

        outcomes: dict[str, Any] = {}
        collected: CollectedData | None = None
        answer: WrittenAnswer | None = None
        if handler.hands_over:
            assert result is not None
            collected = self._collect(request, plan, result, connectors)
            answer = self._write_answer(request, collected)
        elif result is not None:
            # The letter confirming an erasure (or other change) goes to the same person
            # from the same company in the same language as an access answer would.
            from personvern.engine.delivery import collect

            self.settle_answer(
                request.id,
                collect(request, self._identities(request), plan, result.walk, {}, self.datamap),
            )
        if handler.writes is not None:
            outcomes = self._write(handler.writes, request.id, plan, connectors)
        if handler.flag_kind is not None:
            self._flag(request, plan, result, handler)
        finished = self._finish(request.id, plan, outcomes, answer=answer)
        if answer is not None and handler.report_pdf_after_run:
            # The subject's answer is complete without it; the PDF edition of the report
            # takes longer than everything before it, so it is left for after the run
            # (deliver_report_pdf), off the request's critical path.
            self._pdf_due[request.id] = (request, answer)
        return finished

    def _write(
        self,
        write: RunWrite,
        request_id: str,
        plan: RequestPlan,
        connectors: Mapping[str, Connector],
    ) -> dict[str, Any]:
        """Do the plan's writes of kind ``write`` in the company's systems, step by step."""
        match write:
            case RunWrite.ERASE:
                return self._erase(request_id, plan, connectors)
            case RunWrite.RECTIFY:
                return self._rectify(request_id, plan, connectors)
            case RunWrite.STOP_PROCESSING:
                return self._stop_marketing(request_id, plan, connectors)
            case RunWrite.RESTRICT:
                return self._restrict(request_id, plan, connectors)
            case _:
                assert_never(write)

    def _stored_plan(self, request: DataSubjectRequest) -> RequestPlan | None:
        """The plan a resumed run carries out, or None to plan afresh.

        A plan of a version this personvern does not know is planned afresh while none of
        its steps is recorded as done. Once one is, neither carrying on with a plan it
        cannot read nor a new plan is safe (a new search misses what was already erased),
        so the run refuses with UnknownPlanVersionError and a person decides.
        """
        if not request.plan:
            return None
        try:
            return RequestPlan.from_json(request.plan)
        except UnknownPlanVersionError as exc:
            with self.unit_of_work() as uow:
                repo = uow.requests
                if repo.steps_done(request.id):
                    raise
                repo.add_event(
                    repo.get(request.id),
                    f"{exc.message}; nothing of it was done, so the request is planned afresh",
                    self._actor(request.id),
                )
            return None

    def deliver_report_pdf(self, request_id: str) -> bool:
        """Render the PDF edition of a run's access report, if this engine's run left one due.

        The job runners call it right after a run; whether it was made is in the
        receipt's files. Returns whether a PDF was rendered.
        """
        due = self._pdf_due.pop(request_id, None)
        if due is None:
            return False
        self._deliver_pdf(*due)
        return True

    def run_and_deliver(
        self, request_id: str, *, ended: Callable[[str], None] | None = None
    ) -> RunOutcome:
        """Run the request, then render what its answer left for after the run.

        ``ended`` is told the request's id once the run's final state is committed (or
        the run failed), before the rendering: whoever waits for the run need not wait
        for the PDF.
        """
        try:
            outcome = self.run(request_id)
        finally:
            if ended is not None:
                ended(request_id)
        self.deliver_report_pdf(request_id)
        return outcome

    def hold_for_review(self, request_id: str, plan: RequestPlan, actor: str) -> bool:
        """Send a verified request whose ``plan`` has conflicts to review, unrun.

        An erasure that waits for a second person's approval cannot run, and a plan
        with conflicts cannot be approved: the approver sends it to review instead.
        Returns whether it was sent (not for a request in any other state).
        """
        with self.unit_of_work() as uow:
            state = uow.requests.get(request_id).state
        if not plan.conflicts or state is not RequestState.VERIFIED:
            return False
        self._actors[request_id] = actor
        self._review(request_id, plan)
        return True

    def _review(self, request_id: str, plan: RequestPlan) -> RunOutcome:
        candidates = [
            Candidate(dataset, key) for dataset, keys in plan.candidates.items() for key in keys
        ]
        message = (
            "the identities given point at different people in "
            + ", ".join(plan.conflicts)
            + "; a privacy officer must decide which person the request is about: "
            + "attach or exclude "
            + ", ".join(c.record for c in candidates)
        )
        return self._stop_for_review(request_id, message, plan, candidates)

    def _unreadable_candidates(self, exc: ConnectorError) -> list[Candidate]:
        """The records an unreadable-record error names, as candidates to exclude.

        Keys that are contact details are shown masked and cannot name the record: the
        record is then fixed, and the review resolved with a reason alone.
        """
        if not isinstance(exc, ConnectorDataError) or not exc.dataset:
            return []
        name = f"{exc.system}.{exc.dataset}"
        try:
            node = self.graph.node(name)
        except KeyError:
            return []
        if node.identities.get(node.key_field) in SPELLED:
            return []
        return [Candidate(name, key, CandidateKind.UNREADABLE) for key in exc.keys]

    def _stop_for_review(
        self,
        request_id: str,
        message: str,
        plan: RequestPlan | None = None,
        candidates: Sequence[Candidate] = (),
    ) -> RunOutcome:
        with self.unit_of_work() as uow:
            repo = uow.requests
            request = repo.get(request_id)
            if plan is not None:
                repo.save_plan(request, plan.to_json())
            # The records to decide on; decisions made in earlier reviews stand.
            request.review = Review.from_json(request.review).opened(candidates).to_json()
            request.last_error = message
            repo.transition(
                request, request.lifecycle.stop_for_review(), message, self._actor(request_id)
            )
        log.warning("request %s needs review: %s", request_id, message)
        return RunOutcome(request_id, RequestState.NEEDS_REVIEW, plan, message)

    def _once(self, request_id: str, step: str, action: Callable[[], dict[str, Any]]) -> Any:
        with self.unit_of_work() as uow:
            done = uow.requests.step(request_id, step)
        if done is not None:
            return done
        outcome = action()
        if self.observer is not None:
            self.observer.step_done(request_id, step)
        with self.unit_of_work() as uow:
            uow.requests.record_step(request_id, step, outcome)
        if self.observer is not None:
            self.observer.step_recorded(request_id, step)
        return outcome

    def erasure_order(self, plan: RequestPlan) -> list[str]:
        """The systems of ``plan`` in the order an erasure works through them.

        Children first, as within a system: the files a row names go before the row, so
        the row (found again by the plan) is never gone while its file stays.
        """
        order = [node.name for node in self.graph.children_first()]
        return sorted(
            plan.systems(),
            key=lambda s: min(order.index(d.name) for d in plan.datasets if d.system == s),
        )

    def _erase(
        self, request_id: str, plan: RequestPlan, connectors: Mapping[str, Connector]
    ) -> dict[str, Any]:
        pseudonymise = pseudonymiser(self.settings.secret().encode())
        order = [node.name for node in self.graph.children_first()]
        outcomes: dict[str, Any] = {}
        for system in self.erasure_order(plan):
            if system not in connectors:
                continue
            parts = sorted(
                (d for d in plan.datasets if d.system == system and d.changes),
                key=lambda d: order.index(d.name),
            )
            steps = [_erasure_step(d, plan.needles) for d in parts]
            if not steps:
                continue

            def act(system: str = system, steps: list[ErasureStep] = steps) -> dict[str, Any]:
                done = connectors[system].erase(steps, pseudonymise)
                return {
                    o.dataset: {"deleted": o.deleted, "updated": o.updated, "redacted": o.redacted}
                    for o in done
                }

            outcomes[system] = self._once(request_id, f"erase:{system}", act)
        return outcomes

    def _rectify(
        self, request_id: str, plan: RequestPlan, connectors: Mapping[str, Connector]
    ) -> dict[str, Any]:
        outcomes: dict[str, Any] = {}
        for part in plan.datasets:
            if not part.rectify or part.system not in connectors:
                continue

            def act(part: DatasetPlan = part) -> dict[str, Any]:
                changed = connectors[part.system].rectify(
                    part.dataset, part.rectify, part.rectify_changes
                )
                return {"updated": changed, "fields": sorted(part.rectify_changes)}

            outcomes[part.name] = self._once(request_id, f"rectify:{part.name}", act)
        return outcomes

    def _stop_marketing(
        self, request_id: str, plan: RequestPlan, connectors: Mapping[str, Connector]
    ) -> dict[str, Any]:
        outcomes: dict[str, Any] = {}
        now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        for part in plan.datasets:
            if not part.stop_marketing or not part.stop_field or part.system not in connectors:
                continue

            def act(part: DatasetPlan = part) -> dict[str, Any]:
                assert part.stop_field is not None
                changed = connectors[part.system].rectify(
                    part.dataset, part.stop_marketing, {part.stop_field: now}
                )
                return {"stopped": changed, "field": part.stop_field}

            outcomes[part.name] = self._once(request_id, f"stop:{part.name}", act)
        return outcomes

    def _restrict(
        self, request_id: str, plan: RequestPlan, connectors: Mapping[str, Connector]
    ) -> dict[str, Any]:
        """Mark the subject's records restricted where the data map says how (Art. 18)."""
        outcomes: dict[str, Any] = {}
        now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        for part in plan.datasets:
            if not part.restrict or not part.restrict_field or part.system not in connectors:
                continue

            def act(part: DatasetPlan = part) -> dict[str, Any]:
                assert part.restrict_field is not None
                value = restriction_value(part.restrict_mark or RestrictionMark.TIMESTAMP, now)
                changed = connectors[part.system].rectify(
                    part.dataset, part.restrict, {part.restrict_field: value}
                )
                return {"restricted": changed, "field": part.restrict_field}

            outcomes[part.name] = self._once(request_id, f"restrict:{part.name}", act)
        return outcomes

    def _flag(
        self,
        request: DataSubjectRequest,
        plan: RequestPlan,
        result: SearchResult | None,
        handler: RequestHandler,
    ) -> None:
        """Record the handler's flag for every identity proven or found, per purpose."""
        from personvern.security.subject_hash import identity_hash

        kind = handler.flag_kind
        assert kind is not None  # only handlers with a flag record one
        # Only what was proven, and what was found through it: a public request must not
        # restrict or unsubscribe a stranger whose phone number it merely named.
        identities: set[tuple[str, str]] = {
            (i.kind.value, i.value) for i in self._search_identities(request)
        }
        if result is not None:
            for found_kind, values in result.walk.harvested().items():
                identities |= {(found_kind.value, value) for value in values}
        purposes = list(request.details.get("purposes") or [None])
        secret = self.settings.secret()
        with self.unit_of_work() as uow:
            repo = uow.requests
            if repo.step(request.id, "flags") is not None:
                return
            for identity_kind, value in sorted(identities):
                hashed = identity_hash(secret, identity_kind, value)
                for purpose in purposes:
                    repo.add_flag(kind, identity_kind, hashed, purpose, request.id)
            repo.record_step(request.id, "flags", {"flags": len(identities) * len(purposes)})

    def _collect(
        self,
        request: DataSubjectRequest,
        plan: RequestPlan,
        result: SearchResult,
        connectors: Mapping[str, Connector],
    ) -> CollectedData:
        from personvern.engine.delivery import collect

        collected = collect(
            request, self._identities(request), plan, result.walk, connectors, self.datamap
        )
        request.language = collected.language
        return collected

    def settle_answer(self, request_id: str, collected: CollectedData) -> None:
        """Record who answers the request, in which language and why (from its records).

        Stored on the request, the language is also that of the mails that follow (the
        answer, a letter, an extension notice), and the profile goes into the receipt.
        """
        with self.unit_of_work() as uow:
            self._settle(uow.requests, uow.requests.get(request_id), collected)

    def _settle(
        self, repo: RequestRepository, stored: DataSubjectRequest, collected: CollectedData
    ) -> None:
        """``settle_answer`` inside a transaction the caller has open."""
        from personvern.engine.delivery import answer_note
        from personvern.responses.receipt import answer_summary

        stored.language = collected.language
        if collected.profile is not None:
            stored.answer_profile = answer_summary(collected.profile)
        repo.add_event(stored, answer_note(collected), self._actor(stored.id))

    def _answer_sealer(self, request_id: str, subject_key: str) -> Sealer | None:
        """What seals the request's answer files under the subject's key (None: no vault).

        The vault is the store sessions'; the unit of work opened to find it runs no
        statement, so it takes no lock. Unwrapped keys are kept only while one answer is
        written.
        """
        with self.unit_of_work() as uow:
            vault = uow.vault
        if vault is None:
            return None
        found = vault
        cache: KeyCache = {}

        def seal(name: str, plain: bytes) -> bytes:
            return seal_answer(found, subject_key, request_id, name, plain, cache)

        return seal

    def _write_answer(self, request: DataSubjectRequest, collected: CollectedData) -> WrittenAnswer:
        """Write the answer's files (the PDF edition comes later), outside any transaction.

        With a vault, each file is sealed under the subject's key before it is written
        (hashed in plain: the receipt's hash is of what the subject gets), so it is
        written once and never lies on disk in plain. Written before the transaction
        that records them, so no store lock is held while they are made; a run that dies
        in between leaves files the resumed run writes anew.
        """
        from personvern.engine.delivery import deliver
        from personvern.responses.writer import compose_report

        generated_at = datetime.now(UTC)
        report = compose_report(self.datamap, collected, generated_at)
        files = deliver(
            self.request_folder(request.id),
            self.datamap,
            collected,
            self._answer_sealer(request.id, request.subject_key),
            report=report,
            now=generated_at,
        )
        return WrittenAnswer(collected, tuple(files), generated_at, report)

    def _record_answer(
        self, repo: RequestRepository, request_id: str, written: Sequence[WrittenArtifact]
    ) -> list[dict[str, Any]]:
        """Record the written files as the request's artifacts; the receipt's entries."""
        folder = self.request_folder(request_id)
        for item in written:
            repo.add_artifact(
                request_id,
                item.name,
                item.media_type,
                item.sha256,
                item.size,
                str(item.path.relative_to(folder)),
                sealed=item.sealed,
            )
        return [
            {"name": w.name, "media_type": w.media_type, "sha256": w.sha256, "size": w.size}
            for w in written
        ]

    def _deliver_pdf(self, request: DataSubjectRequest, answer: WrittenAnswer) -> None:
        """Render the PDF report after completion and add it to the receipt's files."""
        from personvern.engine.delivery import deliver_pdf

        collected = answer.collected
        written = deliver_pdf(
            self.request_folder(request.id),
            self.datamap,
            collected,
            self._answer_sealer(request.id, request.subject_key),
            self.render_pdf,
            report=answer.report,
            now=answer.generated_at,
        )
        with self.unit_of_work() as uow:
            repo = uow.requests
            sent = self._record_answer(repo, request.id, written)
            stored = repo.get(request.id)
            receipt = dict(stored.receipt or {})
            names = {item["name"] for item in sent}
            receipt["sent"] = [i for i in receipt.get("sent", []) if i["name"] not in names] + sent
            if collected.profile is not None:
                from personvern.responses.receipt import answer_summary

                receipt["answer"] = answer_summary(collected.profile)
            repo.save_receipt(stored, receipt)

    def read_answer(self, request_id: str, name: str) -> bytes:
        """The plain content of a delivered file (opened if it is sealed)."""
        with self.unit_of_work() as uow:
            artifact = next((a for a in uow.requests.artifacts(request_id) if a.name == name), None)
            if artifact is None or artifact.deleted_at is not None:
                raise RecordNotFoundError(f"request {request_id} has no file named {name!r}")
            path = self.request_folder(request_id) / artifact.path
            if not artifact.sealed:
                return path.read_bytes()
            vault = uow.vault
            if vault is None:
                raise EncryptionError(
                    f"{name} of request {request_id} is encrypted and no key store is open"
                )
            return open_answer_file(vault, request_id, name, path)

    def request_folder(self, request_id: str) -> Path:
        """Where a request's delivered files live (created private to personvern's user)."""
        from personvern.data_home import ensure_home, private_folder

        return private_folder(ensure_home(self.settings.home.resolve()) / "requests" / request_id)

    def _finish(
        self,
        request_id: str,
        plan: RequestPlan,
        outcomes: Mapping[str, Any],
        *,
        answer: WrittenAnswer | None = None,
    ) -> RunOutcome:
        if plan.found_nothing:
            message = "no data about the subject was found in any connected system"
        else:
            message = f"{sum(d.found for d in plan.datasets)} records found"
        with self.unit_of_work() as uow:
            repo = uow.requests
            request = repo.get(request_id)
            artifacts: list[dict[str, Any]] = []
            if answer is not None:
                # Who answers, the answer's files and the final state in one transaction:
                # no request is completed without its answer recorded.
                self._settle(repo, request, answer.collected)
                artifacts = self._record_answer(repo, request_id, answer.files)
            # The tasks, the receipt and the final state in one transaction: a run that
            # dies here leaves none of them, and the resumed run adds each task once.
            tasks = [repo.add_task(request_id, task) for task in planned_tasks(self.datamap, plan)]
            still_open = [(t.id, t.description) for t in tasks if t.status == TaskStatus.OPEN]
            target = request.lifecycle.complete(len(still_open))
            if still_open:
                message += "; " + open_tasks_text(still_open)
            receipt = _receipt(plan, outcomes, artifacts, tasks)
            receipt.update(_reviewed(Review.from_json(request.review)))
            if request.answer_profile:
                receipt["answer"] = dict(request.answer_profile)
            repo.save_receipt(request, receipt)
            # The spelled-out identities were needed to redact mentions; once the request
            # is done they are personal data kept for no purpose.
            repo.save_plan(request, {**plan.to_json(), "needles": []})
            request.last_error = None
            request.next_attempt_at = None
            repo.transition(request, target, message, self._actor(request_id))
        # An erasure's subject keeps their data key until the letter confirming the
        # erasure is sent (responses.handover) or, unsent, PERSONVERN_ERASURE_LETTER_DAYS
        # have passed (housekeeping): the letter needs their address.
        log.info("request %s %s: %s", request_id, target.value, message)
        return RunOutcome(request_id, target, plan, message)


def _reviewed(review: Review) -> dict[str, Any]:
    """What a review decided, for the receipt: each decision, and the records not covered."""
    if not review.decisions:
        return {}
    return {
        "review": [
            {
                "record": made.record,
                "decision": made.decision.value,
                "reason": made.reason,
                "decided_by": made.decided_by,
                "decided_at": made.decided_at,
            }
            for made in review.decisions
        ],
        # Records that could not be read, left out: the request did not cover them.
        "not_covered": [
            made.record for made in review.decisions if made.kind is CandidateKind.UNREADABLE
        ],
    }


def _issued(connector: Connector) -> int:
    return int(getattr(connector, "statements_issued", 0))


def _erasure_step(part: DatasetPlan, needles: tuple[str, ...]) -> ErasureStep:
    return ErasureStep(
        dataset=part.dataset,
        delete=part.delete,
        update=part.erase_fields,
        update_fields={name: ErasureStrategy(s) for name, s in part.strategies.items()},
        redactions=tuple(
            Redaction(field=name, keys=part.redact, needles=needles) for name in part.redact_fields
        )
        if part.redact
        else (),
    )


def _notifications(tasks: Sequence[RequestTask]) -> list[dict[str, Any]]:
    """One entry per recipient to tell of the erasure, rectification or restriction (Art. 19).

    Each names its task, whose status it shows ("open" until marked done). Receipts
    written before tasks existed say "to do" and name no task.
    """
    return [
        {**task.details, "status": task.status, "task": task.id}
        for task in tasks
        if task.kind == TaskKind.NOTIFY_RECIPIENT
    ]


def _manual_steps(tasks: Sequence[RequestTask]) -> list[dict[str, Any]]:
    """The manual steps left to people, with their tasks' ids and status."""
    return [
        {"task": task.id, "key": task.key, "description": task.description, "status": task.status}
        for task in tasks
        if task.kind == TaskKind.MANUAL_STEP
    ]


def _receipt(
    plan: RequestPlan,
    outcomes: Mapping[str, Any],
    artifacts: list[dict[str, Any]],
    tasks: Sequence[RequestTask],
) -> dict[str, Any]:
    return {
        "request_type": plan.request_type.value,
        "completed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "found": {d.name: d.found for d in plan.datasets},
        "erased": {
            d.name: {
                "deleted": len(d.delete),
                "fields_erased": len(d.erase_fields),
                "mentions_redacted": len(d.redact),
            }
            for d in plan.datasets
            if d.delete or d.erase_fields or d.redact
        },
        "kept": {
            d.name: {"records": len(d.keep), "reason": d.keep_reason}
            for d in plan.datasets
            if d.keep
        },
        "outcomes": dict(outcomes),
        "sent": artifacts,
        "restricted": {
            d.name: {"records": len(d.restrict), "field": d.restrict_field}
            for d in plan.datasets
            if d.restrict and d.restrict_field
        },
        "not_connected": dict(plan.unavailable),
        "notify_recipients": _notifications(tasks),
        "manual_steps": _manual_steps(tasks),
        # Identity values on the subject's records that could not be read (where, never
        # what): they were not searched for, so a person should look at them.
        "unreadable": list(plan.unreadable),
        # Files nobody owns in the datasets the request covered (each non-zero count is
        # a manual step), and rows and files that did not stay together.
        "unattributed_files": dict(plan.unattributed_files),
        "rows_and_files": [
            {
                "rows": m.rows,
                "files": m.files,
                "kind": m.kind,
                "records": len(m.keys),
                "description": m.description,
            }
            for m in plan.file_mismatches
        ],
    }
