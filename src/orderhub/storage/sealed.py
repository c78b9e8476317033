"""Credentials at rest: JSON sealed with Fernet (ORDERHUB_CREDENTIALS_KEY)."""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken


class CredentialsUnreadable(Exception):
    """The stored credentials were encrypted with another key (ORDERHUB_CREDENTIALS_KEY)."""


def seal(cipher: Fernet, values: dict[str, Any]) -> str:
    return cipher.encrypt(json.dumps(values).encode()).decode()


def unseal(cipher: Fernet, sealed: str, *, owner: str) -> dict[str, Any]:
    try:
        values: dict[str, Any] = json.loads(cipher.decrypt(sealed.encode()))
    except InvalidToken:
        raise CredentialsUnreadable(
            f"{owner}: its credentials were encrypted with another key; restore "
            "ORDERHUB_CREDENTIALS_KEY or enter the credentials again"
        ) from None
    return values
