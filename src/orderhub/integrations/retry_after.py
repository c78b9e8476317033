"""Reading a server's Retry-After, for every integration that retries through the outbox."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def retry_after(value: str | None) -> float | None:
    """Retry-After in seconds, from its delta-seconds or its HTTP-date form."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        at = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((at - datetime.now(UTC)).total_seconds(), 0.0)
