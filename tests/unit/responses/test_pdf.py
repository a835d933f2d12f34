"""The PDF report holds the same text, Norwegian letters included, with or without a font."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from personvern.domain.datamap import DataMap
from personvern.domain.requests.collected import CollectedData
from personvern.responses.pdf import core_text, find_unicode_font, render_access_report_pdf
from tests.unit.responses.sample import GENERATED

_EXPECTED = [
    "Innsyn i personopplysninger",
    "Åse Ødegård",
    "Blåbær & Co AS",
    "bokføringsloven § 13",
    "Datatilsynet",
    "call-001.wav",
    "<script>alert('x')</script>",
]


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    # Layout may break a line anywhere; compare with whitespace collapsed.
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_the_pdf_renders_with_the_core_font_on_any_machine(
    datamap: DataMap, data: CollectedData
) -> None:
    pdf = render_access_report_pdf(datamap, data, generated_at=GENERATED, font="core")
    assert b"%PDF-" == pdf[:5]
    text = _text(pdf)
    assert [] == [expected for expected in _EXPECTED if expected not in text]


def test_the_pdf_uses_a_unicode_font_when_the_machine_has_one(
    datamap: DataMap, data: CollectedData
) -> None:
    if find_unicode_font() is None:
        pytest.skip("no Unicode TrueType font installed (apt-get install fonts-dejavu-core)")
    pdf = render_access_report_pdf(datamap, data, generated_at=GENERATED)
    assert b"%PDF-" == pdf[:5]
    text = _text(pdf)
    assert [] == [expected for expected in _EXPECTED if expected not in text]
    assert b"/FontFile2" in pdf  # an embedded TrueType font, not the core Helvetica


def test_the_same_report_gives_the_same_pdf(datamap: DataMap, data: CollectedData) -> None:
    first = render_access_report_pdf(datamap, data, generated_at=GENERATED, font="core")
    assert first == render_access_report_pdf(datamap, data, generated_at=GENERATED, font="core")


def test_core_text_keeps_norwegian_letters_and_replaces_what_the_core_font_lacks() -> None:
    assert "æøå ÆØÅ § « » – é" == core_text("æøå ÆØÅ § « » – é")
    assert "cš ? ?" == core_text("čš ł 中")
