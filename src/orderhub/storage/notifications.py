"""Recipients in SQL; the signing secret sealed at rest like a shop's credentials."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.engine import Connection, RowMapping

from orderhub.domain.notifications import Recipient, RecipientKind
from orderhub.errors import AlreadyExists, NotFound
from orderhub.storage.rows import inserted_id
from orderhub.storage.sealed import seal, unseal
from orderhub.storage.tables import recipients


def _row(recipient: Recipient, cipher: Fernet) -> dict[str, Any]:
    return {
        "code": recipient.code,
        "name": recipient.name,
        "kind": recipient.kind.value,
        "address": recipient.address,
        "secret": seal(cipher, {"secret": recipient.secret}),
        "enabled": recipient.enabled,
        "created_at": recipient.created_at,
        "updated_at": recipient.updated_at,
    }


def _recipient(row: RowMapping, cipher: Fernet) -> Recipient:
    sealed = unseal(cipher, row["secret"], owner=f"recipient {row['code']}")
    return Recipient(
        id=row["id"],
        code=row["code"],
        name=row["name"],
        kind=RecipientKind(row["kind"]),
        address=row["address"],
        secret=str(sealed.get("secret", "")),
        enabled=row["enabled"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class SqlRecipientRepository:
    def __init__(self, conn: Connection, cipher: Fernet) -> None:
        self._conn, self._cipher = conn, cipher

    def find(self, code: str) -> Recipient | None:
        query = select(recipients).where(recipients.c.code == code)
        row = self._conn.execute(query).mappings().first()
        return None if row is None else _recipient(row, self._cipher)

    def get(self, code: str) -> Recipient:
        found = self.find(code)
        if found is None:
            raise NotFound(
                f"recipient '{code}' does not exist; add it with `orderhub recipients add "
                f"{code} --kind ... --address ...` or POST /api/v1/recipients"
            )
        return found

    def list(self) -> Sequence[Recipient]:
        rows = self._conn.execute(select(recipients).order_by(recipients.c.code)).mappings()
        return [_recipient(r, self._cipher) for r in rows]

    def add(self, recipient: Recipient) -> int:
        if self.find(recipient.code) is not None:
            raise AlreadyExists(
                f"recipient '{recipient.code}' already exists; change it with "
                f"`orderhub recipients set {recipient.code}` or PATCH /api/v1/recipients/"
                f"{recipient.code}"
            )
        return inserted_id(self._conn.execute(recipients.insert(), _row(recipient, self._cipher)))

    def update(self, recipient: Recipient) -> None:
        row = _row(recipient, self._cipher)
        del row["created_at"]
        self._conn.execute(
            recipients.update().where(recipients.c.code == recipient.code).values(**row)
        )
