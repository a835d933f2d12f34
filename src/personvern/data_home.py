"""personvern's data directory (PERSONVERN_HOME): private to its user, with the signing key.

The home holds the embedded store, the answers delivered to subjects and the key that
signs download links, so nobody but the user running personvern may read it: the
folder is created (or tightened to) mode 0700 and every file personvern puts there
0600. By default it lives in the user's data directory, never in the folder a command
happens to run in, so nothing personal lands in a checkout by accident.

The signing key: PERSONVERN_SECRET_KEY when set; otherwise a random key generated on
first start and kept in ``<home>/secret.key``. No key known from the source code ever
signs anything. A key file others can read is refused, like ssh refuses such a key.

``<home>/personvern.env`` holds settings written for this home (the demo writes the
data map and its systems' connection variables there), so the command line finds them
without exports. Variables already set in the environment win.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
import sys
from collections.abc import Callable, Mapping, MutableMapping
from pathlib import Path
from typing import IO

from personvern.errors import ErrorKind, PersonvernError

SECRET_KEY_FILE = "secret.key"  # noqa: S105 - a file name, not a secret
ENVIRONMENT_FILE = "personvern.env"
#: A key shorter than this is refused: 32 characters of a random key carry ~190 bits.
MIN_SECRET_LENGTH = 32
HOME_MODE = 0o700
FILE_MODE = 0o600

log = logging.getLogger(__name__)


class HomeError(PersonvernError):
    """The data directory or a file in it cannot be used safely."""

    kind = ErrorKind.FAILED
    title = "Data directory unusable"


def default_home(environ: Mapping[str, str] | None = None) -> Path:
    """The per-user data directory: $XDG_DATA_HOME/personvern or the platform's equivalent."""
    env = os.environ if environ is None else environ
    if sys.platform == "win32":  # pragma: no cover - personvern is tested on Linux
        base = Path(env.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":  # pragma: no cover
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(env.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "personvern"


def ensure_home(home: Path) -> Path:
    """Create the home (mode 0700), or tighten an existing one that others could enter."""
    home = home.expanduser()
    try:
        home.mkdir(mode=HOME_MODE, parents=True, exist_ok=True)
        mode = stat.S_IMODE(home.stat().st_mode)
        if mode & 0o077:
            home.chmod(HOME_MODE)
            log.warning("tightened %s from mode %o to 0700: it holds personal data", home, mode)
    except OSError as exc:
        raise HomeError(
            f"cannot use the data directory {home}: {exc.strerror or exc}",
            hint="set PERSONVERN_HOME to a folder this user can create and write",
        ) from exc
    return home


def private_folder(path: Path) -> Path:
    """Create ``path`` and its missing parents with mode 0700 (an answer's folder, say)."""
    # mkdir(parents=True) would give the parents the default mode (0755): each is made
    # here instead, outermost first.
    for folder in [*reversed(path.parents), path]:
        if not folder.exists():
            folder.mkdir(mode=HOME_MODE, exist_ok=True)
    return path


def write_private_file(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically with mode 0600 (readers never see half a file)."""
    return write_private(path, lambda out: out.write(data))


def write_private(path: Path, write: Callable[[IO[bytes]], object]) -> Path:
    """Have ``write`` fill ``path`` atomically, mode 0600 from the first byte."""
    # A name of its own per writer: two writers of one file (a retry racing a slow first
    # attempt) must not write into, or delete, each other's half-written file.
    partial = path.with_name(f".{path.name}.{secrets.token_hex(8)}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path


def touch_private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if it does not exist; tighten it if it does."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            path.chmod(FILE_MODE)
        return
    os.close(fd)


def check_secret_key(value: str, source: str) -> str:
    """``value`` if it can sign; HomeError if it is short or a placeholder."""
    if value.strip().lower() in _KNOWN_KEYS or len(value) < MIN_SECRET_LENGTH:
        raise HomeError(
            f"{source} is not a usable secret key: it must be a random value of at least "
            f"{MIN_SECRET_LENGTH} characters",
            hint='make one with: python -c "import secrets; print(secrets.token_urlsafe(48))"',
        )
    return value


def read_or_create_secret_key(home: Path) -> str:
    """The key in ``<home>/secret.key``, generated (mode 0600) on first use."""
    path = ensure_home(home) / SECRET_KEY_FILE
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        except FileExistsError:
            pass  # another process made it a moment ago: read theirs
        else:
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(secrets.token_urlsafe(48) + "\n")
                out.flush()
                os.fsync(out.fileno())
            log.info("generated a new signing key in %s", path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise HomeError(
            f"{path} can be read by other users (mode {mode:o}), so its key cannot be trusted",
            hint=f"run `chmod 600 {path}`, or delete it to have a new key made "
            "(links sent before then stop working)",
        )
    key = path.read_text(encoding="ascii", errors="replace").strip()
    return check_secret_key(key, str(path))


def read_environment_file(home: Path) -> dict[str, str]:
    """The ``KEY=value`` lines of ``<home>/personvern.env`` (empty if there is none)."""
    path = home.expanduser() / ENVIRONMENT_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise HomeError(f"cannot read {path}: {exc.strerror or exc}") from exc
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.removeprefix("export ").partition("=")
        if not sep or not name.strip().isidentifier():
            raise HomeError(f"{path}:{number}: expected NAME=value", hint="fix or delete the line")
        values[name.strip()] = value.strip()
    return values


def apply_environment_file(home: Path, environ: MutableMapping[str, str]) -> dict[str, str]:
    """Set the variables of ``<home>/personvern.env`` that ``environ`` does not have yet."""
    added = {k: v for k, v in read_environment_file(home).items() if k not in environ}
    environ.update(added)
    return added


def write_environment_file(home: Path, values: Mapping[str, str], header: str) -> Path:
    """Write ``values`` to ``<home>/personvern.env`` (mode 0600), replacing the file."""
    for name, value in values.items():
        if not name.isidentifier() or "\n" in value or "\r" in value:
            raise HomeError(f"cannot write the setting {name!r} to {ENVIRONMENT_FILE}")
    lines = [f"# {line}" for line in header.splitlines()]
    lines += [f"{name}={value}" for name, value in sorted(values.items())]
    return write_private_file(
        ensure_home(home) / ENVIRONMENT_FILE, ("\n".join(lines) + "\n").encode("utf-8")
    )


def home_from_environment(environ: Mapping[str, str] | None = None) -> Path:
    """PERSONVERN_HOME if set, else the default home (before settings are loaded)."""
    env = os.environ if environ is None else environ
    configured = env.get("PERSONVERN_HOME")
    return Path(configured).expanduser() if configured else default_home(env)


# Keys that appeared in personvern's source or docs, and common placeholders: anyone can
# read them, so they must never sign a link.
_KNOWN_KEYS = frozenset(
    {"", "change-me", "changeme", "secret", "development-only", "test", "password"}
)
