"""Search the company's systems for a subject: the walk of domain.requests.subject_graph, run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from personvern.connectors.port import Connector, Criteria, IndexedMentions
from personvern.domain.identities.phone import readings_remembered
from personvern.domain.requests.identity import SubjectIdentity
from personvern.domain.requests.review import Review
from personvern.domain.requests.subject_graph import DatasetNode, SubjectGraph, SubjectWalk

#: Passes over the datasets before the search gives up widening. The demo company
#: settles in three (identities, references, identities found on the way); a data map
#: whose graph is deeper than this is refused rather than searched forever.
MAX_PASSES = 8


class MentionIndex(Protocol):
    """Where a free-text field's mentions are, without reading the text.

    personvern.engine.mention_index.StoredMentionIndex answers from personvern's own
    store; None means the field is searched by reading its text.
    """

    def restriction(
        self, system: str, dataset: str, field: str, needles: Iterable[str]
    ) -> IndexedMentions | None:
        """The records of ``field`` that may mention ``needles`` (see IndexedMentions)."""
        ...


@dataclass
class SearchResult:
    """What a search found, and how many questions it asked of each dataset."""

    walk: SubjectWalk
    queries: dict[str, int] = field(default_factory=dict)
    passes: int = 0


def search_subject(
    graph: SubjectGraph,
    identities: Sequence[SubjectIdentity],
    connectors: Mapping[str, Connector],
    *,
    country: str = "NO",
    review: Review | None = None,
    mention_index: MentionIndex | None = None,
) -> SearchResult:
    """Find every record about the subject in the systems ``connectors`` reach.

    ``country`` is the controller's: phone numbers stored without a country code are
    read as its numbers, and national identity numbers are checked by its rule.
    ``review`` holds a person's decisions on records of an earlier run of the request.
    ``mention_index`` tells connectors where free-text mentions are, so they need not
    read every text (the answer is the same with it and without).
    """
    review = review or Review()
    reachable = SubjectGraph(tuple(n for n in graph.nodes if n.system in connectors))
    walk = SubjectWalk(
        reachable,
        tuple(identities),
        country=country,
        attached=review.attached(),
        set_aside=review.set_aside(),
        left_out=review.left_out(),
    )
    result = SearchResult(walk)
    # Each phone spelling is read once per search, not once per dataset and round.
    with readings_remembered():
        _walk(reachable, walk, connectors, result, mention_index)
    return result


def _walk(
    reachable: SubjectGraph,
    walk: SubjectWalk,
    connectors: Mapping[str, Connector],
    result: SearchResult,
    mention_index: MentionIndex | None,
) -> None:
    """Ask every dataset for what the walk knows, pass after pass, until nothing is new."""
    for _ in range(MAX_PASSES):
        asked = False
        for node in reachable.nodes:
            pending = walk.pending(node)
            mentions = {name: frozenset(needles) for name, needles in pending["mentions"].items()}
            criteria = Criteria(
                exact={name: frozenset(values) for name, values in pending["exact"].items()},
                mentions=mentions,
                exclude=walk.excluded(node),
            )
            if not criteria:
                continue
            if mention_index is not None and any(mentions.values()):
                criteria = replace(criteria, indexed=_indexed(mention_index, node, mentions))
            walk.mark_asked(node, pending)
            asked = True
            result.queries[node.name] = result.queries.get(node.name, 0) + 1
            for record in connectors[node.system].locate(node.dataset, criteria):
                walk.absorb(node, record.key, record.values, record.matched_fields)
        if not asked:
            break
        result.passes += 1


def _indexed(
    index: MentionIndex, node: DatasetNode, mentions: Mapping[str, frozenset[str]]
) -> dict[str, IndexedMentions]:
    """What the mention index knows of each free-text field asked."""
    found: dict[str, IndexedMentions] = {}
    for name, needles in mentions.items():
        if needles:
            known = index.restriction(node.system, node.dataset, name, needles)
            if known is not None:
                found[name] = known
    return found
