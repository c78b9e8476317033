"""Users and API tokens in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection, RowMapping

from orderhub.domain.accounts import ApiToken, User
from orderhub.storage.rows import inserted_id
from orderhub.storage.tables import api_tokens, users

_BY_NAME = select(users).where(users.c.username == bindparam("username"))
_BY_ID = select(users).where(users.c.id == bindparam("user_id"))
_TOKEN_AND_USER = (
    select(
        api_tokens,
        users.c.username,
        users.c.display_name,
        users.c.password_hash,
        users.c.role,
        users.c.locale,
        users.c.active,
        users.c.created_at.label("user_created_at"),
    )
    .join(users, users.c.id == api_tokens.c.user_id)
    .where(api_tokens.c.token_hash == bindparam("token_hash"))
)
_TOUCH = (
    api_tokens.update()
    .where(api_tokens.c.id == bindparam("token_id"))
    .values(last_used_at=bindparam("at"))
)


def _user(row: RowMapping) -> User:
    return User(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        password_hash=row["password_hash"],
        role=row["role"],
        locale=row["locale"],
        active=row["active"],
        created_at=row["created_at"],
    )


def _token(row: RowMapping) -> ApiToken:
    return ApiToken(
        id=row["id"],
        user_id=row["user_id"],
        name=row["name"],
        token_hash=row["token_hash"],
        prefix=row["prefix"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )


class SqlUserRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def by_username(self, username: str) -> User | None:
        row = self._conn.execute(_BY_NAME, {"username": username}).mappings().first()
        return _user(row) if row else None

    def get(self, user_id: int) -> User | None:
        row = self._conn.execute(_BY_ID, {"user_id": user_id}).mappings().first()
        return _user(row) if row else None

    def add(self, user: User) -> int:
        result = self._conn.execute(
            users.insert(),
            {
                "username": user.username,
                "display_name": user.display_name,
                "password_hash": user.password_hash,
                "role": user.role,
                "locale": user.locale,
                "active": user.active,
                "created_at": user.created_at,
            },
        )
        return inserted_id(result)

    def set_password(self, user_id: int, password_hash: str) -> None:
        self._conn.execute(
            users.update().where(users.c.id == user_id).values(password_hash=password_hash)
        )

    def list(self) -> Sequence[User]:
        return [_user(r) for r in self._conn.execute(select(users).order_by(users.c.id)).mappings()]


class SqlTokenRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def by_hash(self, token_hash: str) -> tuple[ApiToken, User] | None:
        row = self._conn.execute(_TOKEN_AND_USER, {"token_hash": token_hash}).mappings().first()
        if row is None:
            return None
        user = User(
            id=row["user_id"],
            username=row["username"],
            display_name=row["display_name"],
            password_hash=row["password_hash"],
            role=row["role"],
            locale=row["locale"],
            active=row["active"],
            created_at=row["user_created_at"],
        )
        return _token(row), user

    def add(self, token: ApiToken) -> int:
        result = self._conn.execute(
            api_tokens.insert(),
            {
                "user_id": token.user_id,
                "name": token.name,
                "token_hash": token.token_hash,
                "prefix": token.prefix,
                "created_at": token.created_at,
            },
        )
        return inserted_id(result)

    def for_user(self, user_id: int) -> Sequence[ApiToken]:
        query = select(api_tokens).where(api_tokens.c.user_id == user_id).order_by(api_tokens.c.id)
        return [_token(r) for r in self._conn.execute(query).mappings()]

    def revoke(self, token_id: int, user_id: int, at: datetime) -> bool:
        result = self._conn.execute(
            api_tokens.update()
            .where(
                api_tokens.c.id == token_id,
                api_tokens.c.user_id == user_id,
                api_tokens.c.revoked_at.is_(None),
            )
            .values(revoked_at=at)
        )
        return result.rowcount == 1

    def touch(self, token_id: int, at: datetime) -> None:
        self._conn.execute(_TOUCH, {"token_id": token_id, "at": at})
