"""The access report as PDF, laid out by fpdf2 from the same templates as the HTML.

Why fpdf2: it is pure Python (its dependencies, Pillow, fontTools and defusedxml, come
as wheels), so the PDF renders on any machine ``pip install`` works on. WeasyPrint
would lay out the HTML with its stylesheet, but needs Pango from the operating system,
which a server or CI machine may lack. fpdf2's HTML support is small, so the PDF uses
the report's body template in its ``pdf`` mode (records as lists rather than wide
tables, no stylesheet, no internal links).

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
from collections.abc import Sequence
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
_TITLES = {"nb": "Innsyn i personopplysninger", "en": "Access to your personal data"}
_PAGE = {"nb": "Side", "en": "Page"}
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
        self.set_y(-12)
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
    organization = report.info.organization
    title = f"{_TITLES.get(report.lang, _TITLES['en'])} – {organization}"
    page_word = _PAGE.get(report.lang, _PAGE["en"])
    pdf = _ReportPdf(fit(f"{organization} · {report.request_id} · {page_word}"))
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(True, margin=18)
    # A fixed creation date makes the same report give the same bytes.
    aware = generated_at if generated_at.tzinfo else generated_at.replace(tzinfo=UTC)
    pdf.set_creation_date(aware)
    pdf.set_lang(report.lang)
    pdf.set_creator("personvern")
    pdf.set_title(fit(title))
    pdf.set_author(fit(organization))
    if chosen is not None:
        family, bullet = _FAMILY, "•"
        for style, path in (
            ("", chosen.regular),
            ("B", chosen.bold),
            ("I", chosen.italic),
            ("BI", chosen.bold_italic),
        ):
            pdf.add_font(family, style, str(path if path and path.is_file() else chosen.regular))
    else:
        family, bullet = _CORE_FAMILY, "-"
        pdf.core_fonts_encoding = _CORE_ENCODING
    html = fit(render_report(report, pdf=True))
    pdf.add_page()
    pdf.set_font(family, size=10)
    pdf.write_html(
        html,
        font_family=family,
        ul_bullet_char=bullet,
        li_prefix_color=(60, 60, 60),
        tag_styles=_TAG_STYLES,
    )
    return bytes(pdf.output())


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
