"""Answer files (reports, exports) sealed on disk under the subject's data key.

The request engine seals an answer's content in memory and writes only the envelope
(``seal_answer``): no plain copy reaches the disk. Opening needs the subject's key, so
an erased subject's answers, and their copies in backups of the home, are unreadable.
"""

from __future__ import annotations

from pathlib import Path

from personvern.domain.envelope import file_purpose
from personvern.store.encryption.vault import KeyCache, SubjectVault

#: What an answer file's envelope is bound to, with the request id and the file's name.
ANSWER = "answer"


def seal_answer(
    vault: SubjectVault,
    subject_hash: str,
    request_id: str,
    name: str,
    plain: bytes,
    cache: KeyCache | None = None,
) -> bytes:
    """The envelope of an answer file's plain content, bound to the request and the name."""
    return vault.seal(subject_hash, file_purpose(ANSWER, request_id, name), plain, cache)


def open_answer_file(
    vault: SubjectVault, request_id: str, name: str, path: Path, cache: KeyCache | None = None
) -> bytes:
    """The plain content of a sealed answer file."""
    return vault.open(file_purpose(ANSWER, request_id, name), path.read_bytes(), cache)
