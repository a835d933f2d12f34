"""The data map of a small test company, up to its systems: one controller, one purpose."""

from __future__ import annotations


def company_preamble(name: str, purpose: str = "service") -> str:
    """Data-map YAML up to ``systems:``, braces doubled for the caller's ``str.format``."""
    domain = name.split(maxsplit=1)[0].lower().replace("ø", "o") + ".example"
    return f"""\
organization:
  name: {name}
  languages: [en]
  controllers:
    - {{{{key: c, name: {name}, organization_number: '923456783', address: Oslo, country: NO}}}}
  contact: {{{{name: Privacy, email: privacy@{domain}}}}}
  supervisory_authority: {{{{name: Datatilsynet, country: NO, url: https://www.datatilsynet.no}}}}
subjects:
  - {{{{key: customer, name: {{{{en: Customer}}}}}}}}
purposes:
  - key: {purpose}
    name: {{{{en: {purpose.capitalize()}}}}}
    description: {{{{en: What the company does for its customers}}}}
    data_use: essential.service
    legal_basis: contract
retention:
  - key: all
    category: user
    trigger: contract_end
    period: P3Y
    description: {{{{en: Three years after the contract}}}}
"""
