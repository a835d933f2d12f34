"""A unit of work on personvern's store: one transaction and the repositories inside it.

Services are handed a unit of work (or a factory of them, when their work spans
several transactions, like a request run) instead of opening sessions themselves, so
the entry point decides where the store is and tests can give them any store.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from personvern.store.audit_events import AuditTrail
from personvern.store.db import SessionFactory, session_scope, translate_errors
from personvern.store.requests import RequestRepository
from personvern.store.tokens import ApiTokenRepository

if TYPE_CHECKING:
    from personvern.store.encryption.vault import SubjectVault


class UnitOfWork:
    """One transaction: committed when the ``with`` block ends normally, rolled back if it raises.

    The session is opened on entry; ``session``, ``requests`` and ``tokens`` are only
    usable inside the block.
    """

    def __init__(self, session_factory: SessionFactory, url: URL | None = None) -> None:
        """Prepare a unit of work on the store that ``session_factory`` opens sessions on.

        With ``url``, the store's connection failures become StoreUnavailableError.
        """
        self._factory = session_factory
        self._url = url
        self._session: Session | None = None
        self._stack: ExitStack | None = None

    def __enter__(self) -> UnitOfWork:
        if self._stack is not None:
            raise RuntimeError("a unit of work is entered once at a time")
        stack = ExitStack()
        if self._url is not None:
            stack.enter_context(translate_errors(self._url))
        self._session = stack.enter_context(session_scope(self._factory))
        self._stack = stack
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        stack, self._stack, self._session = self._stack, None, None
        assert stack is not None
        # Neither the session scope nor the error translation swallows an exception.
        stack.__exit__(exc_type, exc, traceback)

    @property
    def session(self) -> Session:
        """The open session (inside the ``with`` block only)."""
        if self._session is None:
            raise RuntimeError("the unit of work is not open: use it in a `with` block")
        return self._session

    @property
    def requests(self) -> RequestRepository:
        """The data subject requests, in this transaction."""
        return RequestRepository(self.session)

    @property
    def audit(self) -> AuditTrail:
        """The audit trail, appended to in this transaction."""
        return AuditTrail(self.session)

    @property
    def vault(self) -> SubjectVault | None:
        """The vault sealing this unit of work's sensitive fields, if the store has one."""
        from personvern.store.encryption.fields import session_vault

        return session_vault(self.session)[0]

    @property
    def tokens(self) -> ApiTokenRepository:
        """The API tokens, in this transaction."""
        return ApiTokenRepository(self.session)


#: What services that need several transactions are given: each call is a new unit of work.
UnitOfWorkFactory = Callable[[], UnitOfWork]


def unit_of_work_factory(
    session_factory: SessionFactory, url: URL | None = None
) -> UnitOfWorkFactory:
    """Units of work on the store ``session_factory`` opens sessions on."""
    return lambda: UnitOfWork(session_factory, url)
