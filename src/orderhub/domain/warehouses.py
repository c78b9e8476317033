"""A warehouse OrderHub ships from, and the WMS that runs it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from orderhub.errors import ValidationFailed

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")


@dataclass(frozen=True)
class WmsCredentials:
    """What the WMS and OrderHub share: the app key, the signing secret, the owner (customer) id."""

    app_key: str = ""
    secret: str = ""
    customer_id: str = ""


@dataclass
class Warehouse:
    code: str  # e.g. WH-MAIN; routing rules and stock levels name it
    name: str
    created_at: datetime
    updated_at: datetime
    # The WMS protocol ("qimen"); "none" keeps the warehouse manual (ship by hand, no push).
    wms: str = "none"
    base_url: str = ""
    credentials: WmsCredentials = field(default_factory=WmsCredentials)
    enabled: bool = True
    # Messages a second OrderHub sends this WMS at most (the relay's per-target limit).
    rate_per_s: float = 50.0
    id: int | None = None


def check_warehouse(warehouse: Warehouse, known_protocols: frozenset[str]) -> Warehouse:
    if not _CODE.match(warehouse.code):
        raise ValidationFailed(
            f"warehouse code '{warehouse.code}' must be 1-32 letters, digits, '_' or '-'",
            field="code",
        )
    if warehouse.wms != "none" and warehouse.wms not in known_protocols:
        raise ValidationFailed(
            f"unknown WMS protocol '{warehouse.wms}'; use one of: "
            f"{', '.join(sorted(known_protocols | {'none'}))}",
            field="wms",
        )
    if warehouse.wms != "none" and not warehouse.base_url.startswith(("http://", "https://")):
        raise ValidationFailed(
            f"warehouse {warehouse.code} uses WMS '{warehouse.wms}' but its base_url "
            f"'{warehouse.base_url}' is not an http(s) URL",
            field="base_url",
        )
    if warehouse.rate_per_s <= 0:
        raise ValidationFailed("rate_per_s must be above 0", field="rate_per_s")
    return warehouse
