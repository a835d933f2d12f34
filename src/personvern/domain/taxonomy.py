"""The vocabulary of the data map: data categories, data uses and data subjects.

The keys follow the Fides taxonomy (the ``fideslang`` package) so that Fides users
recognise them and Fides dataset files can be imported. A data map may extend the
vocabulary with keys of its own, each under an existing parent.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache


class TaxonomyKind(StrEnum):
    """The three vocabularies a data map draws on."""

    DATA_CATEGORY = "data category"
    DATA_USE = "data use"
    DATA_SUBJECT = "data subject"


# GDPR Art. 9(1) special categories and Art. 10 criminal convictions, as Fides keys.
# A key is special when it or one of its ancestors is listed here.
SPECIAL_CATEGORY_ROOTS: Mapping[str, str] = {
    "user.biometric": "Art. 9",
    "user.health_and_medical": "Art. 9",
    "user.demographic.race_ethnicity": "Art. 9",
    "user.demographic.political_opinion": "Art. 9",
    "user.demographic.religious_belief": "Art. 9",
    "user.demographic.sexual_orientation": "Art. 9",
    "user.criminal_history": "Art. 10",
}

NATIONAL_ID_CATEGORY = "user.government_id.national_identification_number"


@dataclass(frozen=True)
class TaxonomyEntry:
    """One key of the vocabulary with its parent and human name."""

    key: str
    name: str
    parent: str | None = None
    description: str = ""


@dataclass(frozen=True)
class Taxonomy:
    """Known keys per vocabulary, with lookups the validator needs."""

    categories: Mapping[str, TaxonomyEntry]
    uses: Mapping[str, TaxonomyEntry]
    subjects: Mapping[str, TaxonomyEntry]
    special_roots: Mapping[str, str] = field(default_factory=lambda: dict(SPECIAL_CATEGORY_ROOTS))

    def entries(self, kind: TaxonomyKind) -> Mapping[str, TaxonomyEntry]:
        """The entries of one vocabulary."""
        return {
            TaxonomyKind.DATA_CATEGORY: self.categories,
            TaxonomyKind.DATA_USE: self.uses,
            TaxonomyKind.DATA_SUBJECT: self.subjects,
        }[kind]

    def knows(self, kind: TaxonomyKind, key: str) -> bool:
        """Whether ``key`` is a known key of that vocabulary."""
        return key in self.entries(kind)

    def suggest(self, kind: TaxonomyKind, key: str) -> list[str]:
        """Close matches for a key that is not known, best first."""
        known = list(self.entries(kind))
        close = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
        if close:
            # Offer runners-up only when they are nearly as close as the best match.
            best = difflib.SequenceMatcher(None, key, close[0]).ratio()
            return [
                c for c in close if difflib.SequenceMatcher(None, key, c).ratio() >= best - 0.03
            ]
        # A wrong prefix with a right leaf ("contact.email") still deserves a hint.
        leaf = key.rsplit(".", 1)[-1]
        return [k for k in known if k.rsplit(".", 1)[-1] == leaf][:3]

    def ancestors(self, kind: TaxonomyKind, key: str) -> list[str]:
        """The key itself followed by its parents up to the root."""
        entries = self.entries(kind)
        chain: list[str] = []
        current: str | None = key
        while current is not None and current not in chain:
            chain.append(current)
            entry = entries.get(current)
            current = entry.parent if entry else None
        return chain

    def special_article(self, category: str) -> str | None:
        """``"Art. 9"``/``"Art. 10"`` when the category is special, else None."""
        for key in self.ancestors(TaxonomyKind.DATA_CATEGORY, category):
            if key in self.special_roots:
                return self.special_roots[key]
        return None

    def name(self, kind: TaxonomyKind, key: str) -> str:
        """The human name of a key, or the key itself when unnamed."""
        entry = self.entries(kind).get(key)
        return entry.name if entry and entry.name else key

    def extended(
        self,
        kind: TaxonomyKind,
        entries: Iterable[TaxonomyEntry],
        special: Mapping[str, str] | None = None,
    ) -> Taxonomy:
        """A copy with custom keys added to one vocabulary."""
        merged = dict(self.entries(kind))
        merged.update({e.key: e for e in entries})
        roots = dict(self.special_roots)
        roots.update(special or {})
        return Taxonomy(
            categories=merged if kind is TaxonomyKind.DATA_CATEGORY else self.categories,
            uses=merged if kind is TaxonomyKind.DATA_USE else self.uses,
            subjects=merged if kind is TaxonomyKind.DATA_SUBJECT else self.subjects,
            special_roots=roots,
        )


@cache
def fides_taxonomy() -> Taxonomy:
    """The default Fides taxonomy shipped with ``fideslang``."""
    from fideslang.default_taxonomy import DEFAULT_TAXONOMY

    def convert(items: Iterable[object]) -> dict[str, TaxonomyEntry]:
        out: dict[str, TaxonomyEntry] = {}
        for item in items:
            key = str(getattr(item, "fides_key"))  # noqa: B009 - fideslang objects are untyped here
            out[key] = TaxonomyEntry(
                key=key,
                name=str(getattr(item, "name", "") or ""),
                parent=getattr(item, "parent_key", None),
                description=str(getattr(item, "description", "") or ""),
            )
        return out

    return Taxonomy(
        categories=convert(DEFAULT_TAXONOMY.data_category),
        uses=convert(DEFAULT_TAXONOMY.data_use),
        subjects=convert(DEFAULT_TAXONOMY.data_subject),
    )
