"""The cookie banner: `GET /banner.js`, its configuration, and the visitor's choices. Public.

The script is one file with the data map's banner configuration (every language)
written into it, so a page needs one script tag and one request. It is cacheable:
``Cache-Control: public, max-age=300`` and an ETag of its exact bytes, so a change of
the data map's texts reaches visitors within five minutes (and a visitor whose
choice was for another version is asked again). CORS and
``Cross-Origin-Resource-Policy: cross-origin`` come from personvern.api.public_cors.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from personvern.api.deps import DataMapDep, SessionDep, SettingsDep
from personvern.domain.banner import banner_config
from personvern.domain.datamap import DataMap
from personvern.domain.notice import require_language
from personvern.intake import banner

#: Where the script is served (outside /api/v1: it is what a page's script tag names).
SCRIPT_PATH = "/banner.js"
CONFIG_PATH = "/banner/config"
CHOICES_PATH = "/banner/choices"
#: A browser or proxy may reuse the script this long before asking again (with the ETag).
MAX_AGE = 300
_PLACEHOLDER = "/*CONFIG*/null"

script_router = APIRouter(tags=["banner"])
public_router = APIRouter(tags=["banner"])


@cache
def _template() -> str:
    return files("personvern.api").joinpath("assets/banner.js").read_text(encoding="utf-8")


@dataclass(frozen=True)
class BannerScript:
    """The script for one data map, and its ETag."""

    body: bytes
    etag: str


_built: dict[int, tuple[DataMap, BannerScript]] = {}


def banner_script(datamap: DataMap) -> BannerScript:
    """The script with ``datamap``'s configuration written in (built once per loaded map)."""
    held = _built.get(id(datamap))
    if held is not None and held[0] is datamap:
        return held[1]
    config = json.dumps(banner_config(datamap), ensure_ascii=False, separators=(",", ":"))
    # "</" cannot end a script element the text is pasted into; U+2028/9 are kept escaped.
    config = config.replace("</", "<\\/").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    body = _template().replace(_PLACEHOLDER, config, 1).encode("utf-8")
    script = BannerScript(body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
    _built.clear()
    _built[id(datamap)] = (datamap, script)
    return script


@script_router.get(
    SCRIPT_PATH,
    response_class=Response,
    openapi_extra={"x-public": True},
    responses={
        200: {"content": {"text/javascript": {}}, "description": "the banner script"},
        304: {"description": "the script the client holds (If-None-Match) is current"},
    },
)
def script(
    datamap: DataMapDep,
    if_none_match: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    """The cookie banner: embed it on any page with one script tag (docs/banner.md)."""
    built = banner_script(datamap)
    headers = {
        "ETag": built.etag,
        "Cache-Control": f"public, max-age={MAX_AGE}",
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    if if_none_match is not None and built.etag in {t.strip() for t in if_none_match.split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(built.body, media_type="text/javascript; charset=utf-8", headers=headers)


@public_router.get(CONFIG_PATH)
def config(
    datamap: DataMapDep,
    lang: Annotated[
        str | None,
        Query(pattern=r"^[a-z]{2,3}$", description="nb or en; default the map's first language"),
    ] = None,
) -> dict[str, Any]:
    """The banner's configuration (what /banner.js carries), in one language or all."""
    full = banner_config(datamap)
    if lang is None:
        return full
    require_language(datamap, lang)
    return {**full, "langs": [lang], "t": {lang: full["t"][lang]}}


CategoryKey = Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$")]


class ChoiceIn(BaseModel):
    """A visitor's choice in the banner."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "visitor_id": "3f2a6c1e9b8d4f7a0c5e2b1d9f8a7c6e",
                    "version": "0123456789abcdef",
                    "language": "nb",
                    "choices": {"analytics": True, "marketing": False},
                    "gpc": False,
                }
            ]
        },
    )

    visitor_id: str = Field(
        pattern=r"^[0-9a-f]{32}$",
        description="the random id the banner made (128 bits, hex); kept only as a keyed hash",
    )
    version: str = Field(pattern=r"^[0-9a-f]{16}$", description="the banner version shown")
    language: str = Field(pattern=r"^[a-z]{2,3}$", description="the language it was shown in")
    choices: dict[CategoryKey, StrictBool] = Field(
        max_length=8, description="true or false for every category the banner offers"
    )
    gpc: StrictBool = Field(False, description="navigator.globalPrivacyControl")


class ChoiceOut(BaseModel):
    """The choice as recorded."""

    categories: dict[str, bool] = Field(description="per category, GPC applied")
    refused_by_gpc: list[str] = Field(description="categories accepted but refused by GPC")
    gpc: bool
    records: list[str] = Field(description="the consent ledger records made (their ids)")


@public_router.post(CHOICES_PATH, status_code=201, response_model=ChoiceOut)
def record_choice(
    body: ChoiceIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    datamap: DataMapDep,
    sec_gpc: Annotated[
        str | None, Header(alias="Sec-GPC", max_length=8, description="1: Global Privacy Control")
    ] = None,
    user_agent: Annotated[str | None, Header(max_length=1000)] = None,
) -> ChoiceOut:
    """Record a visitor's cookie choice in the consent ledger (a grant or withdrawal per purpose).

    Global Privacy Control, in the body or as ``Sec-GPC: 1``, refuses marketing whatever
    was chosen. 409 when the banner's texts changed since it was shown: ask again.
    """
    gpc = body.gpc or (sec_gpc or "").strip() == "1"
    recorded = banner.record_choice(
        session,
        settings,
        datamap,
        visitor_id=body.visitor_id,
        version=body.version,
        language=body.language,
        choices=body.choices,
        gpc=gpc,
        client_ip=request.client.host if request.client else None,
        user_agent=user_agent,
    )
    return ChoiceOut(
        categories=dict(recorded.choice.categories),
        refused_by_gpc=list(recorded.choice.refused_by_gpc),
        gpc=gpc,
        records=list(recorded.record_ids),
    )
