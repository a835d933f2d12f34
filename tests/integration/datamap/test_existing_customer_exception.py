"""The existing-customer exception (markedsføringsloven § 15) is for marketing purposes only."""

from __future__ import annotations

from pathlib import Path

from tests.integration.datamap.test_check import findings_for, line_of, only, replace_in


def test_the_example_map_declares_it_on_its_marketing_purpose(example_datamap_path: Path) -> None:
    assert not [f for f in findings_for(example_datamap_path) if "existing-customer" in f.render()]


def test_the_exception_on_a_purpose_that_is_no_marketing_is_an_error(
    example_datamap_copy: Path,
) -> None:
    purposes = example_datamap_copy / "purposes.yaml"
    replace_in(
        purposes,
        "    data_use: essential.service.operations.support\n    legal_basis: contract\n",
        "    data_use: essential.service.operations.support\n    legal_basis: contract\n"
        "    existing_customer_exception: true\n",
    )
    problem = only(findings_for(example_datamap_copy), "existing-customer exception")
    assert problem.finding.message.startswith("purpose 'technical_support' claims")
    assert problem.finding.hint
    assert problem.location is not None
    lines = purposes.read_text(encoding="utf-8").splitlines()
    assert "    existing_customer_exception: true" == lines[problem.location.line - 1]
    assert problem.location.line > line_of(purposes, "key: technical_support")
