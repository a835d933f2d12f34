"""One canonical form of an e-mail address: the only form personvern compares.

Intake, every connector and every free-text match compare addresses through this
module, so the address a code proved is the address searched for, and two spellings
count as one person only where these rules say so:

* The whole address is normalised to Unicode NFC (RFC 6532 recommends it), so ``e``
  followed by a combining acute accent and ``é`` are one address.
* Never NFKC and never Unicode case folding: they make ``ſ`` (long s) an ``s``, a
  fullwidth ``ｋ`` a ``k`` and the Kelvin sign a ``k``, and a code proving one mailbox
  would then find another person's records. Such spellings stay different addresses.
* A local part (before the @) written in ASCII is lower-cased, A to Z only: providers
  treat ``Kari`` and ``kari`` as one mailbox, and records are typed by hand.
* A local part with any character outside ASCII is kept exactly as normalised, case
  included: ``Ørjan`` and ``ørjan`` are different addresses. Providers disagree on
  whether they are one mailbox, and a wrong guess hands one person's data to another.
* The domain is lower-cased (DNS ignores case) and kept in Unicode, as a U-label
  (``bø.no``); an ASCII label (``xn--b-5ga``) is decoded to it, so both spellings are
  one domain. A label outside ASCII must be valid IDNA 2008, which refuses upper case,
  fullwidth letters and symbols, so no lookalike is mapped onto a real domain. The
  U-label is chosen over the A-label because it is what people type and stores keep,
  and what intake stored before this rule: requests filed earlier keep their address.
* The Kelvin sign, the Greek question mark and the Greek varia are refused: NFC turns
  them into the ASCII ``K``, ``;`` and a backtick, so an address holding one would
  silently become a different, ordinary address.
* RFC 5321 limits, in UTF-8 octets (``ø`` is two): 64 before the @, 255 for the
  domain and 63 per label (each counted in the longer of its Unicode and ASCII
  spellings, since a mail server may see either), 254 for the whole address.

Like every identity module (personvern.domain.identities.kinds), it offers ``parse``,
``canonical_or_none``, ``stored_spellings``, ``text_needles`` and ``home_country``;
addresses need no country. Free text is also searched for an address URL-encoded, as
a web log keeps it (``?email=kari%40example.no&``).
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from urllib.parse import quote

import idna

from personvern.domain.identities.errors import InvalidIdentityError

MAX_LOCAL_OCTETS = 64
MAX_DOMAIN_OCTETS = 255
MAX_LABEL_OCTETS = 63
MAX_ADDRESS_OCTETS = 254

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
#: ASCII that never occurs in an address: controls, space and DEL.
_ASCII_UNUSABLE = re.compile(r"[\x00-\x20\x7f]")
#: The only characters outside ASCII whose NFC form is ASCII (checked over all of Unicode).
_BECOME_ASCII = {
    "\u212a": "the Kelvin sign (U+212A), which looks like K",
    "\u037e": "the Greek question mark (U+037E), which looks like ;",
    "\u1fef": "the Greek varia (U+1FEF), which looks like `",
}
_HINT = "write it as name@example.com"


def ascii_lower(text: str) -> str:
    """``text`` with A-Z lower-cased and every other character left exactly as it is."""
    return text.translate(_ASCII_LOWER)


def canonical_email(value: str) -> str:
    """The canonical form of an e-mail address, or InvalidIdentityError saying what is wrong."""
    if not isinstance(value, str) or not value:
        raise InvalidIdentityError("the e-mail address is empty", hint=_HINT)
    if value.isascii():
        if _ASCII_UNUSABLE.search(value):
            raise _unusable()
        text = value
    else:
        _refuse_unusable(value)
        text = unicodedata.normalize("NFC", value)
    if text.count("@") != 1:
        raise _not_an_address(_HINT)
    local, _, domain = text.partition("@")
    if not local:
        raise _not_an_address(_HINT)
    _refuse_unusual_local(local)
    if len(local.encode()) > MAX_LOCAL_OCTETS:
        raise InvalidIdentityError(
            f"the part before @ is longer than {MAX_LOCAL_OCTETS} characters",
            hint="letters outside A-Z, such as æ, ø and å, count as two or more",
        )
    if local.isascii():
        local = ascii_lower(local)
    u_domain, a_domain = _domain(domain)
    domain_octets = max(len(u_domain.encode()), len(a_domain))
    if domain_octets > MAX_DOMAIN_OCTETS:
        raise InvalidIdentityError(
            f"the part after @ is longer than {MAX_DOMAIN_OCTETS} characters",
            hint="letters outside A-Z count as two or more",
        )
    if len(local.encode()) + 1 + domain_octets > MAX_ADDRESS_OCTETS:
        raise InvalidIdentityError(
            f"the e-mail address is longer than {MAX_ADDRESS_OCTETS} characters",
            hint="letters outside A-Z count as two or more",
        )
    return f"{local}@{u_domain}"


#: An address in the plainest form (ASCII dot-atom, ASCII domain, no IDNA label): by far
#: the most common, and one whose canonical form is only lower-casing.
_PLAIN_ADDRESS = re.compile(
    r"[A-Za-z0-9_+\-]+(?:\.[A-Za-z0-9_+\-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
)


def plain_canonical_email(value: str) -> str | None:
    """The canonical form of a plain ASCII address, quickly; None for any other value.

    For bulk work (a million addresses): an address of ASCII letters, digits and
    ``_+-.`` before the @ and a domain of ASCII labels none of which is an IDNA
    ``xn--`` label is canonical once lower-cased, exactly as canonical_email would
    make it (a property test holds them equal). None means: ask canonical_email.
    """
    # On ASCII text str.lower() changes A-Z alone, as ascii_lower does, and is faster.
    if len(value) > MAX_ADDRESS_OCTETS or not value.isascii():
        return None
    lowered = value.lower()
    if not _PLAIN_ADDRESS.fullmatch(lowered):
        return None
    local, _, domain = lowered.partition("@")
    if len(local) > MAX_LOCAL_OCTETS or "xn--" in domain:
        return None
    return lowered


def canonical_email_or_none(value: object) -> str | None:
    """The canonical form of a value read from a store, or None if it is no usable address."""
    if not isinstance(value, str):
        return None
    # Stores pad CHAR columns and people paste addresses with spaces around them.
    try:
        return canonical_email(value.strip())
    except InvalidIdentityError:
        return None


def address_spellings(canonical: str) -> tuple[str, ...]:
    """Ways a canonical address may be written that are the same address.

    The address itself, with its domain as an A-label if it has letters outside ASCII,
    and each of those decomposed (NFD), as some systems store accented letters.
    """
    local, _, domain = canonical.rpartition("@")
    forms = [canonical]
    # A domain IDNA refuses is no canonical address's: then there is nothing else to offer.
    with contextlib.suppress(idna.IDNAError):
        if not domain.isascii():
            forms.append(f"{local}@{idna.encode(domain).decode('ascii')}")
    forms += [unicodedata.normalize("NFD", form) for form in forms]
    return tuple(dict.fromkeys(forms))


def parse(value: str, country: str = "") -> str:
    """The canonical form of an address typed at intake, or InvalidIdentityError."""
    return canonical_email(value)


def canonical_or_none(stored: object, country: str = "") -> str | None:
    """The canonical form of an address read from a store, or None if it is no address."""
    return canonical_email_or_none(stored)


def stored_spellings(canonical: str, country: str = "") -> frozenset[str]:
    """Spellings a store may keep a canonical address in, each the same address.

    The spellings of address_spellings. A store comparing without case is asked for
    these as its ``lower()`` gives them by the connector (personvern.connectors.sql):
    ``lower()`` of ``Ørjan@bø.no`` is another person's address, so it is never one of
    the subject's spellings, only a way to find candidates the canonical form confirms.
    """
    return frozenset(address_spellings(canonical))


def text_needles(canonical: str, country: str = "") -> frozenset[str]:
    """Spellings of an address in free text: as written, and URL-encoded in a logged URL.

    The URL-encoded forms (``kari%40example.no``, a ``+`` also as ``%2B``) are searched
    only for a local part in ASCII: percent-encoding hides a letter's case from a
    search that ignores the case of A to Z, and a local part outside ASCII keeps its
    case (see the module's rules).
    """
    needles = {canonical}
    local, _, _domain = canonical.rpartition("@")
    if local and local.isascii():
        for spelling in address_spellings(canonical):
            if not unicodedata.is_normalized("NFC", spelling):
                continue
            _local, _, domain = spelling.rpartition("@")
            encoded_domain = quote(domain, safe="")
            needles.add(f"{quote(local, safe='')}%40{encoded_domain}")
            if "+" in local:
                # Some loggers leave "+" as it is, where a form would have encoded it.
                needles.add(f"{quote(local, safe='+')}%40{encoded_domain}")
    return frozenset(needles)


def home_country(canonical: str) -> str:
    """No country: an address is read the same everywhere."""
    return ""


def _refuse_unusable(value: str) -> None:
    for char in value:
        if char in _BECOME_ASCII:
            raise InvalidIdentityError(
                f"the e-mail address contains {_BECOME_ASCII[char]} but is a different character",
                hint="type the address again with ordinary letters",
            )
        category = unicodedata.category(char)
        # C*: controls, format and invisible characters, surrogates, private use and
        # unassigned code points; Z*: spaces and line separators. No address has them.
        if category[0] in "CZ":
            raise _unusable()


#: The characters of a dot-atom in ASCII (RFC 5322 atext): letters, digits and these.
_ATEXT = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-"
)
#: An ASCII label of a domain name: letters, digits and inner hyphens (RFC 5321 sub-domain).
_ASCII_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")


def _refuse_unusual_local(local: str) -> None:
    """Refuse a part before @ that is no dot-atom of ASCII atext and letters beyond ASCII.

    Quoted local parts, a dot at either end or two in a row, and punctuation or
    symbols outside ASCII (a fullwidth @, a lookalike quote) are no address anyone
    is given; accepting them would let one person's address hide inside another's.
    """
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise _not_an_address("a dot cannot begin or end the part before @, or follow a dot")
    for char in local:
        if char == "." or char in _ATEXT:
            continue
        if char.isascii() or unicodedata.category(char)[0] not in "LMN":
            raise _not_an_address(f"the character {char!r} cannot be in the part before @; {_HINT}")


def _unusable() -> InvalidIdentityError:
    return _not_an_address("it contains spaces, control or invisible characters; type it again")


def _not_an_address(hint: str) -> InvalidIdentityError:
    return InvalidIdentityError("that is not an e-mail address", hint=hint)


def _domain(domain: str) -> tuple[str, str]:
    """The domain as canonical U-label and as A-label, or InvalidIdentityError."""
    labels = _lower_domain(domain).split(".")
    if len(labels) < 2 or not all(labels):
        raise _not_an_address(_HINT)
    u_labels: list[str] = []
    a_labels: list[str] = []
    for label in labels:
        if len(label.encode()) > MAX_LABEL_OCTETS:
            raise _long_label()
        if label.isascii() and not _ASCII_LABEL.fullmatch(label):
            raise _not_an_address(
                "the part after @ is not a domain name: only letters, digits and "
                "hyphens between dots"
            )
        try:
            if label.isascii():
                u_label = idna.decode(label) if label.startswith("xn--") else label
                a_label = label
            else:
                u_label = label
                a_label = idna.encode(label).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            raise _not_an_address(
                "the part after @ is not a valid domain name; check its spelling"
            ) from None
        if max(len(u_label.encode()), len(a_label)) > MAX_LABEL_OCTETS:
            raise _long_label()
        u_labels.append(u_label)
        a_labels.append(a_label)
    return ".".join(u_labels), ".".join(a_labels)


def _long_label() -> InvalidIdentityError:
    return InvalidIdentityError(
        f"a part of the domain between dots is longer than {MAX_LABEL_OCTETS} characters",
        hint="letters outside A-Z count as two or more",
    )


def _lower_domain(domain: str) -> str:
    if domain.isascii():
        return ascii_lower(domain)
    lowered = []
    for char in domain:
        lower = char.lower()
        # A letter outside ASCII is lower-cased only into letters outside ASCII: "İ"
        # becomes "i" plus a dot above, which would hide a lookalike behind an ASCII
        # letter; kept as it is, IDNA 2008 refuses it.
        lowered.append(lower if char.isascii() or not any(c.isascii() for c in lower) else char)
    return unicodedata.normalize("NFC", "".join(lowered))
