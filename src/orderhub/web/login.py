"""Signing in and out of the console (a signed session cookie; CSRF-checked forms)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from orderhub.access import PUBLIC, SESSION_USER, Requires, hub_of
from orderhub.permissions import Permission
from orderhub.services import accounts
from orderhub.web import i18n
from orderhub.web.render import page

router = APIRouter()


def _restart_session(request: Request) -> None:
    """Drop everything the session held before, keeping only the language the user picked."""
    locale = request.session.get(i18n.SESSION_LOCALE)
    request.session.clear()
    if locale in i18n.SUPPORTED:
        request.session[i18n.SESSION_LOCALE] = locale


@router.get("/", dependencies=[Depends(Requires(Permission.ORDER_READ))])
def home() -> RedirectResponse:
    return RedirectResponse("/orders", status_code=303)


@router.get("/login", dependencies=[Depends(PUBLIC)])
def login_form(
    request: Request, next_: Annotated[str | None, Query(alias="next")] = None
) -> Response:
    return page(request, "login.html", {"next": i18n.local_path(next_), "username": ""})


@router.post("/login", dependencies=[Depends(PUBLIC)])
def login(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next_: Annotated[str | None, Form(alias="next")] = None,
) -> Response:
    hub = hub_of(request)
    user = accounts.authenticate(
        hub.uow.read_only(), hub.hasher, username=username, password=password
    )
    if user is None:
        # One message for an unknown user, a wrong password and a disabled account alike.
        return page(
            request,
            "login.html",
            {
                "next": i18n.local_path(next_),
                "username": username,
                "error": i18n.translate(request, "The username or password is incorrect."),
            },
            status=401,
        )
    _restart_session(request)
    request.session[SESSION_USER] = user.id
    return RedirectResponse(i18n.local_path(next_), status_code=303)


@router.post("/logout", dependencies=[Depends(PUBLIC)])
def logout(request: Request) -> RedirectResponse:
    _restart_session(request)
    return RedirectResponse("/login", status_code=303)
