"""The staff overview's charts as hand-drawn SVG: no JavaScript, no front-end build step.

Each function returns a ``<figure>`` holding an ``<svg role="img">`` named by its
``<title>`` and summarised by its ``<desc>`` (what a screen reader says), followed by
the same figures as a visually hidden ``<table>`` (what a screen reader can browse).
Colours pass WCAG AA against white (at least 4.5:1, more than the 3:1 graphics need)
and every series also has its own fill pattern and a text label, so colour is never
the only cue. Every word comes from the caller's :class:`ChartLabels` and every
number from the caller's formatter, so a page draws them in Norwegian or English.

Text is escaped everywhere: system names come from the company's data map. Markup is
only ever built from literal templates whose placeholders ``markupsafe`` escapes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from personvern.domain.requests.lifecycle import RequestType
from personvern.domain.requests.statistics import (
    CompletionSummary,
    IsoWeek,
    SystemStrain,
    WeeklyCount,
)

#: Turns a number into text the way the page's language writes it ("1,5" in Norwegian).
NumberFormat = Callable[[float], str]

#: Text and lines: near-black on white (17:1) and a dark grey for axes (7:1).
INK = "#1a1a1a"
AXIS = "#595959"
GRID = "#d9d9d9"
BACKGROUND = "#ffffff"

#: One colour and pattern per request type, the same on every page. Each colour has
#: at least 4.5:1 contrast with white (tests/unit/api/console/test_charts.py checks).
TYPE_COLOURS: Mapping[RequestType, str] = {
    RequestType.ACCESS: "#1f5fa8",
    RequestType.PORTABILITY: "#006d77",
    RequestType.ERASURE: "#a61e4d",
    RequestType.RECTIFICATION: "#8a6d00",
    RequestType.RESTRICTION: "#7b3f9e",
    RequestType.OBJECTION: "#b3471d",
    RequestType.WITHDRAW_CONSENT: "#4d4d4d",
}
MEDIAN_COLOUR = "#1f5fa8"
P95_COLOUR = "#7b3f9e"
DEADLINE_COLOUR = "#b00020"
WAITED_COLOUR = "#b3471d"
MANUAL_COLOUR = "#1f5fa8"

#: White marks over a series' colour, 8 by 8 user units; "solid" draws none.
_PATTERNS: Mapping[str, str] = {
    "solid": "",
    "diagonal": "M-2,2 l4,-4 M0,8 l8,-8 M6,10 l4,-4",
    "dots": "M2,2 h0.01 M6,6 h0.01",
    "horizontal": "M0,4 h8",
    "crosshatch": "M0,0 l8,8 M8,0 l-8,8",
    "vertical": "M4,0 v8",
    "antidiagonal": "M-2,6 l4,4 M0,0 l8,8 M6,-2 l4,4",
}
TYPE_PATTERNS: Mapping[RequestType, str] = dict(zip(RequestType, _PATTERNS, strict=True))

#: Hides the data table from sight but not from screen readers (a page's own
#: `.visually-hidden` class may do the same; the inline style keeps it hidden without).
_VISUALLY_HIDDEN = (
    "position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;"
    "clip:rect(0,0,0,0);white-space:nowrap;border:0"
)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,60}")
#: Longest system name drawn in full; longer ones are cut (the table has them whole).
MAX_NAME = 24
WIDTH = 640


@dataclass(frozen=True)
class ChartLabels:
    """Every word the charts show, in one language.

    Fields with ``{placeholders}`` are filled with ``str.format``; the values given
    are already formatted numbers (or names), so a template only places them.
    """

    #: Names of the request types, by RequestType value ("access": "Innsyn").
    request_types: Mapping[str, str]
    no_requests: str = "No requests yet"
    weekly_title: str = "Requests received per week"
    #: {total}, {weeks}, {peak} (the most in one week) and {peak_week} (a week label).
    weekly_summary: str = "{total} requests in the last {weeks} weeks; most in {peak_week} ({peak})"
    #: {week} and {year} of an ISO week.
    week: str = "W{week}"
    week_heading: str = "Week"
    total: str = "Total"
    completion_title: str = "Days from receipt to completion"
    no_completions: str = "No request completed in the period yet"
    #: {count}, {median}, {p95}, {deadline} (days) and {share} (percent on time).
    completion_summary: str = (
        "{count} requests completed: median {median} days, 95th percentile {p95} days, "
        "against a deadline of {deadline} days; {share}% completed within their deadline"
    )
    median: str = "Median"
    p95: str = "95th percentile"
    #: {days}.
    deadline: str = "Deadline: one month ({days} days)"
    #: {value}.
    days: str = "{value} days"
    #: {share}.
    within_deadline: str = "{share}% completed within their deadline"
    measure_heading: str = "Measure"
    days_heading: str = "Days"
    systems_title: str = "Requests per system that waited or needed manual steps"
    no_systems: str = "No system made a request wait or needed manual steps"
    #: {systems} (how many), {top} (a system's name), {waited} and {manual}.
    systems_summary: str = (
        "{systems} systems; most affected: {top} ({waited} requests waited, "
        "{manual} needed manual steps)"
    )
    system_heading: str = "System"
    waited: str = "Waited for the system"
    manual_steps: str = "Needed manual steps"

    def request_type(self, request_type: RequestType) -> str:
        """The name of a request type, or its value where the caller gave none."""
        return self.request_types.get(request_type.value, request_type.value)

    def week_label(self, week: IsoWeek) -> str:
        """The short label of an ISO week under its bar."""
        return self.week.format(week=week.week, year=week.year)


ENGLISH = ChartLabels(
    request_types={
        "access": "Access",
        "portability": "Portability",
        "erasure": "Erasure",
        "rectification": "Rectification",
        "restriction": "Restriction",
        "objection": "Objection",
        "withdraw-consent": "Consent withdrawn",
    }
)

NORWEGIAN = ChartLabels(
    request_types={
        "access": "Innsyn",
        "portability": "Dataportabilitet",
        "erasure": "Sletting",
        "rectification": "Retting",
        "restriction": "Begrensning",
        "objection": "Protest",
        "withdraw-consent": "Tilbaketrukket samtykke",
    },
    no_requests="Ingen henvendelser ennå",
    weekly_title="Henvendelser mottatt per uke",
    weekly_summary="{total} henvendelser de siste {weeks} ukene; flest i {peak_week} ({peak})",
    week="uke {week}",
    week_heading="Uke",
    total="Totalt",
    completion_title="Dager fra mottak til fullført",
    no_completions="Ingen henvendelser fullført i perioden ennå",
    completion_summary=(
        "{count} henvendelser fullført: median {median} dager, 95-persentil {p95} dager, "
        "mot en frist på {deadline} dager; {share} % fullført innen fristen"
    ),
    median="Median",
    p95="95-persentil",
    deadline="Frist: én måned ({days} dager)",
    days="{value} dager",
    within_deadline="{share} % fullført innen fristen",
    measure_heading="Mål",
    days_heading="Dager",
    systems_title="Henvendelser per system som måtte vente eller trengte manuelle steg",
    no_systems="Ingen systemer har fått en henvendelse til å vente eller trengt manuelle steg",
    systems_summary=(
        "{systems} systemer; mest berørt: {top} ({waited} henvendelser ventet, "
        "{manual} trengte manuelle steg)"
    ),
    system_heading="System",
    waited="Ventet på systemet",
    manual_steps="Trengte manuelle steg",
)


def english_number(value: float) -> str:
    """A number as English writes it: "1,234" and "1.5" (one decimal at most)."""
    rounded = round(float(value), 1)
    return f"{rounded:,.0f}" if rounded.is_integer() else f"{rounded:,.1f}"


def norwegian_number(value: float) -> str:
    """A number as Norwegian writes it: "1 234" (no-break space) and "1,5"."""
    return english_number(value).replace(",", "\u00a0").replace(".", ",")


# -- building blocks ---------------------------------------------------------------


def _number(value: float) -> str:
    """A coordinate: two decimals at most, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _xml_text(value: object) -> object:
    """Text with the characters XML 1.0 cannot hold (NUL, most C0 controls) as U+FFFD."""
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    return _NOT_XML.sub("\ufffd", value)


def _element(tag: str, attributes: Mapping[str, object] | None = None, *children: object) -> Markup:
    """``<tag attributes>children</tag>``, every attribute value and text child escaped."""
    attrs = Markup("").join(
        Markup(' {}="{}"').format(
            name, _number(value) if isinstance(value, float) else _xml_text(value)
        )
        for name, value in (attributes or {}).items()
        if value is not None
    )
    if not children:
        return Markup("<{}{}/>").format(tag, attrs)
    # A carriage return is written as a reference: a parser would turn a raw one into "\n".
    body = (
        Markup("")
        .join(escape(_xml_text(child)) for child in children)
        .replace("\r", Markup("&#13;"))
    )
    return Markup("<{}{}>{}</{}>").format(tag, attrs, body, tag)


def _text(x: float, y: float, content: str, **attributes: object) -> Markup:
    return _element("text", {"x": float(x), "y": float(y), "fill": INK, **attributes}, content)


def _check_id(id_prefix: str) -> str:
    if not _ID.fullmatch(id_prefix):
        raise ValueError(
            f"a chart's id prefix is a letter then letters, digits, - or _; got {id_prefix!r}"
        )
    return id_prefix


def _pattern(pattern_id: str, colour: str, marks: str) -> Markup:
    children = [_element("rect", {"width": 8, "height": 8, "fill": colour})]
    if marks:
        children.append(
            _element(
                "path",
                {
                    "d": marks,
                    "stroke": BACKGROUND,
                    "stroke-width": 1.5 if "h0.01" not in marks else 3,
                    "stroke-linecap": "round",
                },
            )
        )
    return _element(
        "pattern",
        {"id": pattern_id, "patternUnits": "userSpaceOnUse", "width": 8, "height": 8},
        *children,
    )


def _svg(id_prefix: str, height: float, title: str, summary: str, *body: Markup) -> Markup:
    return _element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "viewBox": f"0 0 {WIDTH} {_number(height)}",
            "width": "100%",
            "role": "img",
            "aria-labelledby": f"{id_prefix}-title {id_prefix}-desc",
            "font-family": "system-ui, sans-serif",
            "font-size": 12,
            "class": "chart",
        },
        _element("title", {"id": f"{id_prefix}-title"}, title),
        _element("desc", {"id": f"{id_prefix}-desc"}, summary),
        *body,
    )


def _table(caption: str, headings: Sequence[str], rows: Iterable[Sequence[str]]) -> Markup:
    head = _element("tr", None, *(_element("th", {"scope": "col"}, h) for h in headings))
    body = [
        _element(
            "tr",
            None,
            _element("th", {"scope": "row"}, row[0]),
            *(_element("td", None, cell) for cell in row[1:]),
        )
        for row in rows
    ]
    return _element(
        "table",
        {"class": "visually-hidden"},
        _element("caption", None, caption),
        _element("thead", None, head),
        _element("tbody", None, *body),
    )


def _figure(kind: str, svg: Markup, table: Markup | None = None) -> Markup:
    children = [svg] if table is None else [svg, table]
    return _element("figure", {"class": f"chart-figure chart-{kind}"}, *children)


def _empty(id_prefix: str, kind: str, title: str, message: str) -> Markup:
    """A chart with nothing to draw: its title, and the message in its place."""
    height = 120.0
    svg = _svg(
        id_prefix,
        height,
        title,
        message,
        _element(
            "rect",
            {
                "x": 0.5,
                "y": 0.5,
                "width": WIDTH - 1.0,
                "height": height - 1,
                "fill": BACKGROUND,
                "stroke": GRID,
                "stroke-dasharray": "4 4",
            },
        ),
        _text(WIDTH / 2, height / 2 + 5, message, **{"text-anchor": "middle", "font-size": 14}),
    )
    return _element("figure", {"class": f"chart-figure chart-{kind} chart-empty"}, svg)


def nice_scale(largest: float, ticks: int = 5) -> tuple[float, float]:
    """The top of an axis showing ``largest`` and its tick step, both round numbers.

    The step is 1, 2 or 5 times a power of ten, and never below 1: the charts count
    requests and days, and a tick at half a request means nothing.
    """
    if largest <= 0:
        return 1.0, 1.0
    raw = largest / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(1.0, float(step))
    return float(math.ceil(largest / step) * step), step


def _ticks(top: float, step: float) -> list[float]:
    return [i * step for i in range(round(top / step) + 1)]


def _shorten(name: str) -> str:
    return name if len(name) <= MAX_NAME else name[: MAX_NAME - 1] + "\u2026"


@dataclass(frozen=True)
class _Series:
    """One drawn series: its key, label, colour and pattern."""

    key: str
    label: str
    colour: str
    marks: str
    fill_id: str = field(default="")


def _legend(series: Sequence[_Series], x0: float, y0: float, width: float) -> tuple[Markup, float]:
    """Swatches with their labels in rows; returns the markup and the height it takes."""
    item = 160.0
    per_row = max(1, int(width // item))
    items = []
    for index, s in enumerate(series):
        x = x0 + (index % per_row) * item
        y = y0 + (index // per_row) * 20
        items.append(
            _element(
                "g",
                {"class": "legend-item"},
                _element(
                    "rect",
                    {
                        "x": x,
                        "y": y,
                        "width": 14.0,
                        "height": 14.0,
                        "fill": f"url(#{s.fill_id})",
                        "stroke": s.colour,
                    },
                ),
                _text(x + 20, y + 11, s.label),
            )
        )
    rows = math.ceil(len(series) / per_row) if series else 0
    return _element("g", {"class": "legend", "aria-hidden": "true"}, *items), rows * 20.0


# -- the charts --------------------------------------------------------------------


def weekly_requests_chart(
    weekly: Sequence[WeeklyCount],
    labels: ChartLabels,
    number: NumberFormat,
    *,
    id_prefix: str = "chart-weekly",
) -> Markup:
    """Requests received per ISO week as bars stacked by type, with a legend and totals."""
    _check_id(id_prefix)
    total = sum(w.total for w in weekly)
    if not weekly or total == 0:
        return _empty(id_prefix, "weekly", labels.weekly_title, labels.no_requests)
    types = [t for t in RequestType if any(w.by_type.get(t, 0) for w in weekly)]
    series = {
        t: _Series(
            t.value,
            labels.request_type(t),
            TYPE_COLOURS[t],
            _PATTERNS[TYPE_PATTERNS[t]],
            f"{id_prefix}-{t.value}",
        )
        for t in types
    }
    left, right, top_margin, plot_height = 48.0, 12.0, 24.0, 200.0
    plot_width = WIDTH - left - right
    bottom = top_margin + plot_height
    axis_top, step = nice_scale(max(w.total for w in weekly))
    scale = plot_height / axis_top
    slot = plot_width / len(weekly)
    bar = slot * 0.7

    parts: list[Markup] = [
        _element(
            "defs",
            None,
            *(_pattern(s.fill_id, s.colour, s.marks) for s in series.values()),
        )
    ]
    grid = []
    for tick in _ticks(axis_top, step):
        y = bottom - tick * scale
        grid.append(
            _element(
                "line",
                {"x1": left, "x2": WIDTH - right, "y1": y, "y2": y, "stroke": GRID},
            )
        )
        grid.append(_text(left - 6, y + 4, number(tick), **{"text-anchor": "end"}))
    parts.append(_element("g", {"class": "grid", "aria-hidden": "true"}, *grid))

    # Thin the week labels so they never overlap (about 52 units each), counting back from
    # the current week so that it is always labelled.
    label_every = max(1, math.ceil(52 / slot))
    bars = []
    for index, week in enumerate(weekly):
        x = left + index * slot + (slot - bar) / 2
        y = bottom
        segments = []
        for request_type in types:
            count = week.by_type.get(request_type, 0)
            if not count:
                continue
            height = count * scale
            y -= height
            s = series[request_type]
            segments.append(
                _element(
                    "rect",
                    {
                        "x": x,
                        "y": y,
                        "width": bar,
                        "height": height,
                        "fill": f"url(#{s.fill_id})",
                        "stroke": BACKGROUND,
                        "stroke-width": 1,
                        "data-type": request_type.value,
                        "data-value": count,
                    },
                    _element(
                        "title",
                        None,
                        f"{labels.week_label(week.week)}: {s.label} {number(count)}",
                    ),
                )
            )
        if week.total:
            segments.append(
                _text(
                    x + bar / 2,
                    y - 4,
                    number(week.total),
                    **{"text-anchor": "middle", "class": "bar-total"},
                )
            )
        if (len(weekly) - 1 - index) % label_every == 0:  # the current week always
            segments.append(
                _text(
                    x + bar / 2,
                    bottom + 16,
                    labels.week_label(week.week),
                    **{"text-anchor": "middle"},
                )
            )
        bars.append(_element("g", {"class": "week", "data-week": str(week.week)}, *segments))
    parts.append(_element("g", {"class": "bars"}, *bars))
    parts.append(
        _element(
            "line", {"x1": left, "x2": WIDTH - right, "y1": bottom, "y2": bottom, "stroke": AXIS}
        )
    )
    legend, legend_height = _legend(list(series.values()), left, bottom + 32, plot_width)
    parts.append(legend)

    peak = max(weekly, key=lambda w: w.total)
    summary = labels.weekly_summary.format(
        total=number(total),
        weeks=number(len(weekly)),
        peak=number(peak.total),
        peak_week=labels.week_label(peak.week),
    )
    svg = _svg(id_prefix, bottom + 32 + legend_height + 8, labels.weekly_title, summary, *parts)
    table = _table(
        labels.weekly_title,
        [labels.week_heading, *(series[t].label for t in types), labels.total],
        (
            [
                labels.week_label(w.week),
                *(number(w.by_type.get(t, 0)) for t in types),
                number(w.total),
            ]
            for w in weekly
        ),
    )
    return _figure("weekly", svg, table)


def completion_chart(
    completion: CompletionSummary,
    labels: ChartLabels,
    number: NumberFormat,
    *,
    id_prefix: str = "chart-completion",
) -> Markup:
    """Median and 95th-percentile days to completion as bars against the deadline line."""
    _check_id(id_prefix)
    if not completion.count or completion.median_days is None or completion.p95_days is None:
        return _empty(id_prefix, "completion", labels.completion_title, labels.no_completions)
    share = number(round((completion.share_within_deadline or 0) * 100))
    rows = [
        (
            _Series("median", labels.median, MEDIAN_COLOUR, "", f"{id_prefix}-median"),
            completion.median_days,
        ),
        (
            _Series("p95", labels.p95, P95_COLOUR, _PATTERNS["diagonal"], f"{id_prefix}-p95"),
            completion.p95_days,
        ),
    ]
    left, right, top_margin, bar, gap = 150.0, 90.0, 40.0, 28.0, 18.0
    plot_width = WIDTH - left - right
    axis_end, step = nice_scale(max(completion.p95_days, completion.deadline_days) * 1.05)
    scale = plot_width / axis_end
    bottom = top_margin + len(rows) * (bar + gap)

    parts: list[Markup] = [
        _element("defs", None, *(_pattern(s.fill_id, s.colour, s.marks) for s, _ in rows))
    ]
    grid = []
    for tick in _ticks(axis_end, step):
        x = left + tick * scale
        grid.append(
            _element("line", {"x1": x, "x2": x, "y1": top_margin - 8, "y2": bottom, "stroke": GRID})
        )
        grid.append(_text(x, bottom + 16, number(tick), **{"text-anchor": "middle"}))
    parts.append(_element("g", {"class": "grid", "aria-hidden": "true"}, *grid))
    for index, (s, days) in enumerate(rows):
        y = top_margin + index * (bar + gap)
        parts.append(
            _element(
                "g",
                {"class": f"measure measure-{s.key}"},
                _text(left - 8, y + bar / 2 + 4, s.label, **{"text-anchor": "end"}),
                _element(
                    "rect",
                    {
                        "x": left,
                        "y": y,
                        "width": days * scale,
                        "height": bar,
                        "fill": f"url(#{s.fill_id})",
                        "stroke": s.colour,
                        "data-value": float(days),
                    },
                ),
                _text(
                    left + days * scale + 6,
                    y + bar / 2 + 4,
                    labels.days.format(value=number(days)),
                ),
            )
        )
    deadline_x = left + completion.deadline_days * scale
    parts.append(
        _element(
            "g",
            {"class": "deadline", "data-value": completion.deadline_days},
            _element(
                "line",
                {
                    "x1": deadline_x,
                    "x2": deadline_x,
                    "y1": top_margin - 14,
                    "y2": bottom,
                    "stroke": DEADLINE_COLOUR,
                    "stroke-width": 2,
                    "stroke-dasharray": "6 3",
                },
            ),
            _text(
                deadline_x,
                top_margin - 20,
                labels.deadline.format(days=number(completion.deadline_days)),
                **{"text-anchor": "middle", "fill": DEADLINE_COLOUR},
            ),
        )
    )
    parts.append(
        _element(
            "line", {"x1": left, "x2": left, "y1": top_margin - 8, "y2": bottom, "stroke": AXIS}
        )
    )
    parts.append(_text(left, bottom + 40, labels.within_deadline.format(share=share)))
    summary = labels.completion_summary.format(
        count=number(completion.count),
        median=number(completion.median_days),
        p95=number(completion.p95_days),
        deadline=number(completion.deadline_days),
        share=share,
    )
    svg = _svg(id_prefix, bottom + 52, labels.completion_title, summary, *parts)
    table = _table(
        labels.completion_title,
        [labels.measure_heading, labels.days_heading],
        [
            [labels.median, number(completion.median_days)],
            [labels.p95, number(completion.p95_days)],
            [labels.deadline.format(days=number(completion.deadline_days)), ""],
        ],
    )
    return _figure("completion", svg, table)


def system_strain_chart(
    systems: Sequence[SystemStrain],
    labels: ChartLabels,
    number: NumberFormat,
    *,
    id_prefix: str = "chart-systems",
    most: int = 12,
) -> Markup:
    """Per system, requests that waited for it and that needed manual steps, as bar pairs.

    The ``most`` systems with the most requests are drawn; the data table lists all.
    """
    _check_id(id_prefix)
    if not systems:
        return _empty(id_prefix, "systems", labels.systems_title, labels.no_systems)
    drawn = list(systems)[: max(1, most)]
    waited = _Series("waited", labels.waited, WAITED_COLOUR, "", f"{id_prefix}-waited")
    manual = _Series(
        "manual", labels.manual_steps, MANUAL_COLOUR, _PATTERNS["diagonal"], f"{id_prefix}-manual"
    )
    left, right, top_margin, bar, gap = 190.0, 40.0, 40.0, 14.0, 14.0
    plot_width = WIDTH - left - right
    axis_end, step = nice_scale(max(max(s.waited, s.manual_steps) for s in drawn))
    scale = plot_width / axis_end
    row = 2 * bar + gap
    bottom = top_margin + len(drawn) * row

    parts: list[Markup] = [
        _element("defs", None, *(_pattern(s.fill_id, s.colour, s.marks) for s in (waited, manual)))
    ]
    legend, _ = _legend([waited, manual], left, 8, plot_width + right)
    parts.append(legend)
    grid = []
    for tick in _ticks(axis_end, step):
        x = left + tick * scale
        grid.append(
            _element("line", {"x1": x, "x2": x, "y1": top_margin - 4, "y2": bottom, "stroke": GRID})
        )
        grid.append(_text(x, bottom + 14, number(tick), **{"text-anchor": "middle"}))
    parts.append(_element("g", {"class": "grid", "aria-hidden": "true"}, *grid))
    for index, system in enumerate(drawn):
        y = top_margin + index * row
        children: list[Markup] = [
            _element("title", None, system.system),
            _text(left - 8, y + bar + 4, _shorten(system.system), **{"text-anchor": "end"}),
        ]
        for offset, s, count in ((0.0, waited, system.waited), (bar, manual, system.manual_steps)):
            children.append(
                _element(
                    "rect",
                    {
                        "x": left,
                        "y": y + offset,
                        "width": count * scale,
                        "height": bar - 2,
                        "fill": f"url(#{s.fill_id})",
                        "stroke": s.colour if count else None,
                        "data-series": s.key,
                        "data-value": count,
                    },
                )
            )
            children.append(
                _text(
                    left + count * scale + 4,
                    y + offset + bar - 4,
                    number(count),
                    **{"font-size": 11},
                )
            )
        parts.append(_element("g", {"class": "system"}, *children))
    parts.append(
        _element(
            "line", {"x1": left, "x2": left, "y1": top_margin - 4, "y2": bottom, "stroke": AXIS}
        )
    )
    worst = systems[0]
    summary = labels.systems_summary.format(
        systems=number(len(systems)),
        top=worst.system,
        waited=number(worst.waited),
        manual=number(worst.manual_steps),
    )
    svg = _svg(id_prefix, bottom + 24, labels.systems_title, summary, *parts)
    table = _table(
        labels.systems_title,
        [labels.system_heading, labels.waited, labels.manual_steps],
        ([s.system, number(s.waited), number(s.manual_steps)] for s in systems),
    )
    return _figure("systems", svg, table)
