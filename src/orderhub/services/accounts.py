"""Accounts: users, sign-in, and API tokens for integrations."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from orderhub.domain.accounts import ApiToken, User, check_password, check_username
from orderhub.domain.actors import Actor, ActorKind
from orderhub.errors import AlreadyExists, NotFound, ValidationFailed
from orderhub.permissions import ROLE_NAMES, Permission, permissions_of, require
from orderhub.services.ports import PasswordHasher, UnitOfWork, UnitOfWorkFactory

TOKEN_PREFIX = "oh_"
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


def actor_for(user: User, *, kind: ActorKind = ActorKind.USER) -> Actor:
    return Actor(
        id=f"user:{user.id}",
        name=user.username,
        kind=kind,
        role=user.role,
        permissions=permissions_of(user.role),
    )


def create_user(
    uow: UnitOfWork,
    hasher: PasswordHasher,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    locale: str | None = None,
    actor: Actor | None = None,
) -> User:
    """Create a user. `actor` None is the operator at the console (`orderhub create-user`)."""
    if actor is not None:
        require(actor, Permission.USER_MANAGE)
    if role not in ROLE_NAMES:
        raise ValidationFailed(
            f"role '{role}' does not exist; use one of {', '.join(ROLE_NAMES)}", field="role"
        )
    check_username(username)
    check_password(password)
    with uow:
        if uow.users.by_username(username) is not None:
            raise AlreadyExists(f"user '{username}' already exists; pick another username")
        user = User(
            username=username,
            display_name=display_name or username,
            password_hash=hasher.hash(password),
            role=role,
            locale=locale,
            created_at=uow.clock.now(),
        )
        user.id = uow.users.add(user)
        uow.commit()
    return user


def authenticate(
    uow: UnitOfWork, hasher: PasswordHasher, *, username: str, password: str
) -> User | None:
    """The user when name and password match an active account; None otherwise (no hint why)."""
    with uow:
        user = uow.users.by_username(username.strip().lower())
    if user is None or not user.active:
        # Hash anyway so a missing user takes as long as a wrong password.
        hasher.verify(_DUMMY_HASH.get(hasher), password)
        return None
    return user if hasher.verify(user.password_hash, password) else None


class _DummyHash:
    """One throwaway hash per hasher, made on first use, for constant-time refusals."""

    def __init__(self) -> None:
        self._by_hasher: dict[int, str] = {}

    def get(self, hasher: PasswordHasher) -> str:
        key = id(hasher)
        if key not in self._by_hasher:
            self._by_hasher[key] = hasher.hash(secrets.token_urlsafe(16))
        return self._by_hasher[key]


_DUMMY_HASH = _DummyHash()


def load_user(uow: UnitOfWork, user_id: int) -> User | None:
    with uow:
        user = uow.users.get(user_id)
    return user if user is not None and user.active else None


def list_users(uow: UnitOfWork, *, actor: Actor) -> Sequence[User]:
    require(actor, Permission.USER_MANAGE)
    with uow:
        return uow.users.list()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once; only its hash is stored
    record: ApiToken


def issue_token(uow: UnitOfWork, *, actor: Actor, user_id: int, name: str) -> IssuedToken:
    """A bearer token that acts as `user_id` with that user's role."""
    require(actor, Permission.TOKEN_MANAGE)
    if actor.id != f"user:{user_id}":
        require(actor, Permission.USER_MANAGE)
    if not name.strip():
        raise ValidationFailed(
            "give the token a name, e.g. the system that will use it", field="name"
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with uow:
        if uow.users.get(user_id) is None:
            raise NotFound(f"user {user_id} does not exist")
        record = ApiToken(
            user_id=user_id,
            name=name.strip(),
            token_hash=hash_token(token),
            prefix=token[:10],
            created_at=uow.clock.now(),
        )
        record.id = uow.tokens.add(record)
        uow.commit()
    return IssuedToken(token, record)


def actor_for_token(uows: UnitOfWorkFactory, token: str) -> Actor | None:
    """The actor behind a bearer token, or None for an unknown or revoked one."""
    with uows.read_only() as uow:
        found = uow.tokens.by_hash(hash_token(token))
        now = uow.clock.now()
    if found is None:
        return None
    record, user = found
    if not record.active or not user.active or record.id is None:
        return None
    # Recording every use would make each API call a write; once a minute is enough to audit.
    if record.last_used_at is None or now - record.last_used_at > TOKEN_TOUCH_INTERVAL:
        with uows() as uow:
            uow.tokens.touch(record.id, now)
            uow.commit()
    return actor_for(user, kind=ActorKind.TOKEN)


def list_tokens(uow: UnitOfWork, *, actor: Actor, user_id: int) -> Sequence[ApiToken]:
    require(actor, Permission.TOKEN_MANAGE)
    with uow:
        return uow.tokens.for_user(user_id)


def revoke_token(uow: UnitOfWork, *, actor: Actor, user_id: int, token_id: int) -> None:
    require(actor, Permission.TOKEN_MANAGE)
    with uow:
        if not uow.tokens.revoke(token_id, user_id, uow.clock.now()):
            raise NotFound(f"token {token_id} is not one of your active tokens")
        uow.commit()
