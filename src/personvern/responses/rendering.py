"""Who writes an answer in which language.

The answers' templates live in ``templates/<document>/<lang>/`` inside this package and
are rendered with the one environment of personvern.templating, which also holds the
published documents' stylesheet, so the report looks like the notice it complements.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from personvern.domain.datamap import DataMap
from personvern.domain.requests.answer_profile import AnswerProfile, decide_answer_profile
from personvern.domain.requests.collected import CollectedData, CollectedDataset
from personvern.responses.errors import ResponseError
from personvern.templating import environment

#: Every answer document must exist in a language before an answer is written in it.
_DOCUMENTS = ("access_report/{lang}/body.html.j2", "export/{lang}/README.txt.j2")


def templated_languages() -> list[str]:
    """Languages every answer document has templates for."""
    return list(_templated_languages())


@cache
def _templated_languages() -> tuple[str, ...]:
    # The templates ship inside the package: listing them walks its folders, three
    # times per answer, so it is done once per process.
    names = set(environment().list_templates())
    candidates = {name.split("/")[1] for name in names if name.startswith("access_report/")}
    return tuple(
        sorted(
            lang for lang in candidates if all(doc.format(lang=lang) in names for doc in _DOCUMENTS)
        )
    )


def answer_language(datamap: DataMap, requested: str | None) -> str:
    """The subject's language when the map declares it and we can write it, else the default.

    An answer is never refused over language: the subject asked in good faith, and the
    organization's first language it can be written in is the next best thing.
    """
    templated = templated_languages()
    declared = [lang for lang in datamap.organization.languages if lang in templated]
    if requested is not None and requested in declared:
        return requested
    if declared:
        return declared[0]
    raise ResponseError(
        "no language the data map declares has templates for answers to requests "
        f"(declared: {', '.join(datamap.organization.languages)}; "
        f"available: {', '.join(templated)})",
        hint="add one of the available languages to organization.languages",
    )


def answer_profile(datamap: DataMap, collected: CollectedData) -> AnswerProfile:
    """Language, controller and complaint route of the answer to ``collected``."""
    # The profile the engine decided when collecting, so that every document of one
    # answer agrees; else decided here, with ``collected.language`` as the one asked for.
    if collected.profile is not None:
        return collected.profile
    return decide_profile(datamap, collected.language, collected.datasets)


def decide_profile(
    datamap: DataMap, requested_language: str | None, datasets: Iterable[CollectedDataset]
) -> AnswerProfile:
    """The answer profile, choosing among the languages answers have templates for."""
    # Refuses a map none of whose languages has templates, with a hint.
    answer_language(datamap, None)
    return decide_answer_profile(
        datamap, requested_language, datasets, writable=templated_languages()
    )
