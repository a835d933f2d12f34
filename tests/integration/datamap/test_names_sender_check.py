"""``names_sender`` in the data map: accepted on free text, refused elsewhere at its line."""

from __future__ import annotations

from pathlib import Path

from personvern.datamap.loader import load_datamap
from tests.integration.datamap.test_check import findings_for, line_of, only, replace_in

_BODY = "category: user.content.private, purposes: [technical_support], free_text: true}"
_REQUESTER = "identity: email, category: user.contact.email, purposes: [technical_support]}"
_NOTES = "category: user.content.private, purposes: [contract_administration], free_text: true}"


def test_a_free_text_field_may_name_its_sender(example_datamap_copy: Path) -> None:
    support = example_datamap_copy / "systems" / "support.yaml"
    body = f"{{name: body, label: {{nb: Tekst, en: Text}}, {_BODY}"
    replace_in(support, body, f"{body[:-1]}, names_sender: true}}")

    datamap = load_datamap(example_datamap_copy).datamap

    support_system = datamap.system("support")
    assert support_system is not None
    tickets = support_system.datasets[0]
    assert ["body"] == [f.name for f in tickets.fields if f.names_sender]


def test_names_sender_on_a_field_that_is_not_free_text_is_an_error_at_its_line(
    example_datamap_copy: Path,
) -> None:
    support = example_datamap_copy / "systems" / "support.yaml"
    replace_in(support, _REQUESTER, f"{_REQUESTER[:-1]}, names_sender: true}}")

    problem = only(findings_for(example_datamap_copy), "cannot name its sender")

    assert (
        "field support.tickets.requester_email is not free text, so it cannot name its "
        "sender: names_sender applies to a free-text field (a form's message, a logged URL)",
        "mark the field free_text: true as well, or remove names_sender",
        support,
        line_of(support, "names_sender: true"),
        True,
    ) == (
        problem.finding.message,
        problem.finding.hint,
        *_where(problem),
        problem.finding.is_error,
    )


def test_names_sender_in_a_dataset_of_people_is_an_error_at_its_line(
    example_datamap_copy: Path,
) -> None:
    crm = example_datamap_copy / "systems" / "crm.yaml"
    replace_in(crm, _NOTES, f"{_NOTES[:-1]}, names_sender: true}}")

    problem = only(findings_for(example_datamap_copy), "is a person")

    assert (
        "each record of crm.prospects is a person (its key id is an identity), so the "
        "text of notes cannot make it another person's own",
        crm,
        line_of(crm, "names_sender: true"),
        True,
    ) == (problem.finding.message, *_where(problem), problem.finding.is_error)


def test_a_misspelt_names_sender_is_refused_with_the_right_spelling(
    example_datamap_copy: Path,
) -> None:
    support = example_datamap_copy / "systems" / "support.yaml"
    replace_in(support, _BODY, f"{_BODY[:-1]}, name_sender: true}}")

    problem = only(findings_for(example_datamap_copy), "unknown key")

    assert ("unknown key 'name_sender'", "did you mean 'names_sender'?") == (
        problem.finding.message,
        problem.finding.hint,
    )


def _where(problem: object) -> tuple[Path, int]:
    location = getattr(problem, "location", None)
    assert location is not None
    return location.file, location.line
