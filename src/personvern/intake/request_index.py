"""Open requests found by identity: the keyed hashes of their identities, kept while open.

Filing a request writes them (personvern.intake.service); this module indexes the open
requests of a store that were filed before the index existed (migration 0023), which
needs the secret key and the requests' sealed identities, so the API does it on start.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from personvern.domain.envelope import SubjectKeyDestroyedError
from personvern.security.subject_hash import identity_hash_pairs
from personvern.settings import Settings
from personvern.store.requests import RequestRepository


def index_open_requests(session: Session, settings: Settings) -> int:
    """Index the open requests that have no identity hashes yet; how many were indexed."""
    secret = settings.secret()
    repository = RequestRepository(session)
    indexed = 0
    for request in repository.open_without_identity_hashes():
        try:
            identities = list(request.identities or [])
        except SubjectKeyDestroyedError:
            # Shredded: nothing left to find it by.
            continue
        repository.add_identity_hashes(
            request.id, identity_hash_pairs(secret, [(i["kind"], i["value"]) for i in identities])
        )
        indexed += 1
    return indexed
