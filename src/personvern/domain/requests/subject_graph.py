"""How a request walks from the identities a subject gave to every record about them.

The data map's identity fields and references form a graph over datasets. A request
starts from the subject's identities, asks each dataset for rows that carry one of
them, and follows references from rows found to rows that point at them
(customer -> invoices -> invoice lines; customer -> designated employees -> their
security cards). The walk is a fixpoint: each step asks a dataset only for values it
has not asked for yet, so every dataset is queried a small, constant number of times
however many rows there are.

Identities found on the way widen the search, with care: a row matched by one of the
subject's own identities (their customer record, found by e-mail) yields all its
identities (customer number, phone, national id). A row reached by reference yields
only device and account identifiers (the cookie of a signed-in web session), never
contact details: the e-mail on a ticket under a company customer may be a colleague's,
and following it would answer with another person's data. Rows that only *mention*
the subject in free text yield nothing and are redacted, not erased, on erasure. A
row of a field marked ``names_sender`` (a web form signed in its text, a URL logged
with the address typed) that names the subject as its sender and has no owner key is
the subject's own instead (personvern.domain.requests.named_sender); it yields nothing
either.

A row found only through an identity found on the way and filed under a person that is
not the subject (another customer's signed-in session on a shared browser) is not the
subject's, unless it carries an identity of the subject's own person record and is
filed under the record that one points at (a designated employee's call from their own
phone under their firm's customer number). Persons reached through a ``belongs_to``
field from the subject's own record (a business customer's contacts) are named by
:meth:`SubjectWalk.belonging_people`: the plan erases them with the subject when the
map says so, and the answer shows the subject only part of them.

Identities are compared only in their canonical form (personvern.domain.identities:
e-mail canonical, phones E.164 read with the controller's country, national identity
numbers compact), whoever compares them: the walk learns found values in that form,
asks the stores for every spelling of them, and does not take a connector's word that
a row matched an identity field unless the row's value is, in that form, one it asked
for. A value on the subject's own record that cannot be read (a phone number that is
no number, a national identity number failing its check digits) is never a failure:
the walk notes where it sits, and the plan tells the privacy officer to look.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from personvern.domain.datamap import DataMap, Dataset, IdentityKind, System
from personvern.domain.file_ownership import file_owner_references
from personvern.domain.identities.kinds import SPELLED, scheme
from personvern.domain.identities.mentions import mention_pattern
from personvern.domain.requests.duplicates import same_subject
from personvern.domain.requests.identity import SubjectIdentity
from personvern.domain.requests.named_sender import has_owner_key, sent_by_subject

#: Identity kinds a record reached only by reference may lend to the search.
_INHERITABLE = frozenset({IdentityKind.COOKIE_ID, IdentityKind.ACCOUNT_ID})
#: Kinds whose spelled-out forms are searched in free text.
_TEXT_KINDS = SPELLED
#: Kinds whose values are not shown even as a record's key.
_PERSONAL_KEYS = SPELLED


class MatchKind(StrEnum):
    """Why a record belongs to the subject's answer."""

    #: It carries one of the subject's identities.
    IDENTITY = "identity"
    #: It points at a record that was found (an invoice of the customer).
    REFERENCE = "reference"
    #: Its text names the subject as its sender and nothing else says whose it is (a
    #: web form signed in the text, a URL logged with the address typed).
    SENDER = "sender"
    #: It mentions the subject in free text but is about someone or something else.
    MENTION = "mention"


@dataclass(frozen=True)
class DatasetNode:
    """One dataset of a connected system, as the walk sees it."""

    system: str
    dataset: str
    key_field: str
    identities: Mapping[str, IdentityKind]
    #: field -> "system.dataset.field" it references.
    references: Mapping[str, str]
    free_text: tuple[str, ...]
    #: Free-text fields that name the record's sender (``names_sender``).
    names_sender: tuple[str, ...] = ()
    #: The field referencing the person each record belongs to (``belongs_to``), if any.
    belongs_to: str | None = None
    #: Whether erasing that person erases these records too (``erased_with_it``).
    erased_with_owner: bool = False
    #: Fields holding the person's name (category user.name): duplicates agree on them.
    names: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The qualified name, "system.dataset"."""
        return f"{self.system}.{self.dataset}"

    @property
    def is_person_record(self) -> bool:
        """Whether each row is a person (its key is an identity: a customer, a prospect)."""
        return self.key_field in self.identities


def _qualify(system: System, reference: str) -> str:
    parts = reference.split(".")
    return reference if len(parts) == 3 else f"{system.key}.{reference}"


def _node(system: System, dataset: Dataset) -> DatasetNode | None:
    keys = [f.name for f in dataset.fields if f.primary_key]
    if not keys:
        return None
    return DatasetNode(
        system=system.key,
        dataset=dataset.name,
        key_field=keys[0],
        identities={f.name: f.identity for f in dataset.fields if f.identity is not None},
        # A file owned by a column is reached from the row naming it, like a reference.
        references={
            **{f.name: _qualify(system, f.references) for f in dataset.fields if f.references},
            **file_owner_references(dataset),
        },
        free_text=tuple(f.name for f in dataset.fields if f.free_text),
        names_sender=tuple(f.name for f in dataset.fields if f.free_text and f.names_sender),
        belongs_to=dataset.belongs_to.field if dataset.belongs_to else None,
        erased_with_owner=bool(dataset.belongs_to and dataset.belongs_to.erased_with_it),
        names=tuple(
            f.name
            for f in dataset.fields
            if f.category == "user.name" or str(f.category).startswith("user.name.")
        ),
    )


@dataclass(frozen=True)
class SubjectGraph:
    """The datasets a request searches, in the order it asks them."""

    nodes: tuple[DatasetNode, ...]

    @classmethod
    def from_datamap(cls, datamap: DataMap, systems: Iterable[str] | None = None) -> SubjectGraph:
        """Every dataset with a primary key in a connected system (optionally only some)."""
        wanted = set(systems) if systems is not None else None
        nodes = [
            node
            for system in datamap.systems
            if system.kind.needs_connection and (wanted is None or system.key in wanted)
            for dataset in system.datasets
            if (node := _node(system, dataset)) is not None
        ]
        return cls(tuple(_search_order(nodes)))

    def node(self, name: str) -> DatasetNode:
        """The node of "system.dataset"."""
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    def children_first(self) -> list[DatasetNode]:
        """Datasets ordered so that rows pointing at others come before what they point at."""
        return list(reversed(_topological(list(self.nodes))))


def _topological(nodes: list[DatasetNode]) -> list[DatasetNode]:
    by_name = {node.name: node for node in nodes}
    ordered: list[DatasetNode] = []
    seen: set[str] = set()

    def visit(node: DatasetNode, path: frozenset[str]) -> None:
        if node.name in seen or node.name in path:
            return
        for target in node.references.values():
            parent = by_name.get(target.rsplit(".", 1)[0])
            if parent is not None and parent is not node:
                visit(parent, path | {node.name})
        seen.add(node.name)
        ordered.append(node)

    for node in nodes:
        visit(node, frozenset())
    return ordered


def _search_order(nodes: list[DatasetNode]) -> list[DatasetNode]:
    # Parents before children, and among the roots the richest identity records first:
    # the customer record found by e-mail yields the phone number the prospects and
    # call recordings are then searched by, in the same pass.
    ranked = sorted(nodes, key=lambda n: (-len(n.identities), n.name))
    return _topological(ranked)


@dataclass
class _Found:
    record_key: Any
    values: Mapping[str, Any]
    match: MatchKind
    matched: frozenset[str] = frozenset()


@dataclass
class SubjectWalk:
    """The state of one request's search: what is known, asked and found."""

    graph: SubjectGraph
    given: tuple[SubjectIdentity, ...]
    known: dict[IdentityKind, set[str]] = field(default_factory=lambda: defaultdict(set))
    found: dict[str, dict[Any, _Found]] = field(default_factory=lambda: defaultdict(dict))
    #: Per dataset and field, the values already asked for.
    asked: dict[str, dict[str, set[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(set))
    )
    #: Per person-record dataset, the records a given identity matched: the subject.
    own_people: dict[str, set[Any]] = field(default_factory=lambda: defaultdict(set))
    #: Per person-record dataset, records matched only by identities found on the way.
    people_found_on_the_way: dict[str, set[Any]] = field(default_factory=lambda: defaultdict(set))
    #: The identities given and those on the subject's own person records (canonical): a
    #: record carrying one, filed under a record those point at (their firm), is theirs.
    own_identities: dict[IdentityKind, set[str]] = field(default_factory=lambda: defaultdict(set))
    #: The controller's country: the region phone numbers without a country code are
    #: read in, and the rule national identity numbers are checked by.
    country: str = "NO"
    #: Identity fields of the subject's records whose value could not be read, as
    #: (dataset, key, field); never the value.
    unreadable: set[tuple[str, Any, str]] = field(default_factory=set)
    #: A person's review decisions (personvern.domain.requests.review), per dataset the
    #: keys as text: records attached to the subject, records that are not theirs, and
    #: records that cannot be read, left out of the search.
    attached: Mapping[str, frozenset[str]] = field(default_factory=dict)
    set_aside: Mapping[str, frozenset[str]] = field(default_factory=dict)
    left_out: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: Values read and spellings made in this walk, so each is worked out once. Kept
    #: per walk, never per process: they are the subject's personal data.
    _read: dict[tuple[IdentityKind, Any], str | None] = field(
        default_factory=dict, init=False, repr=False
    )
    _spelled: dict[tuple[IdentityKind, str], frozenset[str]] = field(
        default_factory=dict, init=False, repr=False
    )
    _mentions: tuple[frozenset[str], re.Pattern[str]] | None = field(
        default=None, init=False, repr=False
    )

    def __post_init__(self) -> None:
        for identity in self.given:
            self._learn(identity.kind, identity.value)
            self.own_identities[identity.kind].add(identity.value)

    def canonical(self, kind: IdentityKind, value: Any) -> str | None:
        """``value`` (found on a record, or asked for) in canonical form, or None; never raises."""
        if not isinstance(value, str | int) or isinstance(value, bool):
            return scheme(kind).canonical_or_none(value, self.country)
        read = self._read.get((kind, value), ...)
        if read is ...:
            read = self._read[kind, value] = scheme(kind).canonical_or_none(value, self.country)
        return read

    def _learn(
        self, kind: IdentityKind, value: Any, where: tuple[str, Any, str] | None = None
    ) -> bool:
        if value is None or not str(value).strip():
            return False
        canonical = self.canonical(kind, value)
        if canonical is None:
            # Unreadable widens the search to nobody; the plan says where it sits.
            if where is not None:
                self.unreadable.add(where)
            return False
        before = len(self.known[kind])
        self.known[kind].add(canonical)
        return len(self.known[kind]) > before

    def _spellings(
        self, kind: IdentityKind, canonical: str, *, text: bool = False
    ) -> frozenset[str]:
        """The stored spellings (or, with ``text``, the text needles) of one identity."""
        key = (kind, f"~{canonical}" if text else canonical)
        spellings = self._spelled.get(key)
        if spellings is None:
            kinds = scheme(kind)
            make = kinds.text_needles if text else kinds.stored_spellings
            spellings = self._spelled[key] = make(canonical, self.country)
        return spellings

    def exact_values(self, kind: IdentityKind) -> set[str]:
        """Every spelling of every known identity of ``kind``, for equality matches."""
        values: set[str] = set()
        for canonical in self.known.get(kind, set()):
            values |= self._spellings(kind, canonical)
        return values

    def needles(self) -> set[str]:
        """What to search free text for: the written forms of contact and national ids."""
        needles: set[str] = set()
        for kind in _TEXT_KINDS:
            for canonical in self.known.get(kind, set()):
                needles |= self._spellings(kind, canonical, text=True)
        # As written: mention_pattern ignores the case of A-Z only, and lower-casing an
        # address with letters outside ASCII would make it another person's.
        return {needle for needle in needles if len(needle) >= 6}

    def unreadable_values(self) -> list[str]:
        """Identity fields of the subject's records that cannot be read: "dataset key field"."""
        shown = []
        for dataset, key, name in sorted(self.unreadable, key=str):
            kind = self._key_kind(dataset)
            # A key that is itself contact details is masked, as in connector messages.
            key_text = SubjectIdentity(kind, str(key)).masked.partition("=")[2] if kind else key
            shown.append(f"{dataset} {key_text} {name}")
        return shown

    def _key_kind(self, dataset: str) -> IdentityKind | None:
        try:
            node = self.graph.node(dataset)
        except KeyError:
            return None
        kind = node.identities.get(node.key_field)
        return kind if kind in _PERSONAL_KEYS else None

    def _reference_values(self, target: str) -> set[str]:
        dataset, _, target_field = target.rpartition(".")
        # Compared as text: the store coerces back to the column's type, and one
        # spelling per value keeps "42" and 42 from being asked for twice.
        unproven = self.people_found_on_the_way[dataset] - self.own_people[dataset]
        values = {
            str(value)
            for key, found in self.found.get(dataset, {}).items()
            if key not in unproven and (value := found.values.get(target_field)) is not None
        }
        try:
            node = self.graph.node(dataset)
        except KeyError:
            return values
        kind = node.identities.get(target_field)
        if kind is not None:
            values |= self.exact_values(kind)
        return values

    def pending(self, node: DatasetNode) -> dict[str, dict[str, set[str]]]:
        """New values to ask ``node`` for: {"exact": {field: values}, "mentions": {...}}."""
        asked = self.asked[node.name]
        exact: dict[str, set[str]] = {}
        for name, kind in node.identities.items():
            new = self.exact_values(kind) - asked[name]
            if new:
                exact[name] = new
        for name, target in node.references.items():
            new = self._reference_values(target) - asked[name]
            if new:
                exact[name] = exact.get(name, set()) | new
        mentions: dict[str, set[str]] = {}
        needles = self.needles()
        for name in node.free_text:
            new_needles = needles - asked[f"~{name}"]
            if new_needles:
                mentions[name] = new_needles
        return {"exact": exact, "mentions": mentions}

    def mark_asked(self, node: DatasetNode, pending: Mapping[str, Mapping[str, set[str]]]) -> None:
        """Remember what was asked so the next pass asks only for what is new."""
        for name, values in pending["exact"].items():
            self.asked[node.name][name] |= values
        for name, needles in pending["mentions"].items():
            self.asked[node.name][f"~{name}"] |= set(needles)

    def absorb(
        self, node: DatasetNode, key: Any, values: Mapping[str, Any], matched: Iterable[str]
    ) -> None:
        """Take in one record found in ``node`` and learn the identities it may lend."""
        given = set(matched)
        matched = {name for name in given if self._confirmed(node, name, values.get(name))}
        if str(key) in self.set_aside.get(node.name, ()):
            # A person decided the record is not the subject's: it is found at most for
            # what any other person's record is (a reference, a mention to redact).
            matched -= set(node.identities)
            if not matched:
                return
        if given and not matched:
            return
        if matched & set(node.identities):
            match = MatchKind.IDENTITY
        elif matched & set(node.references) or not (matched & set(node.free_text)):
            match = MatchKind.REFERENCE
        elif self._sent_by_subject(node, values, matched):
            match = MatchKind.SENDER
        else:
            match = MatchKind.MENTION
        existing = self.found[node.name].get(key)
        if existing is not None and _rank(existing.match) <= _rank(match):
            return
        by_given = any(self._carries(node, values, identity) for identity in self.given)
        if node.is_person_record and match is MatchKind.IDENTITY and not by_given:
            # Attached by a person, or the subject's own record kept twice: theirs.
            by_given = str(key) in self.attached.get(node.name, ()) or self._duplicate_of_own(
                node, values
            )
        if (
            match is MatchKind.IDENTITY
            and not by_given
            and self._someone_elses(node, values, through_own=self._carries_own(node, values))
        ):
            # Found only through an identifier found on the way (a browser cookie) that
            # another signed-in person used too: the row says whose it is, and it is not
            # ours. One carrying an identity of the subject's own record, filed under the
            # customer that record belongs to, is theirs (a designated employee's call
            # from their own phone, under their firm's customer number).
            if existing is None:
                return
            match = existing.match
        self.found[node.name][key] = _Found(key, values, match, frozenset(matched))
        if node.is_person_record and match is MatchKind.IDENTITY:
            (self.own_people if by_given else self.people_found_on_the_way)[node.name].add(key)
            if by_given:
                self._adopt_duplicates(node)
            if not by_given:
                # A person record reached through an identity found on the way (a phone
                # number typed into someone's own record) proves nothing: it lends no
                # identities, and conflicts() sends the request for review.
                return
        own_record = node.is_person_record and match is MatchKind.IDENTITY
        for name, kind in node.identities.items():
            if match is MatchKind.IDENTITY or (
                match is MatchKind.REFERENCE and kind in _INHERITABLE
            ):
                self._learn(kind, values.get(name), (node.name, key, name))
                canonical = self.canonical(kind, values.get(name)) if own_record else None
                if canonical is not None:
                    self.own_identities[kind].add(canonical)

    def _carries_own(self, node: DatasetNode, values: Mapping[str, Any]) -> bool:
        """Whether the record carries an identity given or on the subject's own person record."""
        return any(
            self.canonical(kind, values.get(name)) in self.own_identities.get(kind, set())
            for name, kind in node.identities.items()
        )

    def _sent_by_subject(
        self, node: DatasetNode, values: Mapping[str, Any], matched: set[str]
    ) -> bool:
        """Whether a record found by its text is the subject's own: they are named its sender.

        Decided with what the walk knows when the record comes back; a record whose
        sender is an identity learned later is returned again for that identity's
        needles, and decided again (personvern.domain.requests.named_sender).
        """
        if not matched & set(node.names_sender):
            return False
        if has_owner_key(values, node.references, node.identities):
            return False
        return sent_by_subject((values.get(name) for name in node.names_sender), self._pattern())

    def _pattern(self) -> re.Pattern[str]:
        """The subject's mentions as a pattern, compiled once for each set of needles."""
        needles = frozenset(self.needles())
        if self._mentions is None or self._mentions[0] != needles:
            self._mentions = (needles, mention_pattern(needles))
        return self._mentions[1]

    def _confirmed(self, node: DatasetNode, name: str, value: Any) -> bool:
        """Whether a field the connector says matched matches by the canonical comparison.

        Fields of the spelled kinds (e-mail, phone, national id) are checked: a store
        comparing loosely (case-folding ``ſ`` to ``s``) must not make another person's
        address the subject's, nor a careless one another person's number.
        """
        kind = node.identities.get(name)
        if kind not in SPELLED:
            return True
        canonical = self.canonical(kind, value)
        asked = self.asked.get(node.name, {}).get(name, set())
        return canonical is not None and any(self.canonical(kind, a) == canonical for a in asked)

    def _someone_elses(
        self, node: DatasetNode, values: Mapping[str, Any], *, through_own: bool = False
    ) -> bool:
        """Whether the record points at a person record that is not the subject's own.

        With ``through_own`` (the record carries an identity of the subject's own), a
        record the subject's own person records point at (their firm) counts as theirs.
        """
        for name, target in node.references.items():
            value = values.get(name)
            dataset, _, target_field = target.rpartition(".")
            if value is None or not self._is_person_dataset(dataset):
                continue
            own = {
                str(found.values.get(target_field))
                for found in self.found.get(dataset, {}).values()
                if found.match is MatchKind.IDENTITY
            }
            if through_own:
                own |= self._referenced_by_own_people(target)
            if str(value) not in own:
                return True
        return False

    def _referenced_by_own_people(self, target: str) -> set[str]:
        """The values of ``target`` ("system.dataset.field") the subject's own records point at."""
        values: set[str] = set()
        for dataset, keys in self.own_people.items():
            try:
                node = self.graph.node(dataset)
            except KeyError:
                continue
            for name, referenced in node.references.items():
                if referenced != target:
                    continue
                for key in keys:
                    value = self.found[dataset][key].values.get(name)
                    if value is not None:
                        values.add(str(value))
        return values

    def _is_person_dataset(self, dataset: str) -> bool:
        try:
            return self.graph.node(dataset).is_person_record
        except KeyError:
            return False

    def _carries(
        self, node: DatasetNode, values: Mapping[str, Any], identity: SubjectIdentity
    ) -> bool:
        # By canonical form: "971 55 337" on the record carries +4797155337.
        return any(
            kind is identity.kind and self.canonical(kind, values.get(name)) == identity.value
            for name, kind in node.identities.items()
        )

    def conflicts(self) -> list[str]:
        """Person-record datasets where the search cannot be sure it found one person.

        Two different records matched by identity (a shared mailbox, a phone number two
        customers gave), or a person record reached only through an identity found on
        the way: either would answer with, or erase, someone else's data. Records of
        the subject kept twice (personvern.domain.requests.duplicates) are one person,
        and records a person attached in a review are the subject's.
        """
        datasets = set(self.own_people) | set(self.people_found_on_the_way)
        return sorted(
            dataset
            for dataset in datasets
            if self.people_found_on_the_way[dataset] - self.own_people[dataset]
            or not self._one_subject(dataset)
        )

    def review_candidates(self) -> dict[str, list[str]]:
        """Per conflicting dataset, the keys (as text) of the person records to decide on."""
        candidates: dict[str, list[str]] = {}
        for dataset in self.conflicts():
            attached = self.attached.get(dataset, frozenset())
            keys = self.own_people[dataset] | self.people_found_on_the_way[dataset]
            candidates[dataset] = sorted({str(k) for k in keys} - attached)
        return candidates

    def _one_subject(self, dataset: str) -> bool:
        """Whether the records matched by the subject's identities are one person.

        Records a person attached are the subject's; any other must be one of them kept
        twice (or, with none attached, all must be one record kept more than once).
        """
        attached = self.attached.get(dataset, frozenset())
        own = sorted(self.own_people[dataset], key=str)
        decided = [k for k in own if str(k) in attached]
        keys = [k for k in own if str(k) not in attached]
        if not keys or (len(keys) == 1 and not decided):
            return True
        node = self.graph.node(dataset)
        if decided:
            return all(any(self._same(node, m, k) for m in decided) for k in keys)
        return any(all(k == m or self._same(node, m, k) for k in keys) for m in keys)

    def _same(self, node: DatasetNode, first: Any, second: Any) -> bool:
        found = self.found[node.name]
        return same_subject(
            node.identities,
            node.key_field,
            node.names,
            found[first].values,
            found[second].values,
            self.canonical,
        )

    def _duplicate_of_own(self, node: DatasetNode, values: Mapping[str, Any]) -> bool:
        """Whether a person record is one of the subject's own records kept twice."""
        found = self.found.get(node.name, {})
        return any(
            same_subject(
                node.identities,
                node.key_field,
                node.names,
                found[key].values,
                values,
                self.canonical,
            )
            for key in self.own_people.get(node.name, set())
            if key in found
        )

    def _adopt_duplicates(self, node: DatasetNode) -> None:
        """Make the subject's records kept twice, found before their own, the subject's."""
        waiting = self.people_found_on_the_way[node.name] - self.own_people[node.name]
        for key in sorted(waiting, key=str):
            values = self.found[node.name][key].values
            if self._duplicate_of_own(node, values):
                self.own_people[node.name].add(key)
                for name, kind in node.identities.items():
                    self._learn(kind, values.get(name), (node.name, key, name))

    def related_people(self, *, erasing: bool = False) -> dict[str, set[Any]]:
        """Person records reached by reference: other people under the subject's record.

        With ``erasing``, less those the data map says go with the subject (``belongs_to``
        with ``erased_with_it``): an erasure takes them as the subject's own.
        """
        related = {
            dataset: {k for k, f in found.items() if f.match is MatchKind.REFERENCE}
            for dataset, found in self.found.items()
            if self._is_person_dataset(dataset)
        }
        if erasing:
            for dataset, keys in self.belonging_people().items():
                if self.graph.node(dataset).erased_with_owner:
                    related[dataset] = related.get(dataset, set()) - keys
        return related

    def belonging_people(self) -> dict[str, set[Any]]:
        """Per ``belongs_to`` dataset, the persons found who belong to the subject.

        Those reached by reference through the ``belongs_to`` field from a record the
        subject's identities matched (the contacts of the business customer who asks);
        one matched by an identity is that person asking, and entirely theirs.
        """
        belonging: dict[str, set[Any]] = {}
        for node in self.graph.nodes:
            field_ = node.belongs_to
            target = node.references.get(field_) if field_ is not None else None
            if field_ is None or target is None or not self.found.get(node.name):
                continue
            dataset, _, target_field = target.rpartition(".")
            unproven = self.people_found_on_the_way.get(dataset, set()) - self.own_people.get(
                dataset, set()
            )
            owners = {
                str(value)
                for key, found in self.found.get(dataset, {}).items()
                if found.match is MatchKind.IDENTITY
                and key not in unproven
                and (value := found.values.get(target_field)) is not None
            }
            keys = {
                key
                for key, found in self.found[node.name].items()
                if found.match is MatchKind.REFERENCE and str(found.values.get(field_)) in owners
            }
            if keys:
                belonging[node.name] = keys
        return belonging

    def belongs_to_related_person(
        self, node: DatasetNode, values: Mapping[str, Any], *, erasing: bool = False
    ) -> bool:
        """Whether the record points at one of the related people (an employee's card)."""
        return self.points_at(node, values, self.related_people(erasing=erasing))

    def points_at(
        self, node: DatasetNode, values: Mapping[str, Any], people: Mapping[str, set[Any]]
    ) -> bool:
        """Whether the record references one of ``people`` (found records, per dataset)."""
        for name, target in node.references.items():
            dataset, _, target_field = target.rpartition(".")
            value = values.get(name)
            if value is None or not people.get(dataset):
                continue
            keys = {str(self.found[dataset][k].values.get(target_field)) for k in people[dataset]}
            if str(value) in keys:
                return True
        return False

    def excluded(self, node: DatasetNode) -> frozenset[Any]:
        """Keys not to return again: found for a reason stronger than a mention, or left out.

        Left out are records that cannot be read which a person excluded in a review:
        asking for them again would fail the same way.
        """
        return frozenset(
            key
            for key, f in self.found.get(node.name, {}).items()
            if f.match is not MatchKind.MENTION
        ) | self.left_out.get(node.name, frozenset())

    def records(self, dataset: str) -> dict[Any, tuple[Mapping[str, Any], MatchKind]]:
        """The records found in "system.dataset", with why each was found."""
        return {k: (f.values, f.match) for k, f in self.found.get(dataset, {}).items()}

    def matched_fields(self, dataset: str, key: Any) -> frozenset[str]:
        """The fields of a found record whose value matched the search.

        None for a record that names the subject as its sender: an answer shows only
        the matched text of a record found by its text (a mention), and this record is
        theirs, shown whole like one found by reference.
        """
        found = self.found.get(dataset, {}).get(key)
        if found is None or found.match is MatchKind.SENDER:
            return frozenset()
        return found.matched

    def found_any(self) -> bool:
        """Whether anything at all was found about the subject."""
        return any(self.found.values())

    def harvested(self) -> dict[IdentityKind, set[str]]:
        """Every identity known now, given or found on the way."""
        return {kind: set(values) for kind, values in self.known.items() if values}


def _rank(match: MatchKind) -> int:
    return {
        MatchKind.IDENTITY: 0,
        MatchKind.REFERENCE: 1,
        MatchKind.SENDER: 2,
        MatchKind.MENTION: 3,
    }[match]


def searchable_nodes(graph: SubjectGraph, walk: SubjectWalk) -> Sequence[DatasetNode]:
    """The nodes that have something new to be asked, in search order."""
    return [node for node in graph.nodes if _has_work(walk.pending(node))]


def _has_work(pending: Mapping[str, Mapping[str, set[str]]]) -> bool:
    return any(pending["exact"].values()) or any(pending["mentions"].values())
