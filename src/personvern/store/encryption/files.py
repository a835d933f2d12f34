"""Answer files (reports, exports) sealed on disk under the subject's data key.

The file is written in plain first (the writers stream into it), hashed for the
receipt, then replaced atomically by its envelope; only personvern's user could read
the plain file meanwhile (mode 0600 in a 0700 folder). Opening needs the subject's
key, so an erased subject's answers, and their copies in backups of the home, are
unreadable.
"""

from __future__ import annotations

from pathlib import Path

from personvern.data_home import write_private_file
from personvern.domain.envelope import file_purpose
from personvern.store.encryption.vault import KeyCache, SubjectVault

#: What an answer file's envelope is bound to, with the request id and the file's name.
ANSWER = "answer"


def seal_answer_file(
    vault: SubjectVault,
    subject_hash: str,
    request_id: str,
    name: str,
    path: Path,
    cache: KeyCache | None = None,
) -> None:
    """Replace the plain file at ``path`` with its envelope."""
    purpose = file_purpose(ANSWER, request_id, name)
    write_private_file(path, vault.seal(subject_hash, purpose, path.read_bytes(), cache))


def open_answer_file(
    vault: SubjectVault, request_id: str, name: str, path: Path, cache: KeyCache | None = None
) -> bytes:
    """The plain content of a sealed answer file."""
    return vault.open(file_purpose(ANSWER, request_id, name), path.read_bytes(), cache)
