"""OrderHub's carrier codes in PDD's words: the numeric `logistics_id` of
pdd.logistics.companies.get, which pdd.logistics.online.send takes and an order shows.

Taken from a published pdd.logistics.companies.get answer (see PROTOCOL.md); any other carrier
is refused before a call, so a parcel is never announced under a guessed company.
"""

from __future__ import annotations

from orderhub.services.ports import ShipmentRefused

LOGISTICS_IDS: dict[str, int] = {
    "STO": 1,
    "SF": 44,
    "YTO": 85,
    "ZTO": 115,
    "EMS": 118,
    "JD": 120,
    "YUNDA": 121,
}
_BY_ID = {logistics_id: carrier for carrier, logistics_id in LOGISTICS_IDS.items()}


def logistics_id(carrier: str) -> int:
    """PDD's logistics_id for an OrderHub carrier, or ShipmentRefused("unknown_carrier")."""
    if carrier not in LOGISTICS_IDS:
        raise ShipmentRefused(
            f"carrier '{carrier}' has no PDD logistics_id; known: {', '.join(LOGISTICS_IDS)}",
            code="unknown_carrier",
        )
    return LOGISTICS_IDS[carrier]


def carrier_of(logistics_id: int) -> str | None:
    return _BY_ID.get(logistics_id)
