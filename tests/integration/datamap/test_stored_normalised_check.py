"""`check_datamap` on ``stored_normalised``: accepted on identity fields, refused elsewhere."""

from __future__ import annotations

from pathlib import Path

from personvern.datamap.loader import check_datamap, load_datamap

CRM_EMAIL = "{name: email, label: {nb: E-postadresse, en: E-mail address}, identity: email,"
CRM_NAME = "{name: contact_name,"
SENDER = "{name: sender, label: {nb: Fra, en: From}, identity: email,"


def _flag(path: Path, needle: str) -> int:
    """Add ``stored_normalised: true`` to the first field starting with ``needle``; its line."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    number = next(n for n, line in enumerate(lines) if needle in line)
    lines[number] = lines[number].replace(needle, needle + " stored_normalised: true,", 1)
    path.write_text("".join(lines), encoding="utf-8")
    return number + 1


def test_an_identity_field_of_a_sql_system_may_be_stored_normalised(
    example_datamap_copy: Path,
) -> None:
    _flag(example_datamap_copy / "systems" / "crm.yaml", CRM_EMAIL)

    datamap = load_datamap(example_datamap_copy).datamap

    crm = datamap.system("crm")
    assert crm is not None
    flagged = [(d.name, f.name) for d in crm.datasets for f in d.fields if f.stored_normalised]
    assert [("customers", "email")] == flagged


def test_a_field_that_is_no_identity_is_refused_at_its_line(example_datamap_copy: Path) -> None:
    crm = example_datamap_copy / "systems" / "crm.yaml"
    line = _flag(crm, CRM_NAME)

    datamap, _source, findings = check_datamap(example_datamap_copy)

    assert datamap is None
    errors = [(f.location, f.finding) for f in findings if f.finding.is_error]
    assert 1 == len(errors)
    location, finding = errors[0]
    assert location is not None
    assert (crm, line) == (location.file, location.line)
    assert finding.message.startswith(
        "crm.customers.contact_name says stored_normalised, but it is no identity field"
    )
    assert "give the field its identity kind" in (finding.hint or "")


def test_a_system_searched_otherwise_is_warned_about(example_datamap_copy: Path) -> None:
    _flag(example_datamap_copy / "systems" / "email.yaml", SENDER)

    datamap, _source, findings = check_datamap(example_datamap_copy)

    assert datamap is not None
    assert [
        "email.messages.sender says stored_normalised, which changes nothing in a webhook "
        "system: only SQL systems are searched by it"
    ] == [f.finding.message for f in findings if "stored_normalised" in f.finding.message]
