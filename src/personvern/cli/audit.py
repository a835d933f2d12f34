"""`personvern audit verify | anchor | list`: check, anchor and read the audit trail."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import typer

from personvern.cli.output import EXIT_PROBLEMS, console, errors, fail, safe_text
from personvern.settings import load_settings

audit_app = typer.Typer(
    help="The tamper-evident audit trail: verify, anchor and list its events.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add `audit` to ``app``."""
    app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify() -> None:
    """Re-compute the hash chain; exit 1 naming the first broken event and why."""
    from personvern.cli.application import store_unit_of_work
    from personvern.store.audit_events import AuditTrail

    with store_unit_of_work(load_settings()) as uow:
        verdict = AuditTrail(uow.session).verify()
    if verdict.broken is not None:
        broken = verdict.broken
        before = (
            f"events 1-{verdict.head_sequence} before it are intact"
            if verdict.head_sequence
            else "it is the first event"
        )
        fail(
            f"chain broken at event {broken.sequence} ({broken.kind}): {broken.reason}; " + before,
            code=EXIT_PROBLEMS,
        )
    events = f"{verdict.events} event{'' if verdict.events == 1 else 's'}"
    console.print(f"chain intact: {events}, head {verdict.head_hash}", markup=False)


@audit_app.command("anchor")
def audit_anchor(
    verify: Path | None = typer.Option(
        None,
        "--verify",
        exists=True,
        dir_okay=False,
        help="check an anchor printed earlier instead of making one",
    ),
) -> None:
    """Print the chain's head, signed, to keep outside personvern (or --verify one)."""
    from personvern.cli.application import store_unit_of_work
    from personvern.security.audit_anchor import (
        anchor_key,
        make_anchor,
        public_key_text,
        read_anchor,
        signature_holds,
    )
    from personvern.store.audit_events import AuditTrail

    settings = load_settings()
    if verify is not None:
        anchor = read_anchor(verify.read_text(encoding="utf-8"))
        ours = public_key_text(anchor_key(settings.home))
        if anchor.public_key != ours or not signature_holds(anchor, ours):
            fail(
                f"{verify}: the signature does not hold for this installation's anchor key",
                code=EXIT_PROBLEMS,
            )
        with store_unit_of_work(settings) as uow:
            trail = AuditTrail(uow.session)
            stored = trail.hash_at(anchor.sequence) if anchor.sequence else None
            pruned = trail.pruned()[0]
            verdict = trail.verify()
        if anchor.sequence and stored is None and anchor.sequence < pruned:
            fail(
                f"event {anchor.sequence}, anchored at {anchor.anchored_at}, was deleted by "
                f"retention (rule own-audit-events, events up to {pruned}); this anchor can "
                "no longer be checked: anchor the trail anew with `personvern audit anchor`",
                code=EXIT_PROBLEMS,
            )
        if anchor.sequence and stored != anchor.hash:
            what = "is missing" if stored is None else "has a different hash"
            fail(
                f"event {anchor.sequence}, anchored at {anchor.anchored_at}, {what}: "
                "the trail was rewritten or cut after the anchor",
                code=EXIT_PROBLEMS,
            )
        if verdict.broken is not None:
            fail(
                f"the anchor's event {anchor.sequence} is as anchored, but the chain is broken "
                f"at event {verdict.broken.sequence}: {verdict.broken.reason}",
                code=EXIT_PROBLEMS,
            )
        console.print(
            f"anchor holds: event {anchor.sequence} has hash {anchor.hash} "
            f"as anchored at {anchor.anchored_at}",
            markup=False,
        )
        return
    with store_unit_of_work(settings) as uow:
        sequence, head_hash = AuditTrail(uow.session).head()
    anchor = make_anchor(settings.home, sequence, head_hash, datetime.now(UTC))
    # The anchor alone on stdout, so `personvern audit anchor > anchor.json` keeps it.
    typer.echo(json.dumps(anchor.to_json(), indent=2))
    errors.print(
        f"keep this outside personvern; check it later with "
        f"`personvern audit anchor --verify FILE`. Public key: {anchor.public_key}",
        markup=False,
    )


@audit_app.command("list")
def audit_list(
    since: datetime | None = typer.Option(
        None, "--since", help="only events at or after this time (ISO 8601, UTC if no zone)"
    ),
    action: str | None = typer.Option(
        None, "--action", help="only events of this action, e.g. personal_data.read"
    ),
    after: int = typer.Option(0, "--after", min=0, help="only events after this sequence"),
    limit: int = typer.Option(100, "--limit", min=1, max=1000, help="events per page"),
) -> None:
    """Events oldest first, one per line as JSON; the next page starts --after the last."""
    from personvern.cli.application import store_unit_of_work
    from personvern.domain.audit.event import AuditAction
    from personvern.store.audit_events import AuditTrail

    if action is not None and action not in {a.value for a in AuditAction}:
        fail(f"unknown action '{action}'; one of: " + ", ".join(a.value for a in AuditAction))
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    with store_unit_of_work(load_settings()) as uow:
        rows = AuditTrail(uow.session).page(after=after, limit=limit, since=since, action=action)
        lines = [
            json.dumps(
                {
                    "sequence": row.sequence,
                    "occurred_at": row.occurred_at,
                    "actor": row.actor_subject,
                    "role": row.actor_role,
                    "via": row.actor_via,
                    "action": row.action,
                    "outcome": row.outcome,
                    "subject_key": row.subject_key,
                    "purpose": row.purpose,
                    "detail": row.detail,
                    "hash": row.hash,
                },
                sort_keys=True,
                ensure_ascii=False,
            )
            for row in rows
        ]
    for line in lines:
        typer.echo(safe_text(line))
    if len(lines) == limit:
        errors.print(f"more: --after {rows[-1].sequence}", markup=False)
