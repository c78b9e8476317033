"""OrderHub's carrier codes as Shopify tracking company names (tracking_info.company).

Shopify takes any name, but builds tracking links only for the names on its supported list, so
these are written exactly as that list spells them (see PROTOCOL.md). Any other carrier is
refused before a call rather than sent under a name Shopify would not recognise.
"""

from __future__ import annotations

from orderhub.services.ports import ShipmentRefused

TRACKING_COMPANIES: dict[str, str] = {
    "SF": "SF Express",
    "YTO": "YTO Express",
    "ZTO": "ZTO Express",
    "STO": "STO Express",
    "YUNDA": "Yunda Express",
    "EMS": "China EMS (ePacket)",
    "JT": "J&T Express",
}
_BY_NAME = {name.lower(): carrier for carrier, name in TRACKING_COMPANIES.items()}


def tracking_company(carrier: str) -> str:
    """Shopify's tracking company name for an OrderHub carrier, or ShipmentRefused."""
    if carrier not in TRACKING_COMPANIES:
        raise ShipmentRefused(
            f"carrier '{carrier}' has no Shopify tracking company; "
            f"known: {', '.join(TRACKING_COMPANIES)}",
            code="unknown_carrier",
        )
    return TRACKING_COMPANIES[carrier]


def carrier_of(company: str) -> str | None:
    return _BY_NAME.get(company.strip().lower())
