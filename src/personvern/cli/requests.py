"""`personvern request ...`: file, list, show, verify and reject requests, and mark tasks done.

The command line is a staff channel: whoever runs it can read the store. A request
created with ``--verified-by`` is verified at once (with a note saying how); without
it, a code is e-mailed to the subject's address when PERSONVERN_SMTP_HOST is set.

Exit codes: 0 done, 1 something outside the input failed (mail server, store, too many
codes), 2 the input cannot be accepted. Other modules add commands to ``request_app``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from personvern.cli.output import (
    EXIT_BAD_INPUT,
    EXIT_PROBLEMS,
    DatamapOption,
    cli_actor,
    console,
    errors,
    exit_code,
    plain,
    safe_text,
)
from personvern.errors import PersonvernError
from personvern.store.limits import MAX_INTEGER_ID

if TYPE_CHECKING:
    # Only for annotations: `personvern request --help` must not load SQLAlchemy.
    from personvern.settings import Settings
    from personvern.store.models import DataSubjectRequest, RequestTask

request_app = typer.Typer(help="Data subject requests (GDPR Art. 15-22).", no_args_is_help=True)

TYPES = "access, portability, erasure, rectification, restriction, objection, withdraw-consent"


def register(app: typer.Typer) -> None:
    """Add the `request` command group to ``app``."""
    from personvern.cli import request_runs

    request_runs.register(request_app)
    app.add_typer(request_app, name="request")


@request_app.command("create")
def request_create(
    request_type: str = typer.Option(..., "--type", "-t", help=f"one of: {TYPES}"),
    identity: list[str] = typer.Option(
        ..., "--identity", "-i", help="kind=value, e.g. email=kari@example.no (repeatable)"
    ),
    lang: str | None = typer.Option(
        None, "--lang", "-l", help="answer language (default: the map's first)"
    ),
    verified_by: str | None = typer.Option(
        None,
        "--verified-by",
        help="staff_in_person, staff_known_contact or staff_id_document: you checked "
        "identity yourself (needs --note); otherwise a code is e-mailed",
    ),
    note: str | None = typer.Option(None, "--note", help="how identity was checked"),
    correction: list[str] | None = typer.Option(
        None, "--correction", help="rectification: category=new value (repeatable)"
    ),
    purpose: list[str] | None = typer.Option(
        None, "--purpose", help="objection, withdraw-consent: a purpose key (repeatable)"
    ),
    datamap: Path | None = DatamapOption,
) -> None:
    """File a request on a subject's behalf; prints its id."""
    from personvern.intake.service import Channel, file_request
    from personvern.intake.verification import verification_address

    identities = [_pair(value, "--identity", "email=kari@example.no") for value in identity]
    details: dict[str, Any] = {}
    if correction:
        details["corrections"] = dict(
            _pair(value, "--correction", "user.contact.address='Storgata 1, 0155 Oslo'")
            for value in correction
        )
    if purpose:
        details["purposes"] = list(purpose)
    with _handled():
        from personvern.cli.application import command_application

        application = command_application(datamap)
        settings, loaded = application.settings, application.datamap.require()
        with application.unit_of_work() as uow:
            filed = file_request(
                uow.session,
                settings,
                loaded,
                type=request_type,
                identities=identities,
                language=lang,
                channel=Channel.CLI,
                actor=cli_actor(),
                details=details,
                verification_method=verified_by,
                verification_note=note,
            )
            request = filed.request
            summary = f"{request.type} request {request.id}: {request.state}"
            if request.linked_request_id:
                summary += f", duplicate of the open request {request.linked_request_id}"
            address = verification_address(request) if filed.challenge_sent else None
    # The id alone on stdout, so `ID=$(personvern request create ...)` works.
    errors.print(f"{summary}; deadline {request.deadline.isoformat()}", markup=False)
    if address is not None:
        errors.print(
            f"a code was e-mailed to {safe_text(address)}; when the subject reads it back, run "
            f"`personvern request verify {request.id} CODE`",
            markup=False,
        )
    typer.echo(request.id)


@request_app.command("list")
def request_list(
    state: str | None = typer.Option(None, "--state", "-s", help="only requests in this state"),
    request_type: str | None = typer.Option(None, "--type", "-t", help="only this type"),
    limit: int = typer.Option(100, "--limit", min=1, max=1000, help="at most this many"),
) -> None:
    """List requests, newest first, with the days left until each deadline."""
    from personvern.intake import views

    with _handled():
        settings = _settings()
        from personvern.cli.application import store_unit_of_work

        with store_unit_of_work(settings) as uow:
            found = views.list_requests(uow.session, state=state, type=request_type, limit=limit)
            rows = [
                (
                    r.id,
                    r.type,
                    r.state,
                    _when(r.received_at),
                    views.deadline_in_force(r).isoformat(),
                    _days(views.days_left(r)),
                    safe_text(", ".join(views.masked_identities(r))),
                )
                for r in found
            ]
    if not rows:
        errors.print("no requests", markup=False)
        return
    header = ("id", "type", "state", "received", "deadline", "days left", "identities")
    if not console.is_terminal:
        # Piped: tab-separated lines a script can cut, without a table's wrapping.
        for row in (header, *rows):
            typer.echo("\t".join(row))
        return
    table = Table(*header, caption="times in UTC")
    for row in rows:
        table.add_row(*plain(row))
    console.print(table)


@request_app.command("show")
def request_show(request_id: str = typer.Argument(..., help="the request's id")) -> None:
    """Show one request: deadline, identities, verification, history, plan and receipt."""
    from personvern.intake import views

    with _handled():
        settings = _settings()
        from personvern.cli.application import record_cli_read, store_unit_of_work

        with store_unit_of_work(settings) as uow:
            view = views.request_view(uow.session, request_id)
            request = view.request
            record_cli_read(uow.session, request.id, request.subject_key, "request_details")
            facts: list[tuple[str, str]] = [
                ("id", request.id),
                ("type", request.type),
                ("state", request.state),
                ("received", _when(request.received_at) + " UTC"),
                (
                    "deadline",
                    f"{views.deadline_in_force(request).isoformat()} "
                    f"({_days_text(views.days_left(request))})",
                ),
                ("language", request.language),
                ("identities", _identities_text(request)),
                ("channel", f"{request.channel}, by {request.created_by}"),
                ("verification", _verification(request.verification_method, request.verified_at)),
            ]
            note = views.readable_note(request)
            if note:
                facts.append(("verification note", note))
            if request.extended_deadline:
                facts.append(("extended because", request.extension_reason or "-"))
            if request.linked_request_id:
                facts.append(("linked request", request.linked_request_id))
            if request.rejection_reason:
                facts.append(("rejected because", request.rejection_reason))
            erased = views.is_erased(request)
            details = views.readable_details(request)
            if erased:
                # Shredded with the subject's key; the receipt below is plain and stays.
                facts.append(("details", f"{views.ERASED} (the subject's data key was destroyed)"))
            elif details:
                facts.append(("details", _summary(details)))
            if request.last_error:
                facts.append(("last error", request.last_error))
            facts.extend(_review_facts(request.id, request.state, views.readable_review(request)))
            plan = views.readable_plan(request)
            if request.receipt is not None:
                facts.extend(_receipt_facts(request.receipt))
            elif plan is not None:
                facts.extend(_plan_facts(plan))
            facts.extend(
                (f"file {a.name}", f"{a.media_type}, {a.size} bytes, sha256 {a.sha256}")
                for a in view.artifacts
            )
            facts.extend(_task_facts(view.tasks))
            facts = [(name, safe_text(value)) for name, value in facts]
            events = [
                (_when(e.at), e.state, safe_text(e.message), safe_text(e.actor))
                for e in view.events
            ]
    if not console.is_terminal:
        for name, value in facts:
            typer.echo(f"{name}: {value}")
        typer.echo("events:")
        for event in events:
            typer.echo("  " + "\t".join(event))
        return
    table = Table(show_header=False, title=f"Request {request_id}", show_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for name, value in facts:
        table.add_row(*plain((name, value)))
    console.print(table)
    history = Table("at (UTC)", "state", "event", "by", title="History")
    for event in events:
        history.add_row(*plain(event))
    console.print(history)


def _review_facts(
    request_id: str, state: str, review: dict[str, Any] | None
) -> list[tuple[str, str]]:
    """The decisions of reviews, and the records a request in review asks to decide on."""
    from personvern.domain.requests.review import Review

    stored = Review.from_json(review)
    facts = [
        (f"review {made.decided_at}", f"{made.note}, by {made.decided_by}")
        for made in stored.decisions
    ]
    if stored.candidates and state == "needs_review":
        facts.append(
            (
                "to decide",
                ", ".join(
                    c.record + (" (cannot be read)" if c.kind.value == "unreadable" else "")
                    for c in stored.candidates
                )
                + f": `personvern request resolve {request_id} --attach RECORD --exclude "
                "RECORD --reason TEXT`",
            )
        )
    return facts


@request_app.command("done")
def request_done(
    request_id: str = typer.Argument(..., help="the request's id"),
    task_id: int | None = typer.Argument(
        None, min=1, max=MAX_INTEGER_ID, help="the task's number, as `request show` lists it"
    ),
    note: str = typer.Option(
        ...,
        "--note",
        "-n",
        help="what was done: who was told, when and how, or which records were restricted",
    ),
    all_open: bool = typer.Option(
        False, "--all-open", help="mark every open task of the request done with this note"
    ),
) -> None:
    """Mark a task of a request done; the last open task completes the request."""
    from personvern.intake.tasks import mark_task_done

    if (task_id is None) == (not all_open):
        errors.print(
            "personvern: error: name one task (see `request show`) or give --all-open",
            markup=False,
        )
        raise SystemExit(EXIT_BAD_INPUT)
    with _handled():
        settings = _settings()
        from personvern.cli.application import store_unit_of_work
        from personvern.domain.requests.tasks import TaskStatus

        with store_unit_of_work(settings) as uow:
            if task_id is not None:
                chosen = [task_id]
            else:
                from personvern.intake import views

                view = views.request_view(uow.session, request_id)
                chosen = [t.id for t in view.request.tasks if t.status == TaskStatus.OPEN]
                if not chosen:
                    errors.print(f"request {request_id} has no open tasks", markup=False)
                    return
            for number in chosen:
                task = mark_task_done(uow.session, request_id, number, note, actor=cli_actor())
            request = task.request
            state = request.state
            left = sum(1 for t in request.tasks if t.status == TaskStatus.OPEN)
    done = ", ".join(str(number) for number in chosen)
    summary = f"request {request_id}: task{'s' if len(chosen) != 1 else ''} {done} done; {state}"
    if left:
        summary += f", {left} task{'s' if left != 1 else ''} still open"
    console.print(summary, markup=False)


@request_app.command("wait")
def request_wait(
    request_id: str = typer.Argument(..., help="the request's id"),
    timeout: float = typer.Option(120, "--timeout", min=1, help="give up after this many seconds"),
) -> None:
    """Wait until a queued or running request stops; exit 0 if it completed, else 1.

    For scripts: a run started through the API goes on in the background, and this
    returns when it has ended, or stopped to wait for a system or a review.
    """
    import time

    from personvern.domain.requests.lifecycle import RequestState
    from personvern.intake import views

    busy = {RequestState.VERIFIED, RequestState.IN_PROGRESS}
    deadline = time.monotonic() + timeout
    with _handled():
        settings = _settings()
        from personvern.cli.application import store_unit_of_work

        with store_unit_of_work(settings) as uow:
            while True:
                state = views.request_view(uow.session, request_id).request.state
                # End the read at once: on SQLite an open transaction holds the lock the
                # run needs to write its progress.
                uow.session.rollback()
                uow.session.expire_all()
                if state not in busy or time.monotonic() >= deadline:
                    break
                time.sleep(0.2)
    console.print(f"request {request_id}: {state.value}", markup=False)
    if state is not RequestState.COMPLETED:
        raise SystemExit(EXIT_PROBLEMS)


@request_app.command("verify")
def request_verify(
    request_id: str = typer.Argument(..., help="the request's id"),
    code: str = typer.Argument(..., help="the code the subject received by e-mail"),
) -> None:
    """Enter the code the subject received; the request becomes verified."""
    from personvern.intake.service import verify

    with _handled():
        settings = _settings()
        from personvern.cli.application import store_unit_of_work

        with store_unit_of_work(settings) as uow:
            request = verify(uow.session, settings, request_id, code, actor=cli_actor())
            state, linked = request.state, request.linked_request_id
    if request.rejection_reason == "duplicate":
        console.print(
            f"request {request_id} is a duplicate of the open request {linked}, "
            "which is verified now",
            markup=False,
        )
        return
    console.print(f"request {request_id}: {state} (email_code)", markup=False)


@request_app.command("reject")
def request_reject(
    request_id: str = typer.Argument(..., help="the request's id"),
    reason: str = typer.Option(
        ...,
        "--reason",
        "-r",
        help="identity_not_verified, manifestly_unfounded, excessive, duplicate or "
        "withdrawn_by_subject",
    ),
) -> None:
    """Refuse a request for a reason the subject is told (Art. 12(4))."""
    from personvern.intake.service import reject

    with _handled():
        settings = _settings()
        from personvern.cli.application import store_unit_of_work

        with store_unit_of_work(settings) as uow:
            request = reject(uow.session, request_id, reason, actor=cli_actor())
            rejection = request.rejection_reason
    console.print(f"rejected request {request_id} ({rejection})", markup=False)


@request_app.command("extend")
def request_extend(
    request_id: str = typer.Argument(..., help="the request's id"),
    reason: str = typer.Option(
        ..., "--reason", "-r", help="why more time is needed; the subject is mailed this text"
    ),
    datamap: Path | None = DatamapOption,
) -> None:
    """Extend the deadline by two months, once, within the first month (Art. 12(3))."""
    from personvern.intake.extension import extend_deadline

    with _handled():
        from personvern.cli.application import command_application

        application = command_application(datamap)
        settings, loaded = application.settings, application.datamap.require()
        with application.unit_of_work() as uow:
            request = extend_deadline(
                uow.session, settings, loaded, request_id, reason, actor=cli_actor()
            )
            deadline = request.extended_deadline
    console.print(f"request {request_id}: deadline extended to {deadline}", markup=False)


# -- helpers ---------------------------------------------------------------------------------


@contextmanager
def _handled() -> Iterator[None]:
    """One line on stderr for expected errors: exit 2 for input, 1 for everything else."""
    try:
        yield
    except PersonvernError as exc:
        code = exit_code(exc)
        errors.print(f"personvern: error: {safe_text(exc)}", markup=False)
        raise SystemExit(code) from None


def _pair(value: str, option: str, example: str) -> tuple[str, str]:
    key, sep, rest = value.partition("=")
    if not sep or not key.strip():
        errors.print(
            f"personvern: error: {option} takes key=value, e.g. {example}; got '{value}'",
            markup=False,
        )
        raise SystemExit(EXIT_BAD_INPUT)
    return key.strip(), rest


def _settings() -> Settings:
    from personvern.settings import load_settings

    return load_settings()


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"


def _days(days: int | None) -> str:
    return "-" if days is None else str(days)


def _days_text(days: int | None) -> str:
    if days is None:
        return "closed"
    if days < 0:
        return f"{-days} day{'s' if days != -1 else ''} overdue"
    return f"{days} day{'s' if days != 1 else ''} left"


def _verification(method: str | None, at: datetime | None) -> str:
    if method is None:
        return "not verified"
    return f"{method}, {_when(at)} UTC"


def _plan_facts(plan: dict[str, Any]) -> list[tuple[str, str]]:
    """What the stored plan found, per dataset, and what it could not search."""
    found = ", ".join(
        f"{d['system']}.{d['dataset']} {d['found']}" for d in plan.get("datasets", [])
    )
    facts = [("planned, found", found or "nothing")]
    if plan.get("conflicts"):
        facts.append(("identities conflict in", ", ".join(plan["conflicts"])))
    if plan.get("unavailable"):
        facts.append(("not searched", ", ".join(sorted(plan["unavailable"]))))
    if plan.get("unreadable"):
        facts.append(_unreadable_fact(plan["unreadable"]))
    return facts


def _unreadable_fact(where: list[str]) -> tuple[str, str]:
    """Identity values the search could not read, so a person looks at them."""
    return (
        "could not read",
        "some identity values could not be read and were not searched for; check "
        + ", ".join(where),
    )


def _receipt_facts(receipt: dict[str, Any]) -> list[tuple[str, str]]:
    """The receipt, line by line: found, erased, kept and why, files sent, who to tell."""
    found = ", ".join(f"{name} {count}" for name, count in receipt.get("found", {}).items())
    facts = [("found", found or "no data about the subject")]
    for name, erased in receipt.get("erased", {}).items():
        parts = [
            f"{erased['deleted']} deleted" if erased.get("deleted") else "",
            f"{erased['fields_erased']} emptied" if erased.get("fields_erased") else "",
            f"{erased['mentions_redacted']} mentions redacted"
            if erased.get("mentions_redacted")
            else "",
        ]
        facts.append((f"erased {name}", ", ".join(p for p in parts if p)))
    for name, kept in receipt.get("kept", {}).items():
        facts.append((f"kept {name}", f"{kept['records']} ({kept.get('reason') or 'no reason'})"))
    for name, reason in receipt.get("not_connected", {}).items():
        facts.append((f"not connected {name}", reason))
    if receipt.get("unreadable"):
        facts.append(_unreadable_fact(receipt["unreadable"]))
    for name, restricted in receipt.get("restricted", {}).items():
        facts.append((f"restricted {name}", f"{restricted['records']} ({restricted['field']} set)"))
    tasks = receipt.get("notify_recipients", [])
    if tasks:
        # Receipts written before tasks existed name no task and say "to do".
        facts.append(
            (
                "tell recipients (Art. 19)",
                ", ".join(
                    f"{t['name']} ({t['status']}"
                    + (f", task {t['task']})" if t.get("task") is not None else ")")
                    for t in tasks
                ),
            )
        )
    return facts


def _task_facts(tasks: Sequence[RequestTask]) -> list[tuple[str, str]]:
    """One line per task: its number (for `request done`), status and what to do."""
    facts = []
    for task in tasks:
        value = f"{task.status}: {task.description}"
        if task.done_at is not None:
            value += f" (done by {task.done_by}, {_when(task.done_at)} UTC: {task.note})"
        facts.append((f"task {task.id}", value))
    return facts


def _summary(document: dict[str, Any], limit: int = 12) -> str:
    """A one-line outline of a JSON document (plan, receipt): its keys and their sizes."""
    parts: list[str] = []
    for key, value in list(document.items())[:limit]:
        parts.append(f"{key}: {_size(value)}")
    if len(document) > limit:
        parts.append(f"... {len(document) - limit} more")
    return "; ".join(parts) or "empty"


def _size(value: object) -> str:
    if isinstance(value, dict):
        return f"{len(value)} entries"
    if isinstance(value, list | tuple):
        return f"{len(value)} items"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


__all__: Sequence[str] = ["register", "request_app"]


def _identities_text(request: DataSubjectRequest) -> str:
    from personvern.intake import views

    identities = views.readable_identities(request)
    if identities is None:
        return f"{views.ERASED} (the subject's data key was destroyed)"
    return ", ".join(f"{i['kind']}={i['value']}" for i in identities)
