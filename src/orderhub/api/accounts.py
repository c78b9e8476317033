"""/api/v1: who am I, users, API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from orderhub.access import Requires, hub_of
from orderhub.api.order_models import Strict
from orderhub.domain.accounts import ApiToken, User
from orderhub.domain.actors import Actor
from orderhub.permissions import ROLE_NAMES, Permission
from orderhub.services import accounts

router = APIRouter(prefix="/api/v1", tags=["accounts"])


class MeOut(BaseModel):
    id: str
    name: str
    kind: str
    role: str | None
    permissions: list[str]


class UserIn(Strict):
    username: str
    password: Annotated[str, Field(min_length=1)]
    role: str = Field(description=f"one of {', '.join(ROLE_NAMES)}")
    display_name: str | None = None
    locale: str | None = None


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        assert user.id is not None
        return cls(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            role=user.role,
            active=user.active,
            created_at=user.created_at,
        )


class TokenIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    user_id: int | None = Field(None, description="another user's id (needs user.manage)")


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    user_id: int
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, t: ApiToken) -> TokenOut:
        assert t.id is not None
        return cls(
            id=t.id,
            name=t.name,
            prefix=t.prefix,
            user_id=t.user_id,
            created_at=t.created_at,
            last_used_at=t.last_used_at,
            revoked_at=t.revoked_at,
        )


class IssuedTokenOut(TokenOut):
    token: str = Field(description="shown once; store it now")


def _user_id(actor: Actor) -> int:
    return int(actor.id.split(":", 1)[1])


@router.get("/me", response_model=MeOut)
def me(actor: Annotated[Actor, Depends(Requires(Permission.ORDER_READ))]) -> MeOut:
    return MeOut(
        id=actor.id,
        name=actor.name,
        kind=actor.kind.value,
        role=actor.role,
        permissions=sorted(actor.permissions),
    )


@router.get("/users", response_model=list[UserOut])
def list_users(
    request: Request, actor: Annotated[Actor, Depends(Requires(Permission.USER_MANAGE))]
) -> list[UserOut]:
    return [
        UserOut.of(u) for u in accounts.list_users(hub_of(request).uow.read_only(), actor=actor)
    ]


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(
    body: UserIn,
    request: Request,
    actor: Annotated[Actor, Depends(Requires(Permission.USER_MANAGE))],
) -> UserOut:
    hub = hub_of(request)
    user = accounts.create_user(
        hub.uow(),
        hub.hasher,
        username=body.username,
        password=body.password,
        role=body.role,
        display_name=body.display_name,
        locale=body.locale,
        actor=actor,
    )
    return UserOut.of(user)


@router.post("/tokens", response_model=IssuedTokenOut, status_code=201)
def issue_token(
    body: TokenIn,
    request: Request,
    actor: Annotated[Actor, Depends(Requires(Permission.TOKEN_MANAGE))],
) -> IssuedTokenOut:
    issued = accounts.issue_token(
        hub_of(request).uow(), actor=actor, user_id=body.user_id or _user_id(actor), name=body.name
    )
    return IssuedTokenOut(token=issued.token, **TokenOut.of(issued.record).model_dump())


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(
    request: Request, actor: Annotated[Actor, Depends(Requires(Permission.TOKEN_MANAGE))]
) -> list[TokenOut]:
    return [
        TokenOut.of(t)
        for t in accounts.list_tokens(
            hub_of(request).uow.read_only(), actor=actor, user_id=_user_id(actor)
        )
    ]


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(
    token_id: int,
    request: Request,
    actor: Annotated[Actor, Depends(Requires(Permission.TOKEN_MANAGE))],
) -> Response:
    accounts.revoke_token(
        hub_of(request).uow(), actor=actor, user_id=_user_id(actor), token_id=token_id
    )
    return Response(status_code=204)
