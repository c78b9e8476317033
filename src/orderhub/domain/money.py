"""Money as integer minor units; channel strings are parsed with Decimal, never float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from orderhub.errors import ValidationFailed

# ISO 4217 exponents of the currencies our merchants meet; everything else has 2.
_EXPONENTS = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "KWD": 3, "BHD": 3, "JOD": 3}
KNOWN_CURRENCIES = frozenset(
    {"CNY", "HKD", "TWD", "USD", "EUR", "GBP", "AUD", "CAD", "SGD", "MYR", "THB", "NZD", "CHF"}
    | set(_EXPONENTS)
)


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency, 2)


def check_currency(currency: str) -> str:
    if currency not in KNOWN_CURRENCIES:
        raise ValidationFailed(
            f"currency '{currency}' is not a supported ISO 4217 code; "
            f"use one of {', '.join(sorted(KNOWN_CURRENCIES))}",
            field="currency",
        )
    return currency


def parse_amount(text: str, currency: str, *, field: str) -> int:
    """'12.30' CNY -> 1230. Refuses anything that is not an exact decimal in that currency."""
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        raise ValidationFailed(
            f"{field}: '{text}' is not a decimal amount; write it like '12.30'", field=field
        ) from None
    if not value.is_finite():
        raise ValidationFailed(f"{field}: '{text}' is not a finite amount", field=field)
    minor = value.scaleb(exponent(currency))
    if minor != minor.to_integral_value():
        raise ValidationFailed(
            f"{field}: '{text}' has more decimals than {currency} allows ({exponent(currency)})",
            field=field,
        )
    return int(minor)


def format_amount(minor: int, currency: str) -> str:
    """1230 CNY -> '12.30' (for display and CSV; the API speaks minor units)."""
    return str(
        Decimal(minor).scaleb(-exponent(currency)).quantize(Decimal(1).scaleb(-exponent(currency)))
    )
