"""Rendering for the console: one Jinja2 environment, per-request translations, error pages.

Translations are looked up from the template context (not installed on the shared environment),
so two requests rendering at once in different languages cannot see each other's catalog.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from babel.units import format_unit
from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context

from orderhub.access import current_actor
from orderhub.domain.actors import Actor
from orderhub.domain.money import format_amount
from orderhub.errors import OrderHubError
from orderhub.permissions import Permission, can
from orderhub.web import i18n, labels

TEMPLATES_DIR = Path(__file__).parent / "templates"
SESSION_FLASH = "flash"


@pass_context
def _gettext(context: Context, message: str) -> str:
    return str(context["translations"].gettext(message))


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return str(context["translations"].ngettext(singular, plural, n))


def _label(table: Mapping[str, str]) -> Any:
    @pass_context
    def translate(context: Context, value: str | None) -> str:
        if value is None:
            return ""
        known = table.get(str(value))
        return _gettext(context, known) if known else str(value)

    return translate


def _money(minor: int, currency: str) -> str:
    return f"{format_amount(minor, currency)} {currency}"


def _when(value: datetime | None) -> str:
    # Stored times are UTC; the console says so rather than guess the reader's zone.
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


_UNITS = (
    ("duration-day", 86400),
    ("duration-hour", 3600),
    ("duration-minute", 60),
    ("duration-second", 1),
)


@pass_context
def _duration(context: Context, seconds: float | timedelta) -> str:
    """The two largest units, e.g. '2 days 3 hr' / '2天 3小时'."""
    remaining = int(seconds.total_seconds() if isinstance(seconds, timedelta) else seconds)
    parts: list[str] = []
    for unit, size in _UNITS:
        amount, remaining = divmod(remaining, size)
        if amount or (unit == "duration-second" and not parts):
            parts.append(format_unit(amount, unit, length="short", locale=context["locale"]))
        if len(parts) == 2:
            break
    return " ".join(parts)


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Added by the i18n extension, hence unknown to the type checker.
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(
        status_label=_label(labels.STATUS),
        action_label=_label({**labels.ACTION, **labels.EVENT}),
        reason_label=_label(labels.REASON),
        role_label=_label(labels.ROLE),
        payment_label=_label(labels.PAYMENT),
        order_type_label=_label(labels.ORDER_TYPE),
        money=_money,
        when=_when,
        duration=_duration,
    )
    return env


def actor_or_none(request: Request) -> Actor | None:
    """The signed-in actor for the page chrome; a broken credential just shows no one."""
    try:
        return current_actor(request)
    except OrderHubError:
        return None


def flash(request: Request, kind: str, message: str) -> None:
    """A one-line message for the next page this browser renders (after a redirect)."""
    request.session[SESSION_FLASH] = [*request.session.get(SESSION_FLASH, []), [kind, message]]


def _page_context(request: Request) -> dict[str, Any]:
    locale = i18n.negotiate(request)
    actor = actor_or_none(request)
    flashes: list[list[str]] = []
    if "session" in request.scope:
        flashes = request.session.pop(SESSION_FLASH, [])
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    csrf = request.scope.get("csrftoken")
    return {
        "translations": i18n.translations(locale),
        "locale": locale,
        "html_lang": i18n.html_lang(locale),
        "languages": [(code, i18n.NATIVE_NAMES[code]) for code in i18n.SUPPORTED],
        "here": here,
        "csrftoken": csrf if callable(csrf) else (lambda: ""),
        "actor": actor,
        "can": (lambda perm: actor is not None and can(actor, Permission(perm))),
        "flashes": flashes,
        "is_htmx": is_htmx(request),
    }


templates = Jinja2Templates(env=_environment(), context_processors=[_page_context])


def is_htmx(request: Request) -> bool:
    """An htmx swap (a history restore wants the whole page, like a normal visit)."""
    headers = request.headers
    return headers.get("hx-request") == "true" and "hx-history-restore-request" not in headers


def page(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    return templates.TemplateResponse(
        request, template, context or {}, status_code=status, headers=headers
    )


def _login_redirect(request: Request) -> Response:
    if is_htmx(request):
        # A redirect would be followed inside the XHR; htmx navigates the page on HX-Redirect.
        current = urlsplit(request.headers.get("hx-current-url", ""))
        target = current.path + (f"?{current.query}" if current.query else "")
        target = i18n.local_path(target, request.url.path)
        return Response(status_code=401, headers={"HX-Redirect": f"/login?next={quote(target)}"})
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def render_error(request: Request, status: int, title: str, detail: str, code: str) -> Response:
    """The friendly error page (or, for htmx, a message into the page's message area)."""
    if status == 401:
        return _login_redirect(request)
    known = labels.ERROR_TITLE.get(code) or labels.ERROR_BY_STATUS.get(status)
    context = {
        "status": status,
        "title": i18n.translate(request, known) if known else title,
        "detail": detail,
        "code": code,
    }
    if is_htmx(request):
        headers = {"HX-Retarget": "#messages", "HX-Reswap": "innerHTML"}
        return page(request, "_error.html", context, status=status, headers=headers)
    return page(request, "error.html", context, status=status)
