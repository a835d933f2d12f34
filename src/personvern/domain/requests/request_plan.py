"""What running a request will do, record by record, before anything is touched.

The plan is computed from what the search found and the data map's rules, shown to
the privacy officer (``request run --dry-run``, ``GET /requests/{id}/plan``) and kept
with the request. Erasure then executes exactly the plan: the same keys, children
before parents, so running it again (after a crash, on another worker) changes
nothing that was already done.

Per dataset, an erasure deletes the subject's rows, or, where a field is marked
``erasure: keep`` (a company name on a customer record), keeps the row and erases the
personal fields by their strategy. Rows under a legal hold are kept with the hold's
reference; rows that only mention the subject in free text have the mention redacted.
A row whose ``names_sender`` text names the subject as its sender (a signed web form)
is theirs, erased like the rest (personvern.domain.requests.named_sender).
Other people under the subject's record (a client's designated employees) are kept as
another person's, unless the data map says they belong to the subject and are erased
with it (``belongs_to`` with ``erased_with_it``): then they go as the subject's rows do.
Kept, they still need the subject's row to point at: it stays, its personal fields erased.

A restriction sets the field the dataset's ``restriction`` names on the subject's own
records. What a run cannot do itself is a manual step of the plan: restricting the
records of a dataset that declares no restriction, every request's part in a system
that could not be searched, and checking files that no owner rule attributes to anyone
where the request covers them (personvern.domain.requests.file_coverage). Each becomes
a task a person marks done.

A file owned by a row naming it (``files.owner.column``) follows that row's person: a
file named by another person's row is theirs too, and kept like the row. Where rows
and the files they name do not stay together (a row names a missing file; an erasure
keeps one of the two under a legal hold) the plan says so in ``file_mismatches``.

What a request type does with a dataset's records is its handler's rule
(personvern.domain.requests.handlers); this module sorts the records found by whose
they are, asks the handler for each dataset's part, and adds what holds for every type.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import Any

from personvern.domain.datamap import DataMap, Dataset
from personvern.domain.errors import DomainError
from personvern.domain.requests.dataset_plan import (
    DatasetPlan,
    FoundInDataset,
    field_strategies,
    personal_field,
    with_changes,
)
from personvern.domain.requests.file_coverage import (
    FileMismatch,
    concerned_file_datasets,
    file_mismatches,
    follow_rows,
)
from personvern.domain.requests.handlers import handler_for
from personvern.domain.requests.legal_hold import LegalHold, legal_holds
from personvern.domain.requests.lifecycle import RequestType
from personvern.domain.requests.subject_graph import (
    DatasetNode,
    MatchKind,
    SubjectGraph,
    SubjectWalk,
)
from personvern.errors import ErrorKind

#: The form of a stored plan this personvern writes, and the only one a run resumes.
#: Raise it when a change to the plan's fields changes what a stored plan means.
PLAN_VERSION = 1


class UnknownPlanVersionError(DomainError):
    """A stored plan is of a form this personvern does not know (another version wrote it)."""

    kind = ErrorKind.CONFLICT
    title = "Stored plan not understood"


class ManualReason(StrEnum):
    """Why a part of a request is left to a person."""

    #: The system could not be searched (its connection is not configured).
    NOT_CONNECTED = "not_connected"
    #: The dataset declares no ``restriction``, so personvern cannot mark its records.
    NO_RESTRICTION = "no_restriction"
    #: Files the request covers that no owner rule attributes to anyone.
    UNATTRIBUTED_FILES = "unattributed_files"
    #: A record that cannot be read, left out of the request in a review.
    NOT_READABLE = "not_readable"
    #: An identity on the subject's record that cannot be read, so it was not searched.
    UNREADABLE_IDENTITY = "unreadable_identity"


@dataclass(frozen=True)
class ManualStep:
    """Work a run cannot do itself: a person does it and marks its task done."""

    #: "system.dataset", or the system's key when the whole system could not be searched.
    key: str
    reason: str
    #: What to do, in plain English (the task's description).
    description: str
    #: The subject's records the step concerns, where they are known.
    records: int = 0


@dataclass(frozen=True)
class RequestPlan:
    """The whole plan of one request."""

    request_type: RequestType
    computed_on: date
    datasets: tuple[DatasetPlan, ...] = ()
    #: Spelled-out identities searched in free text; redaction replaces them.
    needles: tuple[str, ...] = ()
    #: Person-record datasets where the given identities point at different people.
    conflicts: tuple[str, ...] = ()
    #: Per conflicting dataset, the keys (as text) of the records a person must decide
    #: on (attach to the subject, or exclude): see personvern.domain.requests.review.
    candidates: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Systems that could not be searched, with why (not configured, unreachable).
    unavailable: Mapping[str, str] = field(default_factory=dict)
    #: Recipients to tell about the erasure, rectification or restriction (Art. 19).
    recipients: tuple[str, ...] = ()
    #: What a person must do by hand (see ManualStep).
    manual_steps: tuple[ManualStep, ...] = ()
    #: Per files dataset the request covers ("system.dataset"), how many of its files no
    #: owner rule attributes to anyone (each non-zero count is a manual step).
    unattributed_files: Mapping[str, int] = field(default_factory=dict)
    #: Rows and the files they name that do not stay together, and why.
    file_mismatches: tuple[FileMismatch, ...] = ()
    #: Identity fields of the subject's records whose value could not be read (a phone
    #: number that is no number), as "system.dataset key field": a person should look.
    unreadable: tuple[str, ...] = ()

    @property
    def found_nothing(self) -> bool:
        """Whether the search found no record about the subject anywhere it could look."""
        return not any(d.found for d in self.datasets)

    def dataset(self, name: str) -> DatasetPlan | None:
        """The part of the plan for "system.dataset", if anything was found there."""
        return next((d for d in self.datasets if d.name == name), None)

    def systems(self) -> list[str]:
        """The systems this plan touches, in the order they appear."""
        return list(dict.fromkeys(d.system for d in self.datasets))

    def with_unavailable(self, missing: Mapping[str, str], datamap: DataMap) -> RequestPlan:
        """This plan with systems that cannot be reached now added as manual steps.

        A resumed run executes the stored plan; a system it can no longer connect to
        would otherwise be skipped in silence, its part of the plan never done.
        """
        added = {
            system: reason
            for system, reason in missing.items()
            if system not in self.unavailable
            and any(d.system == system and d.changes for d in self.datasets)
        }
        if not added:
            return self
        return replace(
            self,
            unavailable={**self.unavailable, **added},
            manual_steps=self.manual_steps + _unconnected_steps(self.request_type, datamap, added),
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (keys and counts, never record contents)."""
        data = asdict(self)
        data["version"] = PLAN_VERSION
        data["request_type"] = self.request_type.value
        data["computed_on"] = self.computed_on.isoformat()
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RequestPlan:
        """Read a plan back from :meth:`to_json` (UnknownPlanVersionError for an unknown form)."""
        # Plans stored before plans had versions are of the first form.
        version = data.get("version", 1)
        if version != PLAN_VERSION:
            raise UnknownPlanVersionError(
                f"the stored plan is of version {version}, and this personvern understands "
                f"plans of version {PLAN_VERSION} only",
                hint="run the request with the personvern version that made the plan; a "
                "request none of whose plan was carried out yet is planned afresh",
            )
        datasets = tuple(
            DatasetPlan(
                **{  # type: ignore[arg-type]
                    key: tuple(value) if isinstance(value, list) else value
                    for key, value in item.items()
                }
            )
            for item in data.get("datasets", [])
        )
        return cls(
            request_type=RequestType(data["request_type"]),
            computed_on=date.fromisoformat(data["computed_on"]),
            datasets=datasets,
            needles=tuple(data.get("needles", ())),
            conflicts=tuple(data.get("conflicts", ())),
            candidates={k: tuple(v) for k, v in data.get("candidates", {}).items()},
            unavailable=dict(data.get("unavailable", {})),
            recipients=tuple(data.get("recipients", ())),
            # Plans stored before manual steps existed have none.
            manual_steps=tuple(ManualStep(**step) for step in data.get("manual_steps", ())),
            # Nor do plans stored before files had owner rules count unattributed files.
            unattributed_files=dict(data.get("unattributed_files", {})),
            file_mismatches=tuple(
                FileMismatch(**{**item, "keys": tuple(item["keys"])})
                for item in data.get("file_mismatches", ())
            ),
            unreadable=tuple(data.get("unreadable", ())),
        )


def _dataset(datamap: DataMap, node: DatasetNode) -> Dataset:
    system = datamap.system(node.system)
    assert system is not None  # the graph was built from this map
    return next(d for d in system.datasets if d.name == node.dataset)


def _held_keys(
    node: DatasetNode,
    records: Mapping[Any, tuple[Mapping[str, Any], MatchKind]],
    hold: LegalHold | None,
    held: Mapping[str, set[Any]],
    today: date,
) -> set[Any]:
    if hold is None:
        return set()
    # A trigger read through a reference (trigger_via) is the parent's: follow it below.
    if hold.rule.trigger_field and hold.rule.trigger_via is None:
        return {
            key
            for key, (values, _) in records.items()
            if hold.holds(values.get(hold.rule.trigger_field), today)
        }
    # No trigger of its own: a record is held while the record it belongs to is held.
    keys: set[Any] = set()
    for name, target in node.references.items():
        parent, _, _target_field = target.rpartition(".")
        parent_held = {str(k) for k in held.get(parent, set())}
        keys |= {
            key for key, (values, _) in records.items() if str(values.get(name)) in parent_held
        }
    return keys


def _system_name(datamap: DataMap, key: str) -> str:
    system = datamap.system(key)
    return f"{system.name} ({key})" if system is not None and system.name != key else key


def _unconnected_steps(
    request_type: RequestType, datamap: DataMap, unavailable: Mapping[str, str]
) -> tuple[ManualStep, ...]:
    return tuple(
        ManualStep(
            key=system,
            reason=ManualReason.NOT_CONNECTED.value,
            description=handler_for(request_type).by_hand_in_system.format(
                system=_system_name(datamap, system)
            )
            + f" by hand: personvern could not search it ({reason})",
        )
        for system, reason in sorted(unavailable.items())
    )


def _unreadable_identity_steps(unreadable: Sequence[str]) -> tuple[ManualStep, ...]:
    """A step per identity value of the subject's records that could not be read.

    The search could not look for what it could not read, so records elsewhere holding
    that value may be missing from the answer: the request is not complete until a
    person has read it and searched for it.
    """
    steps = []
    for entry in unreadable:
        dataset, _, rest = entry.partition(" ")
        key, _, name = rest.rpartition(" ")
        steps.append(
            ManualStep(
                key=dataset,
                reason=ManualReason.UNREADABLE_IDENTITY.value,
                description=f"the {name} of record {key} in {dataset} cannot be read as an "
                "identity, so personvern did not search for it: read it, and if it is the "
                "subject's, search the systems for it by hand",
                records=1,
            )
        )
    return tuple(steps)


def _restriction_step(datamap: DataMap, system: str, dataset: str, records: int) -> ManualStep:
    noun = "record" if records == 1 else "records"
    return ManualStep(
        key=f"{system}.{dataset}",
        reason=ManualReason.NO_RESTRICTION.value,
        description=f"restrict {records} {noun} in {_system_name(datamap, system)}, "
        f"dataset {dataset}, by hand: the data map declares no restriction field there",
        records=records,
    )


def _unattributed_step(
    request_type: RequestType, datamap: DataMap, name: str, files: int
) -> ManualStep:
    system, _, dataset = name.partition(".")
    noun, them = ("file", "it") if files == 1 else ("files", "them")
    return ManualStep(
        key=name,
        reason=ManualReason.UNATTRIBUTED_FILES.value,
        description=f"{files} {noun} in {_system_name(datamap, system)}, dataset {dataset}, "
        f"could not be attributed to anyone; check {them} by hand and "
        + handler_for(request_type).files_by_hand,
        records=files,
    )


def _names_someone_else(node: DatasetNode, values: Mapping[str, Any], walk: SubjectWalk) -> bool:
    """Whether a record reached by reference carries identities, none of them the subject's.

    A ticket under the customer's account filed by a colleague names the colleague in
    its requester e-mail: correcting the subject's e-mail there would overwrite hers.
    """
    known = walk.harvested()
    # In canonical form, as the walk learned them ("971 55 337" is +4797155337); None
    # for a stored value that cannot be read: it is nobody's, the subject's least.
    carried = [
        (kind, walk.canonical(kind, values.get(name)))
        for name, kind in node.identities.items()
        if values.get(name) not in (None, "")
    ]
    if not carried:
        return False
    return not any(value in known.get(kind, set()) for kind, value in carried)


def _recipients(datamap: DataMap, categories: set[str], purposes: set[str]) -> tuple[str, ...]:
    """Recipients the register says receive the categories found, for a purpose they serve."""

    def related(a: str, b: str) -> bool:
        return a == b or a.startswith(f"{b}.") or b.startswith(f"{a}.")

    # Without a disclosure log, the register is what says who received what; a
    # recipient counts when it gets a category that was found for a purpose the
    # found fields were used for (the debt collector for invoices, not for web visits).
    return tuple(
        recipient.key
        for recipient in datamap.recipients
        if set(recipient.purposes) & purposes
        and any(related(c, found) for c in recipient.categories for found in categories)
    )


def build_plan(
    request_type: RequestType,
    graph: SubjectGraph,
    walk: SubjectWalk,
    datamap: DataMap,
    today: date,
    *,
    details: Mapping[str, Any] | None = None,
    unavailable: Mapping[str, str] | None = None,
    unattributed: Mapping[str, int] | None = None,
) -> RequestPlan:
    """The plan for ``request_type`` over what ``walk`` found.

    ``unattributed`` counts, per files dataset, the files nobody owns (the engine asks
    the stores); those the request covers are listed, and each non-zero count is a
    manual step.
    """
    handler = handler_for(request_type)
    details = details or {}
    holds = legal_holds(datamap)
    held: dict[str, set[Any]] = {}
    plans: dict[str, DatasetPlan] = {}
    # Per dataset, the records that are other people's (never erased or corrected).
    others_of: dict[str, set[Any]] = {}
    categories: set[str] = set()
    purposes: set[str] = set()

    for node in graph.nodes:
        records = walk.records(node.name)
        if not records:
            continue
        dataset = _dataset(datamap, node)
        mentions, others, own, subject_rows = _whose(
            node, records, walk, datamap, others_of, erasing=handler.erases
        )
        others_of[node.name] = others
        if subject_rows:
            personal = [f for f in dataset.fields if personal_field(f) and f.category]
            categories |= {f.category for f in personal if f.category}
            purposes |= {purpose for f in personal for purpose in f.purposes}
        hold = holds.get(node.name)
        held[node.name] = _held_keys(node, records, hold, held, today) & subject_rows
        counted = DatasetPlan(
            system=node.system,
            dataset=node.dataset,
            found=len(records),
            by_identity=sum(1 for _, m in records.values() if m is MatchKind.IDENTITY),
            by_reference=sum(1 for _, m in records.values() if m is MatchKind.REFERENCE),
            by_mention=len(mentions),
            by_sender=sum(1 for _, m in records.values() if m is MatchKind.SENDER),
            has_files=dataset.files is not None,
        )
        found = FoundInDataset(
            node=node,
            dataset=dataset,
            records=records,
            ordered=tuple(sorted(records, key=str)),
            mentions=mentions,
            others=others,
            own=own,
            subject_rows=subject_rows,
            held=held[node.name],
            hold=hold,
            datamap=datamap,
            details=details,
        )
        plans[node.name] = handler.plan_dataset(counted, found)

    _protect_parents_of_kept_rows(graph, plans, walk, datamap, others_of, held)
    notify = _recipients(datamap, categories, purposes) if handler.tells_recipients else ()
    whole = RequestPlan(
        request_type=request_type,
        computed_on=today,
        datasets=tuple(plans.values()),
        needles=tuple(sorted(walk.needles())),
        conflicts=tuple(walk.conflicts()),
        candidates={k: tuple(v) for k, v in walk.review_candidates().items()},
        unreadable=tuple(walk.unreadable_values()),
        unavailable=dict(unavailable or {}),
        recipients=notify,
        manual_steps=(
            *(
                _restriction_step(datamap, d.system, d.dataset, len(d.restrict))
                for d in plans.values()
                if d.restrict and d.restrict_field is None
            ),
            *_unconnected_steps(request_type, datamap, unavailable or {}),
            *_unreadable_identity_steps(walk.unreadable_values()),
        ),
    )
    return _with_files(whole, graph, walk, datamap, unattributed or {})


def _whose(
    node: DatasetNode,
    records: Mapping[Any, tuple[Mapping[str, Any], MatchKind]],
    walk: SubjectWalk,
    datamap: DataMap,
    others_of: Mapping[str, set[Any]],
    *,
    erasing: bool = False,
) -> tuple[set[Any], set[Any], set[Any], set[Any]]:
    """The records that mention the subject, are others', are the subject's, are not mentions."""
    mentions = {key for key, (_, match) in records.items() if match is MatchKind.MENTION}
    # Other people under the subject's record (a client's designated employees, their
    # security cards): part of an access answer, but never erased or corrected on
    # the subject's word, unless the data map says they go with the subject on erasure
    # (belongs_to with erased_with_it).
    related = walk.related_people(erasing=erasing)
    others = {
        key
        for key, (values, match) in records.items()
        if key not in mentions
        and (
            (
                match is MatchKind.REFERENCE
                and node.is_person_record
                and key in related.get(node.name, set())
            )
            or walk.points_at(node, values, related)
        )
    }
    # A file named by another person's row is that person's too.
    others |= follow_rows(datamap, walk, node.name, sorted(records, key=str), others_of)
    own = {
        key
        for key, (values, match) in records.items()
        if key not in mentions
        and key not in others
        and (
            match in (MatchKind.IDENTITY, MatchKind.SENDER)
            or not _names_someone_else(node, values, walk)
        )
    }
    return mentions, others, own, set(records) - mentions


def _with_files(
    plan: RequestPlan,
    graph: SubjectGraph,
    walk: SubjectWalk,
    datamap: DataMap,
    unattributed: Mapping[str, int],
) -> RequestPlan:
    """The plan with the files nobody owns it covers (manual steps), and rows and files apart."""
    counted = {
        name: unattributed[name]
        for name in concerned_file_datasets(plan.request_type, graph, walk, datamap)
        if name in unattributed
    }
    parts = {part.name: part for part in plan.datasets}
    return replace(
        plan,
        manual_steps=plan.manual_steps
        + tuple(
            _unattributed_step(plan.request_type, datamap, name, files)
            for name, files in counted.items()
            if files
        ),
        unattributed_files=counted,
        file_mismatches=file_mismatches(plan.request_type, graph, walk, datamap, parts),
    )


def _protect_parents_of_kept_rows(
    graph: SubjectGraph,
    plans: dict[str, DatasetPlan],
    walk: SubjectWalk,
    datamap: DataMap,
    others_of: Mapping[str, set[Any]],
    held: Mapping[str, set[Any]],
) -> None:
    """A row that a kept row of the same system points at stays too.

    Deleting it would break the kept row's foreign key (an invoice line kept for the
    Bookkeeping Act needs its invoice) and the database would refuse the whole step.
    A row kept under a legal hold keeps the row it points at as it is. A row kept only
    because it is another person's (a designated employee under the customer) needs no
    more than the row to exist: its personal fields are erased, as if the dataset kept
    its rows on erasure, so the subject's own data does not stay with it.
    """
    for node in graph.nodes:
        child = plans.get(node.name)
        if child is None or not child.keep:
            continue
        # Kept only because they are other people's, not under a legal hold.
        for_others = set(child.keep) & others_of.get(node.name, set()) - held.get(node.name, set())
        records = walk.records(node.name)
        for name, target in node.references.items():
            parent_name, _, parent_field = target.rpartition(".")
            parent = plans.get(parent_name)
            if parent is None or parent.system != node.system or not parent.delete:
                continue
            pointed = {
                str(values.get(name)) for key, (values, _) in records.items() if key in child.keep
            }
            pointed_by_held = {
                str(values.get(name))
                for key, (values, _) in records.items()
                if key in child.keep and key not in for_others
            }
            parent_records = walk.records(parent_name)
            value = {key: str(parent_records[key][0].get(parent_field)) for key in parent.delete}
            held_parent = {key for key in parent.delete if value[key] in pointed_by_held}
            others_parent = {key for key in parent.delete if value[key] in pointed} - held_parent
            if parent.has_files:
                # A file has no fields to erase: it stays whole with the row naming it.
                held_parent, others_parent = held_parent | others_parent, set()
            if not held_parent and not others_parent:
                continue
            strategies = dict(parent.strategies)
            if others_parent and not strategies:
                strategies = field_strategies(_dataset(datamap, graph.node(parent_name)))
            plans[parent_name] = with_changes(
                parent,
                delete=tuple(k for k in parent.delete if k not in held_parent | others_parent),
                erase_fields=tuple(sorted(set(parent.erase_fields) | others_parent, key=str)),
                strategies=strategies,
                keep=tuple(sorted(set(parent.keep) | held_parent, key=str)),
                keep_reason=parent.keep_reason or (child.keep_reason if held_parent else None),
            )
