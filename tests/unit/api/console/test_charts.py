"""The overview's SVG charts: well-formed, proportional, escaped, accessible, and empty-safe."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup

from personvern.api.console.charts import (
    AXIS,
    DEADLINE_COLOUR,
    ENGLISH,
    INK,
    MANUAL_COLOUR,
    MEDIAN_COLOUR,
    NORWEGIAN,
    P95_COLOUR,
    TYPE_COLOURS,
    TYPE_PATTERNS,
    WAITED_COLOUR,
    completion_chart,
    english_number,
    nice_scale,
    norwegian_number,
    system_strain_chart,
    weekly_requests_chart,
)
from personvern.domain.requests.lifecycle import RequestType
from personvern.domain.requests.statistics import (
    Completion,
    CompletionSummary,
    SystemStrain,
    completion_summary,
    weekly_counts,
)

SVG = "{http://www.w3.org/2000/svg}"
TODAY = date(2026, 3, 20)
HOSTILE = "<script>alert(1)</script>"

WEEKLY = weekly_counts(
    [
        (date(2026, 2, 24), RequestType.ACCESS, 3),
        (date(2026, 2, 25), RequestType.ERASURE, 1),
        (date(2026, 3, 3), RequestType.ACCESS, 6),
        (date(2026, 3, 18), RequestType.ERASURE, 2),
        (date(2026, 3, 18), RequestType.OBJECTION, 2),
    ],
    today=TODAY,
    weeks=4,
)
COMPLETION = completion_summary(
    [
        Completion(date(2026, 3, 1), date(2026, 3, 11), date(2026, 4, 1)),
        Completion(date(2026, 3, 1), date(2026, 3, 12), date(2026, 4, 1)),
        Completion(date(2026, 1, 1), date(2026, 2, 10), date(2026, 2, 2)),
    ]
)
SYSTEMS = (
    SystemStrain("crm", waited=4, manual_steps=1),
    SystemStrain(HOSTILE, waited=2, manual_steps=0),
    SystemStrain("files", waited=0, manual_steps=3),
)


def parse(markup: Markup) -> ET.Element:
    """The chart's figure as XML: fails the test unless it is well-formed."""
    assert isinstance(markup, Markup)
    return ET.fromstring(str(markup))


def svg_of(figure: ET.Element) -> ET.Element:
    svg = figure.find(f"{SVG}svg")
    assert svg is not None
    return svg


def valued(figure: ET.Element, **match: str) -> list[ET.Element]:
    """The drawn bars (elements with data-value), optionally those with matching attributes."""
    return [
        e
        for e in figure.iter(f"{SVG}rect")
        if "data-value" in e.attrib and all(e.get(k) == v for k, v in match.items())
    ]


def texts(figure: ET.Element) -> list[str]:
    return ["".join(e.itertext()) for e in figure.iter(f"{SVG}text")]


def table_rows(figure: ET.Element) -> list[list[str]]:
    table = figure.find("table")
    assert table is not None
    return [["".join(c.itertext()) for c in row] for row in table.iter("tr")]


CHARTS = [
    pytest.param(lambda: weekly_requests_chart(WEEKLY, ENGLISH, english_number), id="weekly"),
    pytest.param(lambda: completion_chart(COMPLETION, ENGLISH, english_number), id="completion"),
    pytest.param(lambda: system_strain_chart(SYSTEMS, ENGLISH, english_number), id="systems"),
]


@pytest.mark.parametrize("draw", CHARTS)
def test_every_chart_is_a_named_image_with_its_data_in_a_table(draw: object) -> None:
    figure = parse(draw())  # type: ignore[operator]
    svg = svg_of(figure)
    assert "img" == svg.get("role")
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert title is not None
    assert desc is not None
    assert [svg[0], svg[1]] == [title, desc]
    assert f"{title.get('id')} {desc.get('id')}" == svg.get("aria-labelledby")
    assert title.text
    assert desc.text
    table = figure.find("table")
    assert table is not None
    assert "visually-hidden" in (table.get("class") or "")
    assert title.text == "".join(table.find("caption").itertext())  # type: ignore[union-attr]
    # No script, no event handlers, and every fill points at a pattern defined in the chart.
    ids = {e.get("id") for e in figure.iter() if e.get("id")}
    for element in figure.iter():
        assert not element.tag.endswith("script")
        assert not [a for a in element.attrib if a.lower().startswith("on")]
        fill = element.get("fill", "")
        if fill.startswith("url(#"):
            assert fill[5:-1] in ids


def test_weekly_bars_are_stacked_in_proportion_to_the_counts() -> None:
    figure = parse(weekly_requests_chart(WEEKLY, ENGLISH, english_number))
    bars = valued(figure)
    assert [3, 1, 6, 2, 2] == [int(b.get("data-value", "")) for b in bars]
    # Coordinates are written with two decimals: proportional to within a hundredth.
    unit = float(bars[2].get("height", "")) / 6
    assert [3 * unit, unit, 6 * unit, 2 * unit, 2 * unit] == pytest.approx(
        [float(b.get("height", "")) for b in bars], abs=0.01
    )
    weeks = figure.iter(f"{SVG}g")
    stacks = [
        [r for r in g.iter(f"{SVG}rect") if "data-value" in r.attrib]
        for g in weeks
        if g.get("class") == "week"
    ]
    heights = [sum(float(r.get("height", "")) for r in stack) for stack in stacks]
    assert [4 * unit, 6 * unit, 0, 4 * unit] == pytest.approx(heights, abs=0.02)
    # Segments of one week touch: each starts where the one below it ends.
    first = stacks[0]
    assert float(first[1].get("y", "")) + float(first[1].get("height", "")) == pytest.approx(
        float(first[0].get("y", "")), abs=0.01
    )
    assert {"4", "6"} <= set(texts(figure))  # totals over the bars


def test_weekly_chart_has_a_legend_with_a_pattern_per_type_shown() -> None:
    figure = parse(weekly_requests_chart(WEEKLY, NORWEGIAN, norwegian_number))
    legend = [g for g in figure.iter(f"{SVG}g") if g.get("class") == "legend"]
    assert 1 == len(legend)
    assert ["Innsyn", "Sletting", "Protest"] == texts(legend[0])
    assert ["uke 9", "uke 10", "uke 11", "uke 12"] == [r[0] for r in table_rows(figure)[1:]]
    assert ["Uke", "Innsyn", "Sletting", "Protest", "Totalt"] == table_rows(figure)[0]
    assert (
        "14 henvendelser de siste 4 ukene; flest i uke 10 (6)"
        == svg_of(figure).find(f"{SVG}desc").text
    )  # type: ignore[union-attr]
    patterns = [p.get("id") for p in figure.iter(f"{SVG}pattern")]
    assert ["chart-weekly-access", "chart-weekly-erasure", "chart-weekly-objection"] == patterns


def test_each_type_has_its_own_pattern_and_a_colour_readable_on_white() -> None:
    assert len(set(TYPE_PATTERNS.values())) == len(RequestType)
    assert len(set(TYPE_COLOURS.values())) == len(RequestType)
    for colour in [
        *TYPE_COLOURS.values(),
        MEDIAN_COLOUR,
        P95_COLOUR,
        DEADLINE_COLOUR,
        WAITED_COLOUR,
        MANUAL_COLOUR,
        INK,
        AXIS,
    ]:
        assert contrast(colour, "#ffffff") >= 4.5, colour


def contrast(first: str, second: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_completion_bars_and_deadline_share_one_scale() -> None:
    summary = CompletionSummary(count=7, median_days=10.5, p95_days=42.0, within_deadline=5)
    figure = parse(completion_chart(summary, NORWEGIAN, norwegian_number))
    median, p95 = valued(figure)
    assert ("10.5", "42") == (median.get("data-value"), p95.get("data-value"))
    per_day = float(median.get("width", "")) / 10.5
    assert float(p95.get("width", "")) / 42 == pytest.approx(per_day)
    deadline = next(g for g in figure.iter(f"{SVG}g") if g.get("class") == "deadline")
    line = deadline.find(f"{SVG}line")
    assert line is not None
    assert float(line.get("x1", "")) - float(median.get("x", "")) == pytest.approx(30 * per_day)
    # Norwegian numbers: decimal comma, and the share as a whole percent.
    shown = texts(figure)
    assert {"10,5 dager", "42 dager", "Frist: én måned (30 dager)"} <= set(shown)
    assert "71 % fullført innen fristen" in shown
    assert [["Mål", "Dager"], ["Median", "10,5"], ["95-persentil", "42"]] == table_rows(figure)[:3]


def test_system_bars_are_in_proportion_and_a_hostile_name_stays_text() -> None:
    markup = system_strain_chart(SYSTEMS, ENGLISH, english_number)
    assert "<script>" not in markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup
    figure = parse(markup)
    waited = valued(figure, **{"data-series": "waited"})
    manual = valued(figure, **{"data-series": "manual"})
    assert ([4, 2, 0], [1, 0, 3]) == (
        [int(b.get("data-value", "")) for b in waited],
        [int(b.get("data-value", "")) for b in manual],
    )
    unit = float(waited[0].get("width", "")) / 4
    assert [2 * unit, 0, unit, 0, 3 * unit] == pytest.approx(
        [float(b.get("width", "")) for b in (waited[1], waited[2], manual[0], manual[1], manual[2])]
    )
    # The name is drawn cut to fit, and whole in the tooltip and the table.
    assert HOSTILE[:23] + "\u2026" in texts(figure)
    assert HOSTILE in ["".join(t.itertext()) for t in figure.iter(f"{SVG}title")]
    assert [
        ["System", "Waited for the system", "Needed manual steps"],
        ["crm", "4", "1"],
        [HOSTILE, "2", "0"],
        ["files", "0", "3"],
    ] == table_rows(figure)
    assert "3 systems; most affected: crm (4 requests waited, 1 needed manual steps)" == (
        svg_of(figure).find(f"{SVG}desc").text  # type: ignore[union-attr]
    )


def test_hostile_labels_are_escaped_too() -> None:
    labels = replace(ENGLISH, weekly_title=HOSTILE, request_types={"access": '"><img src=x>'})
    markup = weekly_requests_chart(WEEKLY, labels, english_number)
    assert "<script>" not in markup
    assert "<img" not in markup
    figure = parse(markup)
    assert HOSTILE == svg_of(figure).find(f"{SVG}title").text  # type: ignore[union-attr]
    assert '"><img src=x>' in texts(figure)


@given(st.text(min_size=1, max_size=80))
def test_any_system_name_gives_a_well_formed_chart(name: str) -> None:
    figure = parse(system_strain_chart([SystemStrain(name, waited=1)], ENGLISH, english_number))
    shown = table_rows(figure)[1][0]
    assert len(shown) == len(name)
    assert all(a == b or b == "\ufffd" for a, b in zip(name, shown, strict=True))


@pytest.mark.parametrize(
    ("chart", "message"),
    [
        (
            lambda: weekly_requests_chart(
                weekly_counts([], today=TODAY, weeks=12), ENGLISH, english_number
            ),
            ENGLISH.no_requests,
        ),
        (lambda: weekly_requests_chart((), NORWEGIAN, norwegian_number), NORWEGIAN.no_requests),
        (
            lambda: completion_chart(completion_summary([]), ENGLISH, english_number),
            ENGLISH.no_completions,
        ),
        (lambda: system_strain_chart((), NORWEGIAN, norwegian_number), NORWEGIAN.no_systems),
    ],
)
def test_no_data_draws_a_message_not_an_empty_axis(chart: object, message: str) -> None:
    figure = parse(chart())  # type: ignore[operator]
    svg = svg_of(figure)
    assert "chart-empty" in (figure.get("class") or "")
    assert "img" == svg.get("role")
    assert message == svg.find(f"{SVG}desc").text  # type: ignore[union-attr]
    assert [message] == texts(figure)
    assert figure.find("table") is None
    assert [] == valued(figure)


def test_charts_on_one_page_keep_their_ids_apart() -> None:
    first = parse(weekly_requests_chart(WEEKLY, ENGLISH, english_number, id_prefix="a"))
    second = parse(weekly_requests_chart(WEEKLY, ENGLISH, english_number, id_prefix="b"))
    ids = [{e.get("id") for e in f.iter() if e.get("id")} for f in (first, second)]
    assert not ids[0] & ids[1]


@pytest.mark.parametrize("prefix", ["", "1chart", 'a"b', "a b", "x" * 62])
def test_an_unsafe_id_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="id prefix"):
        weekly_requests_chart(WEEKLY, ENGLISH, english_number, id_prefix=prefix)


@pytest.mark.parametrize(
    ("largest", "expected"),
    [
        (0, (1, 1)),
        (1, (1, 1)),
        (3, (3, 1)),
        (6, (6, 2)),
        (31.5, (40, 10)),
        (250, (250, 50)),
        (251, (300, 100)),
    ],
)
def test_nice_scale(largest: float, expected: tuple[float, float]) -> None:
    assert expected == nice_scale(largest)


@pytest.mark.parametrize(
    ("value", "english", "norwegian"),
    [(0, "0", "0"), (12, "12", "12"), (10.5, "10.5", "10,5"), (1234.56, "1,234.6", "1\u00a0234,6")],
)
def test_number_formats(value: float, english: str, norwegian: str) -> None:
    assert (english, norwegian) == (english_number(value), norwegian_number(value))
