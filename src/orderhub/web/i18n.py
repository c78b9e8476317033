"""The console's language: the user's switch, else the browser's Accept-Language, else the default.

Catalogs live in `web/locale/<locale>/LC_MESSAGES/messages.po` (English msgids); see
docs/console.md for the pybabel commands that update them.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from babel import Locale, UnknownLocaleError, negotiate_locale
from babel.support import NullTranslations, Translations
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse

from orderhub.access import PUBLIC, hub_of
from orderhub.errors import NotFound

LOCALE_DIR = Path(__file__).parent / "locale"
SUPPORTED = ("zh_CN", "en")
# Shown in the switch in their own language, so anyone can find theirs.
NATIVE_NAMES = {"zh_CN": "中文", "en": "English"}
SESSION_LOCALE = "locale"

router = APIRouter()


@cache
def translations(locale: str) -> NullTranslations:
    return Translations.load(str(LOCALE_DIR), [locale], domain="messages")


def _accept_language(header: str) -> list[str]:
    """Language tags from an Accept-Language header, most wanted first (q=0 dropped)."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, position, tag.strip()))
    return [tag for _, _, tag in sorted(weighted)]


def _match(tag: str) -> str | None:
    exact = negotiate_locale([tag.replace("-", "_")], SUPPORTED)
    if exact is not None:
        return next(s for s in SUPPORTED if s.lower() == exact.lower())
    # One catalog per language, so any Chinese (zh, zh-TW, zh-Hans) reads better as zh_CN
    # than falling through to a language the user did not ask for.
    try:
        language = Locale.parse(tag, sep="-").language
    except (ValueError, UnknownLocaleError):
        return None
    return next((s for s in SUPPORTED if Locale.parse(s).language == language), None)


def negotiate(request: Request) -> str:
    """The request's locale, decided once and kept on the request."""
    cached = getattr(request.state, "locale", None)
    if isinstance(cached, str):
        return cached
    locale: str | None = None
    if "session" in request.scope:
        chosen = request.session.get(SESSION_LOCALE)
        locale = chosen if chosen in SUPPORTED else None
    if locale is None:
        for tag in _accept_language(request.headers.get("accept-language", "")):
            locale = _match(tag)
            if locale is not None:
                break
    if locale is None:
        locale = hub_of(request).settings.default_locale
    request.state.locale = locale
    return locale


def html_lang(locale: str) -> str:
    """The BCP 47 tag for `<html lang>` (zh_CN -> zh-CN)."""
    return locale.replace("_", "-")


def translate(request: Request, message: str) -> str:
    """`message` in the request's language (extracted with `pybabel extract -k translate:2`)."""
    return translations(negotiate(request)).gettext(message)


def local_path(target: str | None, default: str = "/orders") -> str:
    """`target` when it is a path on this site; anything else (other hosts, //x) gives `default`."""
    if not target:
        return default
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
    ):
        return default
    return target


@router.get("/lang/{code}", dependencies=[Depends(PUBLIC)], include_in_schema=False)
def switch_language(
    code: str, request: Request, next_: Annotated[str | None, Query(alias="next")] = None
) -> RedirectResponse:
    if code not in SUPPORTED:
        raise NotFound(f"language '{code}' is not available; choose one of {', '.join(SUPPORTED)}")
    request.session[SESSION_LOCALE] = code
    return RedirectResponse(local_path(next_), status_code=303)
