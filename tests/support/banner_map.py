"""The example company with a marketing pixel on its web site: a banner with marketing to refuse.

The example map's web site sets necessary and analytics cookies only; Global Privacy
Control refuses marketing, so the tests that show it add a tracking pixel of an ad
network, with a consent purpose of its own, in a file of its own.
"""

from __future__ import annotations

import shutil
from pathlib import Path

MARKETING_PURPOSE = "marketing_ads"

PIXEL = """\
purposes:
  - key: marketing_ads
    name: {nb: Annonser, en: Advertising}
    description:
      nb: Å vise deg annonser for tjenestene våre på andre nettsteder.
      en: To show you adverts for our services on other web sites.
    data_use: marketing.advertising.third_party.targeted
    legal_basis: consent
    consent:
      nb: Jeg tillater at annonsenettverket vårt setter en kapsel som måler annonsene.
      en: I allow our ad network to set a cookie that measures the adverts.
systems:
  - key: ad_pixel
    name: ads.example
    kind: web
    controller: nws-no
    description:
      nb: Annonsepiksel på nettsidene.
      en: Ad pixel on the web site.
    cookies:
      - name: ad_id
        provider: ads.example
        category: marketing
        duration: 3 months
        purpose: marketing_ads
        third_party: true
        description:
          nb: Kjenner igjen nettleseren din på tvers av nettsteder for annonser.
          en: Recognises your browser across sites for adverts.
"""


def map_with_marketing(example: Path, target: Path) -> Path:
    """A copy of the example data map at ``target`` with the ad pixel added."""
    shutil.copytree(example, target)
    (target / "ad_pixel.yaml").write_text(PIXEL, encoding="utf-8")
    return target
