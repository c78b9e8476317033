"""JD open platform (JOS) request signing.

The router checks `sign` over every request parameter but `sign` itself: the names sorted, each
name followed by its value, the whole wrapped in the app secret, MD5, upper-case hex. The business
parameters travel as one JSON string, `360buy_param_json`, so they are signed as that string.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

SIGN_PARAM = "sign"
# The router reads and writes times as Beijing wall-clock time, without an offset.
JD_ZONE = ZoneInfo("Asia/Shanghai")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def sign(params: Mapping[str, str], secret: str) -> str:
    """Upper-case hex MD5 of secret + k1v1k2v2... (names sorted) + secret, `sign` left out."""
    text = "".join(f"{name}{params[name]}" for name in sorted(params) if name != SIGN_PARAM)
    return hashlib.md5(f"{secret}{text}{secret}".encode()).hexdigest().upper()


def check(params: Mapping[str, str], secret: str) -> bool:
    """True when `sign` is present and right (compared in constant time)."""
    given = params.get(SIGN_PARAM, "")
    return bool(given) and hmac.compare_digest(given.upper(), sign(params, secret))


def jd_time(at: datetime) -> str:
    """An aware time as the router writes it: Beijing time, `yyyy-MM-dd HH:mm:ss`."""
    if at.tzinfo is None:
        raise ValueError(f"{at!r} has no time zone; JD times are converted from aware times")
    return at.astimezone(JD_ZONE).strftime(TIME_FORMAT)


def parse_jd_time(text: str) -> datetime:
    """`yyyy-MM-dd HH:mm:ss` in Beijing time, as an aware datetime."""
    return datetime.strptime(text.strip(), TIME_FORMAT).replace(tzinfo=JD_ZONE)
