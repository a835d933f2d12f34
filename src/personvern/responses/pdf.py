"""The access report as PDF, laid out by fpdf2 from the same templates as the HTML.

Why fpdf2: it is pure Python (its dependencies, Pillow, fontTools and defusedxml, come
as wheels), so the PDF renders on any machine ``pip install`` works on. WeasyPrint
would lay out the HTML with its stylesheet, but needs Pango from the operating system,
which a server or CI machine may lack. fpdf2's HTML support is small, so the PDF uses
the report's body template in its ``pdf`` mode (tables of plain text, no stylesheet,
no internal links). fpdf2 lays a table out at the width it is given, with each column
the share the report computed from its content, and wraps a long value (a web
address, a browser's name) inside its cell, so no table runs past the margin.

A report whose last page would hold only a few lines reads as if something were
missing. The body marks where its sections begin; when the last page comes out
nearly empty, the layout is tried again with a page break before a late section, so
that the last page holds that whole section (see :func:`_lay_out`).

Text needs a font that has its characters. A Unicode TrueType font (DejaVu Sans, Noto
Sans or Liberation Sans, from the operating system) is used when one is found: every
language then renders. Without one, the PDF falls back to the PDF core font Helvetica
in Windows-1252, which still has æ, ø, å, § and the other Western European letters;
letters outside it lose their accent where they have one (``č`` becomes ``c``), the
rest become ``?``.
The HTML report and the export always hold the exact text.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Literal

from fpdf import FPDF, TextStyle

from personvern.domain.datamap import DataMap
from personvern.domain.requests.collected import CollectedData
from personvern.responses.access_report import AccessReport, build_access_report, render_report

_CORE_FAMILY: Final = "helvetica"
_CORE_ENCODING: Final = "windows-1252"
_FAMILY: Final = "report"
_TITLES = {"nb": "Innsyn i personopplysningene dine", "en": "Access to your personal data"}
_PAGE = {"nb": "Side", "en": "Page"}
#: A4 in millimetres, and the margins no text or line may enter (the footer sits below
#: the bottom margin, from FOOTER_TOP down).
PAGE_WIDTH: Final = 210.0
PAGE_HEIGHT: Final = 297.0
MARGIN_LEFT: Final = 18.0
MARGIN_TOP: Final = 16.0
MARGIN_RIGHT: Final = 18.0
MARGIN_BOTTOM: Final = 18.0
FOOTER_TOP: Final = PAGE_HEIGHT - 12.0
#: A last page filled less than this (share of the text area) is "nearly empty".
MIN_LAST_PAGE_FILL: Final = 0.2
#: Where the body template lets a section start on a new page.
SECTION_MARK: Final = "<!--section-->"
# The report's accent colour and a calmer scale than fpdf2's defaults (24 pt, dark red).
_ACCENT = "#0b5cad"
_TAG_STYLES = {
    "h1": TextStyle(color=_ACCENT, font_size_pt=18, t_margin=2, b_margin=2),
    "h2": TextStyle(color=_ACCENT, font_size_pt=13.5, t_margin=6, b_margin=1),
    "h3": TextStyle(color="#1d232a", font_size_pt=11.5, t_margin=4, b_margin=1),
    "li": TextStyle(l_margin=5, t_margin=1),
}


@dataclass(frozen=True)
class PdfFont:
    """A TrueType family; missing styles fall back to the regular face."""

    regular: Path
    bold: Path | None = None
    italic: Path | None = None
    bold_italic: Path | None = None


def _family(folder: str, regular: str, bold: str, italic: str, bold_italic: str) -> PdfFont:
    base = Path(folder)
    return PdfFont(base / regular, base / bold, base / italic, base / bold_italic)


#: Where common Unicode fonts live on Debian/Ubuntu, Fedora, Arch and Alpine.
FONT_CANDIDATES: tuple[PdfFont, ...] = (
    _family(
        "/usr/share/fonts/truetype/dejavu",
        "DejaVuSans.ttf",
        "DejaVuSans-Bold.ttf",
        "DejaVuSans-Oblique.ttf",
        "DejaVuSans-BoldOblique.ttf",
    ),
    _family(
        "/usr/share/fonts/dejavu-sans-fonts",
        "DejaVuSans.ttf",
        "DejaVuSans-Bold.ttf",
        "DejaVuSans-Oblique.ttf",
        "DejaVuSans-BoldOblique.ttf",
    ),
    _family(
        "/usr/share/fonts/TTF",
        "DejaVuSans.ttf",
        "DejaVuSans-Bold.ttf",
        "DejaVuSans-Oblique.ttf",
        "DejaVuSans-BoldOblique.ttf",
    ),
    _family(
        "/usr/share/fonts/dejavu",
        "DejaVuSans.ttf",
        "DejaVuSans-Bold.ttf",
        "DejaVuSans-Oblique.ttf",
        "DejaVuSans-BoldOblique.ttf",
    ),
    _family(
        "/usr/share/fonts/truetype/noto",
        "NotoSans-Regular.ttf",
        "NotoSans-Bold.ttf",
        "NotoSans-Italic.ttf",
        "NotoSans-BoldItalic.ttf",
    ),
    _family(
        "/usr/share/fonts/truetype/liberation",
        "LiberationSans-Regular.ttf",
        "LiberationSans-Bold.ttf",
        "LiberationSans-Italic.ttf",
        "LiberationSans-BoldItalic.ttf",
    ),
)


def find_unicode_font(candidates: Sequence[PdfFont] = FONT_CANDIDATES) -> PdfFont | None:
    """The first candidate whose regular face exists, or None (core font fallback)."""
    return next((font for font in candidates if font.regular.is_file()), None)


FontChoice = PdfFont | Literal["auto", "core"]


class _ReportPdf(FPDF):
    """A4 pages with the report's title and page numbers in the footer."""

    def __init__(self, footer_text: str) -> None:
        super().__init__(format="A4")
        self._footer_text = footer_text

    def footer(self) -> None:
        self.set_y(FOOTER_TOP - PAGE_HEIGHT)
        self.set_font(size=8)
        self.set_text_color(110)
        self.cell(0, 8, f"{self._footer_text} {self.page_no()}/{{nb}}", align="C")
        self.set_text_color(0)


def render_access_report_pdf(
    datamap: DataMap,
    collected: CollectedData,
    *,
    generated_at: datetime,
    font: FontChoice = "auto",
) -> bytes:
    """The access report as PDF bytes."""
    report = build_access_report(datamap, collected, generated_at=generated_at)
    return render_report_pdf(report, generated_at=generated_at, font=font)


def render_report_pdf(
    report: AccessReport, *, generated_at: datetime, font: FontChoice = "auto"
) -> bytes:
    """Lay out a composed report as PDF; ``font`` "auto" finds a Unicode font, "core" never."""
    chosen = find_unicode_font() if font == "auto" else None if font == "core" else font
    # Without a Unicode font every text goes through core_text, or fpdf2 refuses it.
    fit = (lambda text: text) if chosen is not None else core_text
    sections = fit(render_report(report, pdf=True)).split(SECTION_MARK)
    pdf = _lay_out(report, generated_at, chosen, fit, sections)
    try:
        return bytes(pdf.output())
    finally:
        _close_fonts(pdf)


def _close_fonts(pdf: FPDF) -> None:
    """Close the font files fpdf2 opened; it closes only those the output used."""
    for font in pdf.fonts.values():
        close = getattr(font, "close", None)
        if close is not None:
            close()


@dataclass(frozen=True)
class _Layout:
    pdf: _ReportPdf
    #: Where each section starts: (page, y in mm).
    starts: tuple[tuple[int, float], ...]

    @property
    def last_page_fill(self) -> float:
        """How much of the last page's text area is used (1.0 for a one-page report)."""
        if self.pdf.page_no() == 1:
            return 1.0
        return (self.pdf.get_y() - MARGIN_TOP) / _text_height()


def _text_height() -> float:
    return PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM


def _lay_out(
    report: AccessReport,
    generated_at: datetime,
    font: PdfFont | None,
    fit: Callable[[str], str],
    sections: Sequence[str],
) -> _ReportPdf:
    """The report laid out so its last page is not nearly empty, when a page break can help.

    A break before section ``k`` moves everything from ``k`` on to a new page; the
    page before it keeps what it held, so only a section that starts low enough on
    its page is a candidate. Candidates are tried from the last section back.
    """
    first = _render(report, generated_at, font, fit, sections, break_before=None)
    if first.last_page_fill >= MIN_LAST_PAGE_FILL:
        return first.pdf
    end = _absolute(first.pdf.page_no(), first.pdf.get_y())
    for index in range(len(sections) - 1, 0, -1):
        page, y = first.starts[index]
        filled_before = (y - MARGIN_TOP) / _text_height()
        # The tail from section k to the end, laid out anew from the top of a page.
        tail = (end - _absolute(page, y)) % _text_height() / _text_height()
        if filled_before < MIN_LAST_PAGE_FILL or tail < MIN_LAST_PAGE_FILL:
            continue
        candidate = _render(report, generated_at, font, fit, sections, break_before=index)
        if candidate.last_page_fill >= MIN_LAST_PAGE_FILL:
            _close_fonts(first.pdf)
            return candidate.pdf
        _close_fonts(candidate.pdf)
    return first.pdf


def _absolute(page: int, y: float) -> float:
    """A position as millimetres of text area from the start of the document."""
    return (page - 1) * _text_height() + (y - MARGIN_TOP)


def _render(
    report: AccessReport,
    generated_at: datetime,
    font: PdfFont | None,
    fit: Callable[[str], str],
    sections: Sequence[str],
    *,
    break_before: int | None,
) -> _Layout:
    organization = report.sender
    title = f"{_TITLES.get(report.lang, _TITLES['en'])} – {organization}"
    page_word = _PAGE.get(report.lang, _PAGE["en"])
    pdf = _ReportPdf(fit(f"{organization} · {report.request_id} · {page_word}"))
    pdf.set_margins(MARGIN_LEFT, MARGIN_TOP, MARGIN_RIGHT)
    pdf.set_auto_page_break(True, margin=MARGIN_BOTTOM)
    # A fixed creation date makes the same report give the same bytes.
    aware = generated_at if generated_at.tzinfo else generated_at.replace(tzinfo=UTC)
    pdf.set_creation_date(aware)
    pdf.set_lang(report.lang)
    pdf.set_creator("personvern")
    pdf.set_title(fit(title))
    pdf.set_author(fit(organization))
    if font is not None:
        family, bullet = _FAMILY, "•"
        for style, path in (
            ("", font.regular),
            ("B", font.bold),
            ("I", font.italic),
            ("BI", font.bold_italic),
        ):
            pdf.add_font(family, style, str(path if path and path.is_file() else font.regular))
    else:
        family, bullet = _CORE_FAMILY, "-"
        pdf.core_fonts_encoding = _CORE_ENCODING
    pdf.add_page()
    starts: list[tuple[int, float]] = []
    for index, section in enumerate(sections):
        if index == break_before:
            pdf.add_page()
        starts.append((pdf.page_no(), pdf.get_y()))
        pdf.set_font(family, size=10)
        pdf.write_html(
            section,
            font_family=family,
            ul_bullet_char=bullet,
            li_prefix_color=(60, 60, 60),
            tag_styles=_TAG_STYLES,
            table_line_separators=True,
        )
    return _Layout(pdf, tuple(starts))


def core_text(text: str) -> str:
    """``text`` reduced to what the PDF core fonts can show (Windows-1252)."""
    out: list[str] = []
    for char in text:
        if _encodable(char):
            out.append(char)
            continue
        # "č" decomposes into "c" and a caron, "ł" does not: keep a base letter if there is one.
        decomposed = unicodedata.normalize("NFKD", char)
        base = "".join(c for c in decomposed if not unicodedata.combining(c))
        out.append(base if base and all(_encodable(c) for c in base) else "?")
    return "".join(out)


def _encodable(char: str) -> bool:
    try:
        char.encode(_CORE_ENCODING)
    except UnicodeEncodeError:
        return False
    return True
