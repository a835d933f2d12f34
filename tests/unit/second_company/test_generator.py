"""The second test company's generator: deterministic, and every hard case really in the data.

The integration tests (tests/integration/second_company) trust the generator's claims
about whose each row is; these tests check the data those claims rest on, by reading
the generated rows and texts themselves.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import phonenumbers
import pytest
from stdnum.no import fodselsnummer

from personvern.datamap.loader import check_datamap
from personvern.domain.identities.email import canonical_email_or_none
from tests.support.second_company.datamap import PROPOSED, data_map
from tests.support.second_company.generator import (
    BUILT,
    REFERENCE_DATE,
    SEED,
    Feature,
    HardCase,
    Person,
    PhoneSpelling,
    SecondCompany,
    Treatment,
    generate,
    spell_phone,
)
from tests.support.second_company.truth import Aspect, expectations

COMPANY = generate()


def _fresh(seed: int) -> SecondCompany:
    # Past the cache: a second, independent run of the generator.
    return generate.__wrapped__(seed, REFERENCE_DATE)


def _subject_person(scenario: str) -> Person:
    subject = next(s for s in COMPANY.subjects if s.scenario == scenario)
    return COMPANY.person(subject.name)


def _digits(text: str) -> set[str]:
    """Every run of digits in ``text``, single spaces inside it removed."""
    return {run.replace(" ", "") for run in re.findall(r"\d(?: ?\d)*", text)}


def _mentions(text: str, person: Person) -> bool:
    """Whether ``text`` names one of the person's identities, in any spelling used here."""
    runs = _digits(text)
    for value in person.identities:
        if "@" in value:
            for written in (value, quote(value, safe="")):
                pattern = rf"(?<![\w.+\-]){re.escape(written)}(?![\w\-])(?!\.\w)"
                if re.search(pattern, text, flags=re.IGNORECASE):
                    return True
        elif value.startswith("+47"):
            national = value.removeprefix("+47")
            if any(run.endswith(national) and len(run) in {8, 10, 12} for run in runs):
                return True
        elif value in runs:
            return True
    return False


def test_the_same_seed_gives_the_same_company_and_another_seed_another() -> None:
    assert _fresh(SEED) == _fresh(SEED)
    assert _fresh(SEED).rows != _fresh(SEED + 1).rows


def test_about_sixty_people_of_whom_24_are_subjects_with_unique_names() -> None:
    roles = Counter(person.role for person in COMPANY.people)
    names = [subject.name for subject in COMPANY.subjects]

    assert (24, 3) == (roles["subject"], roles["decoy"])
    assert 55 <= len(COMPANY.people) <= 65
    assert sorted(set(names)) == sorted(names)


def test_every_hard_case_is_some_subjects() -> None:
    covered = {case for subject in COMPANY.subjects for case in subject.hard_cases}

    assert set(HardCase) == covered


def test_every_subject_has_records_and_every_feature_is_needed_somewhere() -> None:
    needed = {
        feature
        for expected in expectations(COMPANY)
        for features in expected.needs.values()
        for feature in features
    }

    assert [] == [s.name for s in COMPANY.subjects if not s.claims]
    # stored_normalised changes how a lookup is served, never an answer.
    assert set(Feature) - {Feature.STORED_NORMALISED} == needed


def test_texts_mention_exactly_whom_the_generator_says() -> None:
    # An unintended mention would make the truth wrong for that person, silently.
    wrong = []
    for cell in COMPANY.texts:
        text = cell.text.render()
        said = {mention.who for mention in cell.text.mentions()}
        found = {person.slug for person in COMPANY.people if _mentions(text, person)}
        if said != found:
            wrong.append((cell.dataset, cell.key, cell.column, sorted(said ^ found)))

    assert [] == wrong


def test_phone_numbers_are_stored_in_all_six_spellings() -> None:
    columns = {
        "crm.kunder": "telefon",
        "crm.kontaktpersoner": "telefon",
        "crm.interessenter": "telefon",
        "telefoni.samtaler": "telefonnummer",
    }
    stored = {row[column] for name, column in columns.items() for row in COMPANY.rows[name]}
    spelled = {
        spelling
        for spelling in PhoneSpelling
        for person in COMPANY.people
        if person.phone and spell_phone(person.phone, spelling) in stored
    }

    assert set(PhoneSpelling) == spelled
    assert {"0047 97320840", "(+47) 913 22 110", "971 55 337", "40347783"} == {
        spell_phone("+4797320840", PhoneSpelling.ZERO_ZERO),
        spell_phone("+4791322110", PhoneSpelling.PARENTHESISED),
        spell_phone("+4797155337", PhoneSpelling.GROUPED),
        spell_phone("+4740347783", PhoneSpelling.DIGITS),
    }


def test_the_columns_said_stored_normalised_hold_canonical_addresses_only() -> None:
    # Otherwise the map's stored_normalised would make requests miss rows there.
    flagged = [(a.dataset, a.field) for a in PROPOSED if a.feature is Feature.STORED_NORMALISED]
    stored = [
        row[column]
        for dataset, column in flagged
        for row in COMPANY.rows[dataset]
        if column is not None and row[column] is not None
    ]

    assert [("crm.kontaktpersoner", "epost")] == flagged
    assert len(stored) >= 10
    assert [] == [value for value in stored if canonical_email_or_none(value) != value]


def test_national_ids_are_valid_some_with_a_space_and_one_a_d_number() -> None:
    stored = [row["fodselsnummer"] for row in COMPANY.rows["crm.kunder"] if row["fodselsnummer"]]
    d_number = _subject_person("d-number").national_id

    assert [] == [value for value in stored if not fodselsnummer.is_valid(value)]
    assert any(re.fullmatch(r"\d{6} \d{5}", value) for value in stored)
    assert d_number is not None
    assert int(d_number[:2]) > 40
    assert d_number in stored


def test_the_decoys_look_like_their_subjects_and_share_no_identity() -> None:
    decoys = {p.decoy_of: p for p in COMPANY.people if p.role == "decoy"}
    kari, near, prefix = (
        _subject_person(s) for s in ("namesake", "phone-one-digit-off", "email-prefix")
    )
    assert near.phone is not None
    assert prefix.email is not None
    off = decoys[near.slug].phone
    assert off is not None

    assert kari.name == decoys[kari.slug].name
    assert 1 == sum(a != b for a, b in zip(near.phone, off, strict=True))
    assert (decoys[prefix.slug].email or "").startswith(prefix.email)
    for subject in (kari, near, prefix):
        assert set() == set(subject.identities) & set(decoys[subject.slug].identities)


def test_two_firms_share_an_office_address_and_switchboard() -> None:
    firms = [row for row in COMPANY.rows["crm.kunder"] if row["orgnr"] and not row["navn"]]
    shared = Counter((row["adresse"], row["telefon"]) for row in firms)

    assert 2 == max(shared.values())


def test_duplicates_differ_only_in_case_or_spelling() -> None:
    def same(a: object, b: object) -> bool:
        if a is None or b is None:
            return True
        if isinstance(a, str) and isinstance(b, str) and a.startswith("+") and b.startswith("+"):
            return phonenumbers.parse(a) == phonenumbers.parse(b)
        return str(a).casefold() == str(b).casefold()

    for scenario in ("duplicate-in-case", "duplicate-in-spelling"):
        subject = next(s for s in COMPANY.subjects if s.scenario == scenario)
        keys = [c.key for c in subject.claims if c.dataset == "crm.kunder"]
        first, second = (COMPANY.row("crm.kunder", key) for key in keys)
        differing = {
            column
            for column in ("navn", "epost", "telefon", "adresse")
            if not same(first[column], second[column])
        }
        literal = {c for c in ("navn", "epost", "telefon", "adresse") if first[c] != second[c]}

        assert (2, set()) == (len(keys), differing), scenario
        assert literal, scenario


def test_files_have_no_sidecars_and_are_owned_by_path_or_by_column() -> None:
    names = [path for files in COMPANY.files.values() for path in files]
    customers = {str(row["kunde_id"]) for row in COMPANY.rows["crm.kunder"]}
    named = {row["opptak_sti"] for row in COMPANY.rows["telefoni.samtaler"] if row["opptak_sti"]}
    documents = list(COMPANY.files["id_dokumenter"])

    assert [] == [name for name in names if not name.endswith((".wav", ".pdf"))]
    assert named == set(COMPANY.files["opptak"])
    assert [] == [
        path
        for path in documents
        if not re.fullmatch(r"id-dokumenter/(\d+)/dok-\d{5}\.pdf", path)
        or path.split("/")[1] not in customers
    ]


def test_web_forms_have_no_customer_key_and_are_signed_in_the_text() -> None:
    forms = COMPANY.rows["kundeservice.skjema_henvendelser"]
    unreadable = {bad.key for bad in COMPANY.unreadable}

    assert {"skjema_id", "mottatt", "emne", "melding"} == set(forms[0])
    assert [] == [
        form["skjema_id"]
        for form in forms
        if form["skjema_id"] not in unreadable
        and not re.match(r"Navn: .+\nE-post: \S+@\S+", form["melding"])
    ]


def test_one_unreadable_row_is_a_subjects_own_and_the_others_belong_to_no_subject() -> None:
    subjects = {s.name for s in COMPANY.subjects}
    review = next(s for s in COMPANY.subjects if s.review is not None)
    owners = [(bad.dataset, str(bad.key), bad.owner in subjects) for bad in COMPANY.unreadable]
    assert review.review is not None

    assert [(review.review.dataset, review.review.key, True)] == [o for o in owners if o[2]]
    assert 3 == len([o for o in owners if not o[2]])


def test_invoices_fall_on_both_sides_of_the_bookkeeping_hold() -> None:
    treatments = {
        (claim.erasure, claim.keep_reason)
        for subject in COMPANY.subjects
        for claim in subject.claims
        if claim.dataset == "faktura.fakturaer"
    }

    assert {(Treatment.DELETE, None), (Treatment.KEEP, "bokføringsloven § 13")} == treatments


def test_every_text_fits_a_latin1_connection() -> None:
    # MariaDB holds the company in a latin1 database read over a latin1 (cp1252) connection.
    values = [
        value
        for rows in COMPANY.rows.values()
        for row in rows
        for value in row.values()
        if isinstance(value, str)
    ]

    assert [] == [value for value in values if not _encodes(value)]


def _encodes(value: str) -> bool:
    try:
        value.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def test_the_expectations_of_a_plain_subject_need_no_feature() -> None:
    plain = next(e for e in expectations(COMPANY) if e.subject.scenario == "namesake")

    assert {aspect: frozenset() for aspect in Aspect} == plain.needs


def test_the_base_map_loads_with_todays_loader(tmp_path: Path) -> None:
    datamap, _source, findings = check_datamap(data_map(tmp_path))

    assert [] == [f.finding.message for f in findings if f.finding.is_error]
    assert datamap is not None


@pytest.mark.parametrize(
    "feature",
    [
        pytest.param(
            feature,
            id=feature.value,
            marks=[]
            if feature in BUILT
            else pytest.mark.xfail(strict=True, reason=f"{feature.reason} (the loader refuses it)"),
        )
        for feature in sorted({addition.feature for addition in PROPOSED})
    ],
)
def test_each_proposed_addition_loads(tmp_path: Path, feature: Feature) -> None:
    datamap, _source, findings = check_datamap(data_map(tmp_path, [feature]))

    assert [] == [f.finding.message for f in findings if f.finding.is_error]
    assert datamap is not None
