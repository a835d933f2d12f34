"""Where the demo company's systems live, and the environment that points the data map there."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from personvern.demo import schema
from personvern.demo.errors import DemoError
from personvern.demo.mailbox import MAILBOX_FILE, MAILBOX_SYSTEM

#: Where the example company's data map sits inside a checkout of personvern.
EXAMPLE_DATAMAP = Path("examples") / "workspace-company"


@dataclass(frozen=True)
class DemoTargets:
    """One SQLAlchemy URL per SQL system of the demo, the roots of its file stores, its mailbox."""

    sql_urls: Mapping[str, str]
    recordings_dir: Path
    identity_documents_dir: Path
    #: The Fernet key that encrypts identity documents (a 0600 file, never printed).
    key_file: Path
    #: The SQLite database behind the demo mailbox (the e-mail system); None puts it
    #: beside the key file, in <home>/demo/.
    mailbox_file: Path | None = None

    def __post_init__(self) -> None:
        missing = set(schema.SYSTEMS) - set(self.sql_urls)
        if missing:
            raise DemoError(f"no database URL for the demo system(s) {', '.join(sorted(missing))}")

    @property
    def mailbox_path(self) -> Path:
        """The demo mailbox's SQLite database (default <home>/demo/mailbox.sqlite)."""
        return self.mailbox_file or self.key_file.parent / MAILBOX_FILE

    @property
    def file_roots(self) -> dict[str, Path]:
        """Root folder of each file system, by its key in the data map."""
        return {"telephony": self.recordings_dir, "identity_documents": self.identity_documents_dir}

    def url(self, system: str) -> str:
        """The SQLAlchemy URL of a SQL system, by its key in the data map."""
        return self.sql_urls[system]


def default_targets(home: Path) -> DemoTargets:
    """SQLite files <home>/demo/<system>.sqlite and file stores under <home>/demo/."""
    demo = home.resolve() / "demo"
    return DemoTargets(
        sql_urls={system: f"sqlite:///{demo / system}.sqlite" for system in schema.SYSTEMS},
        # Each file store gets a root of its own, named after its system; the data map's
        # glob (recordings/**/*.wav, identity-documents/**/*.bin) applies inside it.
        recordings_dir=demo / "telephony",
        identity_documents_dir=demo / "identity_documents",
        key_file=demo / "identity-documents.fernet.key",
        mailbox_file=demo / MAILBOX_FILE,
    )


def targets_from_urls(
    home: Path,
    *,
    company_db_url: str | None = None,
    system_urls: Mapping[str, str | None] | None = None,
    recordings_dir: Path | None = None,
    identity_documents_dir: Path | None = None,
    mailbox_path: Path | None = None,
) -> DemoTargets:
    """Default targets with one URL for every SQL system and/or a URL per system on top."""
    base = default_targets(home)
    urls = dict(base.sql_urls)
    if company_db_url:
        # Table names are unique across the demo's systems, so they can share one database.
        urls = dict.fromkeys(urls, company_db_url)
    for system, url in (system_urls or {}).items():
        if system not in urls:
            known = ", ".join(schema.SYSTEMS)
            raise DemoError(f"unknown demo system {system!r}", hint=f"one of {known}")
        if url:
            urls[system] = url
    return DemoTargets(
        sql_urls=urls,
        recordings_dir=recordings_dir.resolve() if recordings_dir else base.recordings_dir,
        identity_documents_dir=(
            identity_documents_dir.resolve()
            if identity_documents_dir
            else base.identity_documents_dir
        ),
        key_file=base.key_file,
        mailbox_file=mailbox_path.resolve() if mailbox_path else base.mailbox_path,
    )


def find_example_datamap(start: Path | None = None, env: Mapping[str, str] | None = None) -> Path:
    """The demo's data map: $PERSONVERN_DATAMAP, else examples/workspace-company above start."""
    environ = os.environ if env is None else env
    if environ.get("PERSONVERN_DATAMAP"):
        return Path(environ["PERSONVERN_DATAMAP"])
    # The example folder is not part of the installed package, so look for it above the
    # working directory (a checkout) and above this file (an editable install).
    starts = [(start or Path.cwd()).resolve(), Path(__file__).resolve().parent]
    for origin in starts:
        for folder in (origin, *origin.parents):
            candidate = folder / EXAMPLE_DATAMAP
            if candidate.is_dir():
                return candidate
    raise DemoError(
        f"cannot find the example company's data map ({EXAMPLE_DATAMAP})",
        hint="pass --datamap PATH or set PERSONVERN_DATAMAP",
    )


def demo_environment(
    targets: DemoTargets,
    datamap_path: Path | None = None,
    mailbox_url: str | None = None,
    mailbox_secret: str | None = None,
) -> dict[str, str]:
    """The environment variables the data map's connection_env names, pointing at the demo.

    The e-mail system is a webhook: it is reachable only while something serves the demo
    mailbox, so it is included only when ``mailbox_url`` (and its secret) are given.
    """
    from personvern.datamap.loader import load_datamap

    if mailbox_url and not mailbox_secret:
        raise DemoError("the demo mailbox needs its signing secret along with its URL")
    datamap = load_datamap(datamap_path or find_example_datamap()).datamap
    env: dict[str, str] = {}
    for system in datamap.systems:
        if not system.connection_env:
            continue
        if system.key in targets.sql_urls:
            env[system.connection_env] = targets.url(system.key)
        elif system.key in targets.file_roots:
            env[system.connection_env] = str(targets.file_roots[system.key])
        elif system.key == MAILBOX_SYSTEM and mailbox_url and mailbox_secret:
            env[system.connection_env] = mailbox_url
            # The connector reads the shared secret from <connection_env>_SECRET.
            env[f"{system.connection_env}_SECRET"] = mailbox_secret
    return env
