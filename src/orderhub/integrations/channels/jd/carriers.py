"""OrderHub's carrier codes in JD's words: the numeric logistics company id (logiCoprId) that
jingdong.pop.order.shipment takes and an order shows as `logisticsId`.

Only ids seen in public integration code are listed (see PROTOCOL.md); any other carrier is
refused before a call, so a parcel is never announced under a guessed company.
"""

from __future__ import annotations

from orderhub.services.ports import ShipmentRefused

LOGISTICS_IDS: dict[str, str] = {
    "SF": "467",
    "YTO": "463",
    "ZTO": "1499",
    "STO": "470",
    "YUNDA": "1327",
    "EMS": "465",
    "JD": "2087",
}
_BY_ID = {logistics_id: carrier for carrier, logistics_id in LOGISTICS_IDS.items()}


def logistics_id(carrier: str) -> str:
    """JD's logiCoprId for an OrderHub carrier, or ShipmentRefused("unknown_carrier")."""
    if carrier not in LOGISTICS_IDS:
        raise ShipmentRefused(
            f"carrier '{carrier}' has no JD logistics id; known: {', '.join(LOGISTICS_IDS)}",
            code="unknown_carrier",
        )
    return LOGISTICS_IDS[carrier]


def carrier_of(logistics_id: str) -> str | None:
    return _BY_ID.get(logistics_id)
