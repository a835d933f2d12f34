"""The banner's configuration from the data map, its version, and the reading of a choice."""

from __future__ import annotations

import pytest

from personvern.datamap.loader import load_datamap
from personvern.domain.banner import (
    BannerChoiceError,
    banner_config,
    banner_of,
    read_choice,
)
from personvern.domain.consent.ledger import ConsentTextChangedError
from personvern.domain.datamap import DataMap
from tests.conftest import EXAMPLE_DATAMAP
from tests.support.banner_map import MARKETING_PURPOSE, map_with_marketing


@pytest.fixture(scope="module")
def example() -> DataMap:
    return load_datamap(EXAMPLE_DATAMAP).datamap


@pytest.fixture(scope="module")
def with_pixel(tmp_path_factory: pytest.TempPathFactory) -> DataMap:
    target = tmp_path_factory.mktemp("pixel") / "map"
    return load_datamap(map_with_marketing(EXAMPLE_DATAMAP, target)).datamap


def test_categories_are_the_cookies_categories_in_banner_order_with_their_consent_purposes(
    example: DataMap,
) -> None:
    banner = banner_of(example)
    assert [("strictly_necessary", ()), ("analytics", ("service_improvement",))] == [
        (c.category.value, c.purposes) for c in banner.categories
    ]
    assert ["analytics"] == [c.category.value for c in banner.choosable]


def test_config_carries_every_language_with_texts_and_services_from_the_map(
    example: DataMap,
) -> None:
    config = banner_config(example)
    assert ["nb", "en"] == config["langs"]
    assert ["marketing"] == config["gpc"]
    analytics = config["t"]["nb"]["c"]["analytics"]
    purpose = example.purpose("service_improvement")
    assert purpose is not None
    assert purpose.consent is not None
    assert purpose.consent["nb"] == analytics["d"]
    assert ["nws_analytics_id", "nordicworkspace.example", "13 måneder"] == analytics["s"][0][:3]
    assert "Avvis alle" == config["t"]["nb"]["reject"]
    assert "Reject all" == config["t"]["en"]["reject"]
    assert config["policy"] == example.organization.cookie_policy_url


def test_the_version_changes_with_a_consent_text_and_not_with_anything_else(
    example: DataMap,
) -> None:
    before = banner_of(example).version
    changed = example.model_dump()
    purpose = next(p for p in changed["purposes"] if p["key"] == "service_improvement")
    purpose["consent"]["en"] += " (new)"
    assert before != banner_of(DataMap.model_validate(changed)).version
    same = example.model_dump()
    same["organization"]["name"] = "Another name"
    assert before == banner_of(DataMap.model_validate(same)).version


def test_a_choice_grants_and_refuses_the_purposes_of_each_category(with_pixel: DataMap) -> None:
    banner = banner_of(with_pixel)
    read = read_choice(banner, banner.version, {"analytics": True, "marketing": False}, gpc=False)
    assert {"analytics": True, "marketing": False} == dict(read.categories)
    assert {"service_improvement": True, MARKETING_PURPOSE: False} == {
        p.purpose: p.granted for p in read.purposes
    }
    assert () == read.refused_by_gpc


def test_global_privacy_control_refuses_marketing_whatever_was_clicked(with_pixel: DataMap) -> None:
    banner = banner_of(with_pixel)
    read = read_choice(banner, banner.version, {"analytics": True, "marketing": True}, gpc=True)
    assert {"analytics": True, "marketing": False} == dict(read.categories)
    assert ("marketing",) == read.refused_by_gpc
    assert {"service_improvement": True, MARKETING_PURPOSE: False} == {
        p.purpose: p.granted for p in read.purposes
    }


def test_a_choice_for_an_older_version_is_refused(example: DataMap) -> None:
    with pytest.raises(ConsentTextChangedError):
        read_choice(banner_of(example), "0" * 16, {"analytics": True}, gpc=False)


@pytest.mark.parametrize(
    ("choices", "message"),
    [
        ({}, "no answer"),
        ({"analytics": True, "tracking": True}, "unknown"),
        ({"analytics": True, "strictly_necessary": False}, "cannot be refused"),
    ],
)
def test_a_malformed_choice_is_refused_with_what_to_send(
    example: DataMap, choices: dict[str, bool], message: str
) -> None:
    banner = banner_of(example)
    with pytest.raises(BannerChoiceError, match=message) as refused:
        read_choice(banner, banner.version, choices, gpc=False)
    assert refused.value.hint


def test_a_map_without_cookies_offers_nothing_to_choose(example: DataMap) -> None:
    bare = example.model_dump()
    for system in bare["systems"]:
        system["cookies"] = []
    banner = banner_of(DataMap.model_validate(bare))
    assert () == banner.categories
    assert {} == dict(read_choice(banner, banner.version, {}, gpc=True).categories)
