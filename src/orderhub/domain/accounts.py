"""Users and integration tokens. Roles and permissions live in orderhub.permissions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from orderhub.errors import ValidationFailed

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")
MIN_PASSWORD = 8


@dataclass
class User:
    username: str
    display_name: str
    password_hash: str
    role: str
    created_at: datetime
    locale: str | None = None
    active: bool = True
    id: int | None = None


@dataclass
class ApiToken:
    user_id: int
    name: str
    token_hash: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    id: int | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def check_username(username: str) -> str:
    if not _USERNAME.match(username):
        raise ValidationFailed(
            f"username '{username}' must be 2-64 lower-case letters, digits, '.', '_' or '-'",
            field="username",
        )
    return username


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed(
            f"the password has {len(password)} characters; use at least {MIN_PASSWORD}",
            field="password",
        )
    return password
