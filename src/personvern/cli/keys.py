"""`personvern keys`: the per-subject data keys and the key-encryption keys wrapping them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from personvern.cli.output import EXIT_PROBLEMS, console, fail

if TYPE_CHECKING:
    from personvern.store.encryption.vault import SubjectVault

keys_app = typer.Typer(
    help="Encryption keys: status, rotation, crypto-shredding.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add the `keys` command group to ``app``."""
    app.add_typer(keys_app, name="keys")


@keys_app.command("status")
def status() -> None:
    """Show the KEK provider, how many data keys each KEK version wraps, and destroyed keys."""
    from personvern.bootstrap import bootstrap

    application = bootstrap(with_datamap=False)
    try:
        vault = _vault(application.vault)
        found = vault.status()
    finally:
        application.close()
    console.print(f"provider: {found.provider}", markup=False)
    console.print(f"current KEK: {found.current_kek}", markup=False)
    console.print(
        f"data keys: {found.live_keys} live, {found.destroyed_keys} destroyed (erased subjects)",
        markup=False,
    )
    for kek, count in sorted(found.keys_per_kek.items()):
        console.print(f"  {kek}: wraps {count} data key(s)", markup=False)
    if found.removable:
        console.print(
            "KEK versions no data key uses (may be removed): " + ", ".join(found.removable),
            markup=False,
        )


@keys_app.command("rotate")
def rotate() -> None:
    """Make a new KEK version and re-wrap every data key with it; ciphertexts stay as they are."""
    from personvern.bootstrap import bootstrap

    application = bootstrap(with_datamap=False)
    try:
        report = _vault(application.vault).rotate()
    finally:
        application.close()
    console.print(
        f"new KEK {report.new_kek}: re-wrapped {report.rewrapped} data key(s)", markup=False
    )
    if report.removable:
        console.print(
            "no data key uses these KEK versions any more; keep them until the key store "
            "backups that still need them have expired, then remove them: "
            + ", ".join(report.removable),
            markup=False,
        )


@keys_app.command("shred")
def shred(
    subject_key: str = typer.Option(
        ...,
        "--subject-key",
        help="the subject's key hash (a request's subject_key; `personvern request show`)",
    ),
) -> None:
    """Destroy a subject's data keys: all sealed for them, backups too, becomes unreadable."""
    from personvern.bootstrap import bootstrap

    if len(subject_key) != 64 or not all(c in "0123456789abcdef" for c in subject_key):
        fail("--subject-key must be the 64 hex characters of a subject's key hash")
    application = bootstrap(with_datamap=False)
    try:
        destroyed = _vault(application.vault).shred(subject_key)
    finally:
        application.close()
    if not destroyed:
        fail(
            "that subject has no live data key (never had one, or already shredded)", EXIT_PROBLEMS
        )
    console.print(f"destroyed {destroyed} data key(s); tombstones keep the date", markup=False)


@keys_app.command("encrypt-existing")
def encrypt_existing(
    batch: int = typer.Option(500, min=1, max=10_000, help="requests sealed per transaction"),
) -> None:
    """Seal the identities and notes of requests stored before encryption at rest."""
    from personvern.bootstrap import bootstrap
    from personvern.store.encryption.existing import seal_existing

    application = bootstrap(with_datamap=False)
    try:
        _vault(application.vault)
        sealed = seal_existing(application.unit_of_work, batch)
    finally:
        application.close()
    console.print(f"sealed {sealed} request(s) stored in plain text", markup=False)


def _vault(vault: SubjectVault | None) -> SubjectVault:
    if vault is None:  # pragma: no cover - bootstrap always builds one
        fail("no key store is configured", EXIT_PROBLEMS)
    return vault
