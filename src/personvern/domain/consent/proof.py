"""Proof of how a consent was given, reduced before it is stored (Art. 5(1)(c)).

An IP address is cut to its network (IPv4 /24, IPv6 /48) and a user agent to its
browser family and major version: enough to show a consent came from a browser on a
network at a time, too little to single out a device.
"""

from __future__ import annotations

import ipaddress
import re

from personvern.domain.consent.ledger import ConsentError, ConsentProof

#: The longest user-agent string read (real ones are a few hundred characters).
MAX_USER_AGENT = 1000

# Order matters: Edge and Opera also say Chrome, Chrome also says Safari.
_FAMILIES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Edge", re.compile(r"\bEdg(?:e|A|iOS)?/(\d{1,4})")),
    ("Opera", re.compile(r"\b(?:OPR|Opera)/(\d{1,4})")),
    ("Samsung Internet", re.compile(r"\bSamsungBrowser/(\d{1,4})")),
    ("Firefox", re.compile(r"\b(?:Firefox|FxiOS)/(\d{1,4})")),
    ("Chrome", re.compile(r"\b(?:Chrome|CriOS)/(\d{1,4})")),
    ("Safari", re.compile(r"\bVersion/(\d{1,4})[.\d]* (?:Mobile/\S+ )?Safari/")),
)


def truncate_ip(address: str) -> str:
    """The network an address belongs to: IPv4 cut to /24, IPv6 to /48 ("192.0.2.0/24")."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        raise ConsentError(
            "the proof's IP address is not an IPv4 or IPv6 address",
            hint="send the address the consent came from, e.g. 192.0.2.15",
        ) from None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def user_agent_family(user_agent: str) -> str:
    """A user agent as browser family and major version ("Firefox 133"), else "Other"."""
    text = user_agent[:MAX_USER_AGENT]
    for family, pattern in _FAMILIES:
        found = pattern.search(text)
        if found:
            return f"{family} {int(found.group(1))}"
    return "Other"


def proof_of(ip: str | None, user_agent: str | None) -> ConsentProof:
    """The proof to store for a consent given from ``ip`` with ``user_agent``."""
    return ConsentProof(
        ip_prefix=truncate_ip(ip) if ip else None,
        user_agent_family=user_agent_family(user_agent) if user_agent else None,
    )
