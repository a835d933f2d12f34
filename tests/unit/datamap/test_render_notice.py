"""The rendered privacy notice: the seed policy's substance, generated from the data map."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from personvern.datamap.loader import load_datamap
from personvern.datamap.notice import notice_languages, render_notice
from personvern.datamap.rendering import UnknownFormatError
from personvern.domain.datamap import DataMap
from personvern.domain.errors import UnknownLanguageError
from tests.unit.datamap.wellformed import html_problems, html_text

RECORDING_SENTENCE = {
    "nb": "Når vi snakker med deg på telefon, blir samtalen tatt opp for opplærings- og "
    "kvalitetsformål.",
    "en": "When we talk to you on the phone, the call is recorded for training and quality "
    "purposes.",
}
SCC_STATEMENT = {
    "nb": "skjer den på grunnlag av standardkontraktsklausuler som er fastsatt av "
    "Europakommisjonen",
    "en": "it is made on the basis of the standard contractual clauses adopted by the "
    "European Commission",
}

# Each promise of the seed policy (nb), as the generated notice must say it in substance.
SEED_SUBSTANCE_NB = [
    # 1: what we collect, given by you and via technology
    "E-postadresse",
    "Telefonnummer",
    "Postadresse",
    "Legitimasjon (identitetsdokumenter)",
    "Identitetskontroll",
    RECORDING_SENTENCE["nb"],
    "Informasjon vi samler inn via teknologi",
    "nettlesertype",
    "IP-adresse",
    "klikkstrøm (besøkte sider med dato og klokkeslett)",
    "informasjonskapsler vi plasserer på datamaskinen eller mobilenheten din",
    "https://www.nordicworkspace.example/cookies",
    # 2: purposes
    "Tjenesteadministrasjon",
    "Utstedelse av sikkerhetskort",
    "innkreving",
    "dine utpekte ansatte",
    "Nyhetsbrev og kampanjer",
    "Forbedring av tjenester, nettsider og apper",
    "Teknisk støtte",
    "Etterlevelse av lovverk",
    # 3: sharing and transfers
    "andre enheter i konsernet vårt",
    "tredjeparter, blant annet leverandører som leverer tjenester til oss",
    "ut av EØS, gjør vi det bare i samsvar med personvernlovgivningen",
    SCC_STATEMENT["nb"],
    # 4: security
    "sentralisert identitetsstyringssystem",
    "ISO/IEC 27001",
    "kryptert",
    "antivirus, innholds- og spamfiltrering",
    "Microsoft 365",
    "penetrasjonstesting",
    # 5: risk
    "kan risikoen aldri bli helt eliminert",
    # 6: retention
    "kun oppbevarer personopplysninger så lenge det er nødvendig",
    # 7: rights
    "Retten til innsyn",
    "Retten til retting",
    "Retten til sletting",
    "Retten til dataportabilitet",
    "Retten til å gjøre innsigelse",
    "Retten til å kreve at behandlingen begrenses",
    "Retten til å trekke tilbake samtykket",
    "les veiledningen på",
    "kontakt din vanlige kontaktperson",
]

# What Art. 13 requires and the seed lacked.
ART13_EXTRAS_NB = [
    "Nordic Workspace AS, org.nr. 923456783",
    "Nordic Workspace AB, org.nr. 556677-8899",
    "Nordic Workspace Ltd, org.nr. 12345678",
    "personvern@nordicworkspace.example",
    "dpo@nordicworkspace.example",
    "Behandlingsgrunnlag: oppfyllelse av en avtale (art. 6 nr. 1 bokstav b)",
    "Behandlingsgrunnlag: ditt samtykke (art. 6 nr. 1 bokstav a)",
    "Du kan når som helst trekke samtykket tilbake",
    "Vår berettigede interesse:",
    "Oppbevaringstid: 5 år etter regnskapsårets slutt",
    "Lovpålagt oppbevaring: bokføringsloven § 13",
    "Oppbevaringstid: 90 dager etter innsamling",
    "Du har rett til å klage til Datatilsynet (https://www.datatilsynet.no",
    "Nordic Workspace Shared Services Pvt Ltd (India): EUs standardkontraktsklausuler 2021, "
    "modul 2",
]


def _one_line(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def example(example_datamap_path: Path) -> DataMap:
    return load_datamap(example_datamap_path).datamap


@pytest.mark.parametrize("phrase", SEED_SUBSTANCE_NB + ART13_EXTRAS_NB)
def test_the_nb_notice_says_what_the_seed_policy_and_art_13_require(
    example: DataMap, phrase: str
) -> None:
    assert phrase in _one_line(render_notice(example, "nb", "txt"))


@pytest.mark.parametrize(
    "phrase",
    [
        RECORDING_SENTENCE["en"],
        SCC_STATEMENT["en"],
        "Legal basis: performance of a contract (Art. 6(1)(b))",
        "Retention period: 5 years after the end of the financial year",
        "Retention period: 90 days after collection",
        "IP address",
        "Device and browser information (such as browser type)",
        "The right to data portability",
        "You have the right to lodge a complaint with Datatilsynet",
    ],
)
def test_the_en_notice_says_it_in_english(example: DataMap, phrase: str) -> None:
    assert phrase in _one_line(render_notice(example, "en", "txt"))


def _without_telephony(root: Path) -> None:
    (root / "systems" / "telephony.yaml").unlink()
    retention = root / "retention.yaml"
    data = yaml.safe_load(retention.read_text(encoding="utf-8"))
    # The rule for the recordings names the removed system's dataset; `check` requires
    # it to go too, just as a real removal would.
    data["retention"] = [r for r in data["retention"] if r["key"] != "call-recordings"]
    retention.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize("lang", ["nb", "en"])
@pytest.mark.parametrize("fmt", ["txt", "md", "html"])
def test_removing_telephony_removes_the_recorded_calls_sentence(
    example_datamap_copy: Path, lang: str, fmt: str
) -> None:
    before = render_notice(load_datamap(example_datamap_copy).datamap, lang, fmt)
    _without_telephony(example_datamap_copy)
    after = render_notice(load_datamap(example_datamap_copy).datamap, lang, fmt)
    sentence = RECORDING_SENTENCE[lang]
    assert (True, False) == (sentence in _one_line(before), sentence in _one_line(after))


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_removing_the_recipient_outside_the_eea_removes_the_scc_statement(
    example_datamap_copy: Path, lang: str
) -> None:
    before = render_notice(load_datamap(example_datamap_copy).datamap, lang, "txt")
    path = example_datamap_copy / "recipients.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["recipients"] = [r for r in data["recipients"] if r["key"] != "nws-in"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    after = render_notice(load_datamap(example_datamap_copy).datamap, lang, "txt")
    statement = SCC_STATEMENT[lang]
    assert (True, False) == (statement in _one_line(before), statement in _one_line(after))
    assert "Nordic Workspace Shared Services" not in after


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_html_notice_is_well_formed_and_says_what_the_text_says(
    example: DataMap, lang: str
) -> None:
    document = render_notice(example, lang, "html")
    assert [] == html_problems(document)
    assert f'<html lang="{lang}">' in document
    assert RECORDING_SENTENCE[lang] in html_text(document)


def test_html_escapes_map_text_and_markdown_keeps_it(example: DataMap) -> None:
    organization = example.organization.model_copy(update={"name": "A & B <script>"})
    tricky = example.model_copy(update={"organization": organization})
    html = render_notice(tricky, "en", "html")
    assert ("A &amp; B &lt;script&gt;" in html, "<script>" in html) == (True, False)
    assert "A & B <script>" in render_notice(tricky, "en", "md")


@pytest.mark.parametrize(
    ("fmt", "first_line"),
    [
        ("txt", "PERSONVERNERKLÆRING FOR KUNDER"),
        ("md", "# Personvernerklæring for kunder"),
        ("html", "<!DOCTYPE html>"),
    ],
)
def test_each_format_starts_as_its_kind(example: DataMap, fmt: str, first_line: str) -> None:
    assert first_line == render_notice(example, "nb", fmt).splitlines()[0]


def test_txt_lines_fit_the_width_except_unbreakable_urls(example: DataMap) -> None:
    long_lines = [
        line
        for line in render_notice(example, "nb", "txt").splitlines()
        if len(line) > 78 and "://" not in line
    ]
    assert [] == long_lines


def test_rendering_is_deterministic(example: DataMap) -> None:
    assert render_notice(example, "nb", "html") == render_notice(example, "nb", "html")


def test_an_unknown_language_names_the_available_ones(example: DataMap) -> None:
    with pytest.raises(UnknownLanguageError) as raised:
        render_notice(example, "de", "txt")
    assert "the privacy notice is not available in 'de' (available: nb, en)" == str(raised.value)


def test_a_declared_language_without_templates_is_refused(example: DataMap) -> None:
    organization = example.organization.model_copy(update={"languages": ["nb", "en", "sv"]})
    with_sv = example.model_copy(update={"organization": organization})
    assert ["nb", "en"] == notice_languages(with_sv)
    with pytest.raises(UnknownLanguageError, match=r"'sv' \(available: nb, en\)"):
        render_notice(with_sv, "sv", "html")


def test_an_unknown_format_is_refused(example: DataMap) -> None:
    with pytest.raises(UnknownFormatError) as raised:
        render_notice(example, "nb", "pdf")
    assert "the privacy notice is not available as 'pdf' (available: html, md, txt)" == str(
        raised.value
    )
