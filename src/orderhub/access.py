"""Who is asking, and may they: every route declares a `Requires` dependency.

A bearer token (integrations) or the signed session cookie (the console) identifies the actor;
`Requires(Permission.X)` refuses with 403 naming the missing permission before anything runs.
The route-table test fails for any route without one.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy.engine import Connection

from orderhub.bootstrap import Hub
from orderhub.domain.actors import Actor
from orderhub.errors import NotAuthenticated
from orderhub.permissions import Permission, require
from orderhub.services import accounts

SESSION_USER = "user_id"


def hub_of(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


def current_actor(request: Request) -> Actor | None:
    """The actor behind the request, cached on it; None when nobody is signed in."""
    if hasattr(request.state, "actor"):
        cached: Actor | None = request.state.actor
        return cached
    hub = hub_of(request)
    actor: Actor | None = None
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        actor = accounts.actor_for_token(hub.uow, token.strip())
        if actor is None:
            raise NotAuthenticated(
                "the bearer token is unknown or revoked; create a new one "
                "with `orderhub create-token` or POST /api/v1/tokens"
            )
    elif "session" in request.scope:
        user_id = request.session.get(SESSION_USER)
        if isinstance(user_id, int):
            user = accounts.load_user(hub.uow.read_only(), user_id)
            if user is None:
                request.session.clear()
            else:
                actor = accounts.actor_for(user)
    request.state.actor = actor
    return actor


class Requires:
    """Dependency: the request's actor, who must hold `permission`.

    `per_action=True` marks routes whose permission depends on the action in the path or body:
    the service checks `ACTION_PERMISSIONS[action]` before it changes anything.
    """

    def __init__(self, permission: Permission | None = None, *, per_action: bool = False) -> None:
        if permission is None and not per_action:
            raise ValueError("name a permission, or per_action=True")
        self.permission = permission
        self.per_action = per_action

    def __call__(self, request: Request) -> Actor:
        actor = current_actor(request)
        if actor is None:
            raise NotAuthenticated(
                "sign in first: send `Authorization: Bearer <token>` or log in at /login"
            )
        if self.permission is not None:
            require(actor, self.permission)
        return actor

    def __repr__(self) -> str:
        return f"Requires({self.permission or 'per action'})"


class Public:
    """Dependency for routes anyone may call (health, login page, static files)."""

    def __call__(self) -> None:
        return None


PUBLIC = Public()


def read_connection(request: Request) -> Iterator[Connection]:
    """A read-only connection for list and report queries (no write lock on SQLite)."""
    with hub_of(request).engine.connect() as conn:
        yield conn
