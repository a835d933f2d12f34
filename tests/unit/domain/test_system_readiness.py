"""What `check --connect` says from the facts a database gave (no database here)."""

from __future__ import annotations

import pytest

from personvern.domain.datamap import DataField, Dataset, IdentityKind, System, SystemKind
from personvern.domain.system_readiness import (
    DatasetFacts,
    Level,
    QueryForm,
    Readiness,
    lookup_form,
    searched_fields,
    sql_readiness,
)

EMAIL = {"category": "user.contact.email", "identity": IdentityKind.EMAIL}


def _system(*fields: DataField, key: bool = True) -> System:
    return System(
        key="crm",
        name="CRM",
        kind=SystemKind.POSTGRESQL,
        description={"en": "customers"},
        connection_env="PERSONVERN_CRM_URL",
        datasets=[
            Dataset(
                name="Kunder",
                subjects=["customer"],
                fields=[DataField(name="id", primary_key=key), *fields],
            )
        ],
    )


def _facts(**served: bool) -> dict[str, DatasetFacts]:
    columns = frozenset({"id", "Epost", "notes", "phone"})
    return {"Kunder": DatasetFacts(True, columns, 1200, served)}


def _quote(name: str) -> str:
    return f'"{name}"' if name != name.lower() else name


@pytest.mark.parametrize(
    ("dialect", "caseless", "form"),
    [
        ("postgresql", True, QueryForm.LOWER),
        ("sqlite", True, QueryForm.NOCASE),
        ("mysql", True, QueryForm.PLAIN),
        ("mariadb", True, QueryForm.PLAIN),
        ("postgresql", False, QueryForm.PLAIN),
        ("sqlite", False, QueryForm.PLAIN),
    ],
)
def test_the_query_form_follows_the_database_and_the_map(
    dialect: str, caseless: bool, form: QueryForm
) -> None:
    assert form is lookup_form(dialect, caseless=caseless)


def test_stored_normalised_email_is_asked_plainly_and_free_text_is_not_asked_by_equality() -> None:
    dataset = _system(
        DataField(name="Epost", **EMAIL),
        DataField(name="work", stored_normalised=True, **EMAIL),
        DataField(name="notes", free_text=True),
        DataField(name="customer_id", references="other.id"),
    ).datasets[0]

    assert {"Epost": True, "work": False, "customer_id": False} == searched_fields(dataset)


def test_a_dataset_requests_do_not_search_needs_no_index() -> None:
    system = _system(DataField(name="Epost", **EMAIL), key=False)
    facts = {"Kunder": DatasetFacts(True, frozenset({"id", "Epost"}), 5, {}, {}, ("id",))}

    assert [] == list(sql_readiness(system, "postgresql", facts))


def test_a_table_without_one_key_the_map_does_not_name_is_an_error() -> None:
    system = _system(DataField(name="Epost", **EMAIL), key=False)
    facts = {"Kunder": DatasetFacts(True, frozenset({"id", "Epost"}), 5, {}, {}, ())}

    [found] = sql_readiness(system, "postgresql", facts)

    assert (Level.ERROR, "crm.Kunder") == (found.level, found.where)
    assert found.message == (
        "crm.Kunder needs exactly one primary key field (the map marks none and the table "
        "has 0), so no request can search crm"
    )


def test_the_statement_quotes_names_as_the_database_wants_them() -> None:
    system = _system(DataField(name="Epost", **EMAIL))

    [found] = sql_readiness(system, "postgresql", _facts(Epost=False), _quote)

    assert (
        Readiness(
            Level.WARNING,
            "crm.Kunder.Epost",
            "crm.Kunder.Epost: no index serves lower(Epost) IN (...), so each request reads "
            "the whole table (1,200 rows now)",
            fix=('CREATE INDEX ix_Kunder_Epost_lower ON "Kunder" (lower("Epost"));',),
            hint="or, if every address in it is stored in canonical form (lower case), say "
            "stored_normalised: true in the data map and index the column itself",
        )
        == found
    )


def test_an_index_that_serves_says_nothing_and_a_long_name_is_cut() -> None:
    long_name = "x" * 70
    system = _system(DataField(name=long_name, identity=IdentityKind.CUSTOMER_ID))
    facts = {"Kunder": DatasetFacts(True, frozenset({"id", long_name}), 3, {long_name: False})}

    [found] = sql_readiness(system, "sqlite", facts)
    served = list(
        sql_readiness(
            system,
            "sqlite",
            {"Kunder": DatasetFacts(True, frozenset({"id", long_name}), 3, {long_name: True})},
        )
    )

    name = found.fix[0].split()[2]
    assert (63, []) == (len(name), served)


def test_a_case_sensitive_collation_is_a_warning_even_where_an_index_serves() -> None:
    system = _system(DataField(name="Epost", **EMAIL))
    facts = {
        "Kunder": DatasetFacts(
            True, frozenset({"id", "Epost"}), 5, {"Epost": True}, {"Epost": False}
        )
    }

    [found] = sql_readiness(system, "mysql", facts)

    assert (Level.WARNING, ()) == (found.level, found.fix)
    assert "tells letter cases apart" in found.message


def test_a_missing_column_is_an_error_and_not_probed() -> None:
    system = _system(DataField(name="fax", identity=IdentityKind.PHONE_NUMBER))

    found = list(sql_readiness(system, "postgresql", _facts()))

    assert [(Level.ERROR, "crm.Kunder.fax: the table has no such column")] == [
        (f.level, f.message) for f in found
    ]
