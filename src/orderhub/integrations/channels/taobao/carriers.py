"""OrderHub's carrier codes in TOP's words: the `company_code` taobao.logistics.offline.send takes
(as taobao.logistics.companies.get lists it) and the company name a trade's lines show.

Only carriers whose TOP code public sources agree on are listed (see PROTOCOL.md); any other is
refused before a call, so a parcel is never announced under a guessed company.
"""

from __future__ import annotations

from orderhub.services.ports import ShipmentRefused

# OrderHub code -> (TOP company_code, name on the trade's lines)
COMPANIES: dict[str, tuple[str, str]] = {
    "SF": ("SF", "顺丰速运"),
    "YTO": ("YTO", "圆通速递"),
    "ZTO": ("ZTO", "中通快递"),
    "STO": ("STO", "申通快递"),
    "YUNDA": ("YUNDA", "韵达快递"),
    "EMS": ("EMS", "EMS"),
}
_BY_CODE = {code: carrier for carrier, (code, _) in COMPANIES.items()}


def company_code(carrier: str) -> str:
    """TOP's company_code for an OrderHub carrier, or ShipmentRefused("unknown_carrier")."""
    if carrier not in COMPANIES:
        raise ShipmentRefused(
            f"carrier '{carrier}' has no Taobao company code; known: {', '.join(COMPANIES)}",
            code="unknown_carrier",
        )
    return COMPANIES[carrier][0]


def carrier_of(code: str) -> str | None:
    """The OrderHub carrier behind a TOP company_code (None when this table has none)."""
    return _BY_CODE.get(code)


def company_name(carrier: str) -> str:
    return COMPANIES[carrier][1] if carrier in COMPANIES else carrier
