"""Human names for taxonomy keys, countries, systems, datasets and fields, per language.

The Fides taxonomy names its keys in English only, and in a register's voice ("User
Contact Email"). A notice speaks to a person, in their language, so the documents
use the names below. A data map's own keys carry their own names (``name: {nb, en}``)
and win over these; a key neither knows falls back to the Fides name, then the key.

Systems, datasets and fields are named by the company (``crm``, ``invoice_lines``,
``contact_name``); an answer to a subject uses their ``label`` instead, and falls back
to something a person can still read: a system's ``name``, a dataset's name with its
underscores spelled out, a field's data category.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from personvern.domain.datamap import DataField, DataMap, Dataset, Localized, System
from personvern.domain.findings import Finding
from personvern.domain.taxonomy import Taxonomy, TaxonomyKind

# (nb, en) per Fides data category key.
_CATEGORY_NAMES: Mapping[str, tuple[str, str]] = {
    "system": ("Systemdata", "System data"),
    "system.authentication": ("Autentiseringsdata", "Authentication data"),
    "system.operations": ("Driftsdata", "Operations data"),
    "user": ("Personopplysninger", "Personal data"),
    "user.account": ("Kontoopplysninger", "Account information"),
    "user.account.settings": ("Konto- og avtaleinnstillinger", "Account and contract settings"),
    "user.account.username": ("Brukernavn", "Username"),
    "user.authorization": ("Tilgangsopplysninger", "Authorisation information"),
    "user.authorization.credentials": ("Påloggingsopplysninger", "Login credentials"),
    "user.authorization.biometric": ("Biometrisk pålogging", "Biometric credentials"),
    "user.authorization.password": ("Passord", "Password"),
    "user.behavior": ("Opplysninger om aktivitet", "Activity information"),
    "user.behavior.browsing_history": (
        "Nettleserhistorikk og klikkstrøm (besøkte sider med dato og klokkeslett)",
        "Browsing history and clickstream (pages visited, with date and time)",
    ),
    "user.behavior.media_consumption": ("Mediebruk", "Media consumption"),
    "user.behavior.purchase_history": ("Kjøpshistorikk", "Purchase history"),
    "user.behavior.search_history": ("Søkehistorikk", "Search history"),
    "user.biometric": ("Biometriske opplysninger", "Biometric data"),
    "user.biometric.fingerprint": ("Fingeravtrykk", "Fingerprint"),
    "user.biometric.retinal": ("Netthinneskanning", "Retina scan"),
    "user.biometric.voice": ("Stemmeopptak (biometrisk)", "Voice recording (biometric)"),
    "user.biometric.health": ("Biometriske helseopplysninger", "Biometric health data"),
    "user.childrens": ("Opplysninger om barn", "Children's data"),
    "user.contact": ("Kontaktinformasjon", "Contact details"),
    "user.contact.address": ("Postadresse", "Postal address"),
    "user.contact.address.city": ("Poststed", "City"),
    "user.contact.address.country": ("Land", "Country"),
    "user.contact.address.postal_code": ("Postnummer", "Postal code"),
    "user.contact.address.state": ("Fylke eller delstat", "State or region"),
    "user.contact.address.street": ("Gateadresse", "Street address"),
    "user.contact.email": ("E-postadresse", "E-mail address"),
    "user.contact.phone_number": ("Telefonnummer", "Phone number"),
    "user.contact.url": ("Nettsted", "Website"),
    "user.contact.fax_number": ("Faksnummer", "Fax number"),
    "user.contact.organization": ("Virksomhet du representerer", "Organisation you represent"),
    "user.content": ("Innhold du sender oss", "Content you send us"),
    "user.content.private": (
        "Innholdet i meldinger og henvendelser",
        "Content of messages and enquiries",
    ),
    "user.content.public": ("Offentlig innhold", "Public content"),
    "user.content.self_image": ("Bilde av deg", "Your picture"),
    "user.demographic": ("Demografiske opplysninger", "Demographic data"),
    "user.demographic.age_range": ("Aldersgruppe", "Age range"),
    "user.demographic.date_of_birth": ("Fødselsdato", "Date of birth"),
    "user.demographic.gender": ("Kjønn", "Gender"),
    "user.demographic.language": ("Foretrukket språk", "Preferred language"),
    "user.demographic.marital_status": ("Sivilstand", "Marital status"),
    "user.demographic.political_opinion": ("Politisk oppfatning", "Political opinion"),
    "user.demographic.profile": ("Profilopplysninger", "Profile data"),
    "user.demographic.race_ethnicity": ("Etnisk opprinnelse", "Racial or ethnic origin"),
    "user.demographic.religious_belief": ("Religiøs oppfatning", "Religious belief"),
    "user.demographic.sexual_orientation": ("Seksuell legning", "Sexual orientation"),
    "user.device": (
        "Opplysninger om enheten og nettleseren (f.eks. nettlesertype)",
        "Device and browser information (such as browser type)",
    ),
    "user.device.cookie": ("Informasjonskapsler", "Cookies"),
    "user.device.cookie_id": (
        "Informasjon fra informasjonskapsler (ID i informasjonskapsel)",
        "Information from cookies (cookie ID)",
    ),
    "user.device.device_id": ("Enhets-ID", "Device ID"),
    "user.device.ip_address": ("IP-adresse", "IP address"),
    "user.financial": (
        "Økonomiske opplysninger (fakturaer og betalinger)",
        "Financial data (invoices and payments)",
    ),
    "user.financial.bank_account": ("Bankkontonummer", "Bank account details"),
    "user.financial.credit_card": ("Betalingskortopplysninger", "Payment card details"),
    "user.government_id": (
        "Legitimasjon (identitetsdokumenter)",
        "Identity documents",
    ),
    "user.government_id.birth_certificate": ("Fødselsattest", "Birth certificate"),
    "user.government_id.drivers_license_number": ("Førerkortnummer", "Driving licence number"),
    "user.government_id.immigration": ("Oppholdstillatelse", "Immigration document"),
    "user.government_id.national_identification_number": (
        "Fødselsnummer eller D-nummer",
        "National identity number",
    ),
    "user.government_id.passport_number": ("Passnummer", "Passport number"),
    "user.government_id.vehicle_registration": ("Kjennemerke", "Vehicle registration"),
    "user.health_and_medical": ("Helseopplysninger", "Health data"),
    "user.health_and_medical.genetic": ("Genetiske opplysninger", "Genetic data"),
    "user.health_and_medical.insurance_beneficiary_id": (
        "Forsikringsnummer (helse)",
        "Medical insurance ID",
    ),
    "user.health_and_medical.record_id": ("Journalnummer", "Medical record ID"),
    "user.job_title": ("Stillingstittel", "Job title"),
    "user.location": ("Posisjon", "Location"),
    "user.location.imprecise": ("Omtrentlig posisjon (f.eks. senter)", "Approximate location"),
    "user.location.precise": ("Nøyaktig posisjon", "Precise location"),
    "user.name": ("Navn", "Name"),
    "user.name.first": ("Fornavn", "First name"),
    "user.name.last": ("Etternavn", "Last name"),
    "user.payment": ("Betalingsopplysninger", "Payment data"),
    "user.privacy_preferences": (
        "Personvernvalg og samtykker",
        "Privacy choices and consents",
    ),
    "user.sensor": ("Sensordata", "Sensor data"),
    "user.social": ("Sosiale medier", "Social media data"),
    "user.telemetry": ("Telemetri", "Telemetry"),
    "user.unique_id": ("Kundenummer eller annen ID", "Customer number or other ID"),
    "user.unique_id.pseudonymous": ("Pseudonym ID", "Pseudonymous ID"),
    "user.user_sensor": ("Sensordata fra enheten", "Device sensor data"),
    "user.workplace": ("Arbeidssted", "Workplace"),
}

_SUBJECT_NAMES: Mapping[str, tuple[str, str]] = {
    "anonymous_user": ("Anonym bruker", "Anonymous user"),
    "citizen_voter": ("Innbygger", "Citizen"),
    "commuter": ("Pendler", "Commuter"),
    "consultant": ("Konsulent", "Consultant"),
    "customer": ("Kunde", "Customer"),
    "employee": ("Ansatt", "Employee"),
    "job_applicant": ("Jobbsøker", "Job applicant"),
    "next_of_kin": ("Pårørende", "Next of kin"),
    "passenger": ("Passasjer", "Passenger"),
    "patient": ("Pasient", "Patient"),
    "prospect": ("Potensiell kunde", "Prospect"),
    "shareholder": ("Aksjonær", "Shareholder"),
    "supplier_vendor": ("Leverandør", "Supplier"),
    "trainee": ("Lærling", "Trainee"),
    "visitor": ("Besøkende", "Visitor"),
}

# The EEA, the adequacy list and the countries group service centres commonly sit in.
_COUNTRY_NAMES: Mapping[str, tuple[str, str]] = {
    "AD": ("Andorra", "Andorra"),
    "AE": ("De forente arabiske emirater", "United Arab Emirates"),
    "AR": ("Argentina", "Argentina"),
    "AT": ("Østerrike", "Austria"),
    "AU": ("Australia", "Australia"),
    "BE": ("Belgia", "Belgium"),
    "BG": ("Bulgaria", "Bulgaria"),
    "BR": ("Brasil", "Brazil"),
    "CA": ("Canada", "Canada"),
    "CH": ("Sveits", "Switzerland"),
    "CN": ("Kina", "China"),
    "CY": ("Kypros", "Cyprus"),
    "CZ": ("Tsjekkia", "Czechia"),
    "DE": ("Tyskland", "Germany"),
    "DK": ("Danmark", "Denmark"),
    "EE": ("Estland", "Estonia"),
    "EPO": ("Den europeiske patentorganisasjonen", "European Patent Organisation"),
    "ES": ("Spania", "Spain"),
    "FI": ("Finland", "Finland"),
    "FO": ("Færøyene", "Faroe Islands"),
    "FR": ("Frankrike", "France"),
    "GB": ("Storbritannia", "United Kingdom"),
    "GG": ("Guernsey", "Guernsey"),
    "GR": ("Hellas", "Greece"),
    "HK": ("Hongkong", "Hong Kong"),
    "HR": ("Kroatia", "Croatia"),
    "HU": ("Ungarn", "Hungary"),
    "IE": ("Irland", "Ireland"),
    "IL": ("Israel", "Israel"),
    "IM": ("Isle of Man", "Isle of Man"),
    "IN": ("India", "India"),
    "IS": ("Island", "Iceland"),
    "IT": ("Italia", "Italy"),
    "JE": ("Jersey", "Jersey"),
    "JP": ("Japan", "Japan"),
    "KR": ("Sør-Korea", "Republic of Korea"),
    "LI": ("Liechtenstein", "Liechtenstein"),
    "LT": ("Litauen", "Lithuania"),
    "LU": ("Luxembourg", "Luxembourg"),
    "LV": ("Latvia", "Latvia"),
    "MT": ("Malta", "Malta"),
    "MX": ("Mexico", "Mexico"),
    "MY": ("Malaysia", "Malaysia"),
    "NL": ("Nederland", "Netherlands"),
    "NO": ("Norge", "Norway"),
    "NZ": ("New Zealand", "New Zealand"),
    "PH": ("Filippinene", "Philippines"),
    "PL": ("Polen", "Poland"),
    "PT": ("Portugal", "Portugal"),
    "RO": ("Romania", "Romania"),
    "SE": ("Sverige", "Sweden"),
    "SG": ("Singapore", "Singapore"),
    "SI": ("Slovenia", "Slovenia"),
    "SK": ("Slovakia", "Slovakia"),
    "TR": ("Tyrkia", "Türkiye"),
    "UA": ("Ukraina", "Ukraine"),
    "US": ("USA", "United States"),
    "UY": ("Uruguay", "Uruguay"),
    "ZA": ("Sør-Afrika", "South Africa"),
}


def _pick(names: tuple[str, str], lang: str) -> str | None:
    return {"nb": names[0], "en": names[1]}.get(lang)


def localized(text: Localized | None, lang: str) -> str:
    """The text in ``lang``, else in English, else in any language the map gave it in."""
    if not text:
        return ""
    return text.get(lang) or text.get("en") or next(iter(text.values()))


def country_name(code: str, lang: str) -> str:
    """A country's name in ``lang`` (nb or en), or its code when the name is not known."""
    names = _COUNTRY_NAMES.get(code.upper())
    return (_pick(names, lang) if names else None) or code


def category_name(datamap: DataMap, taxonomy: Taxonomy, key: str, lang: str) -> str:
    """A data category's human name: the map's own name, ours, Fides' (English), or the key."""
    custom = next((c for c in datamap.taxonomy.data_categories if c.key == key), None)
    if custom is not None:
        return localized(custom.name, lang)
    names = _CATEGORY_NAMES.get(key)
    picked = _pick(names, lang) if names else None
    return picked or taxonomy.name(TaxonomyKind.DATA_CATEGORY, key)


def subject_name(datamap: DataMap, taxonomy: Taxonomy, key: str, lang: str) -> str:
    """A data subject's human name: declared subject, custom key, ours, Fides', or the key."""
    declared = datamap.subject(key)
    if declared is not None and declared.name:
        return localized(declared.name, lang)
    custom = next((c for c in datamap.taxonomy.data_subjects if c.key == key), None)
    if custom is not None:
        return localized(custom.name, lang)
    names = _SUBJECT_NAMES.get(key)
    picked = _pick(names, lang) if names else None
    return picked or taxonomy.name(TaxonomyKind.DATA_SUBJECT, key)


def humanise(name: str) -> str:
    """An identifier as words: ``invoice_lines`` -> ``Invoice lines``."""
    words = name.replace("_", " ").replace("-", " ").split()
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def system_label(system: System, lang: str) -> str:
    """A system's name for a subject: its label in ``lang``, else its ``name``."""
    return localized(system.label, lang) or system.name


def dataset_label(dataset: Dataset, lang: str) -> str:
    """A dataset's name for a subject: its label in ``lang``, else its name in words."""
    return localized(dataset.label, lang) or humanise(dataset.name)


def field_label(datamap: DataMap, taxonomy: Taxonomy, field: DataField, lang: str) -> str:
    """A field's name for a subject: its label, its data category's name, or its name in words."""
    if field.label:
        return localized(field.label, lang)
    if field.category is not None:
        return category_name(datamap, taxonomy, field.category, lang)
    return humanise(field.name)


def label_findings(datamap: DataMap) -> Iterator[Finding]:
    """Labels without text, and value labels lacking a language the organization declares."""
    languages = datamap.organization.languages
    for si, system in enumerate(datamap.systems):
        sp = ("systems", si)
        if system.label is not None and not any(system.label.values()):
            yield _empty_label((*sp, "label"), f"system '{system.key}'")
        for di, dataset in enumerate(system.datasets):
            dp = (*sp, "datasets", di)
            if dataset.label is not None and not any(dataset.label.values()):
                yield _empty_label((*dp, "label"), f"dataset {system.key}.{dataset.name}")
            for fi, field in enumerate(dataset.fields):
                fp = (*dp, "fields", fi)
                where = f"field {system.key}.{dataset.name}.{field.name}"
                if field.label is not None and not any(field.label.values()):
                    yield _empty_label((*fp, "label"), where)
                for value, words in field.value_labels.items():
                    missing = [lang for lang in languages if not words.get(lang)]
                    if missing:
                        yield Finding(
                            (*fp, "value_labels", value),
                            f"the words for value '{value}' of {where} lack the language(s) "
                            f"{', '.join(missing)}",
                            hint="add " + ", ".join(f"{lang}: ..." for lang in missing),
                        )


def _empty_label(path: tuple[str | int, ...], what: str) -> Finding:
    return Finding(
        path,
        f"the label of {what} has no text",
        hint="write it per language, e.g. label: {nb: Fakturaer, en: Invoices}, or remove it",
    )
