"""Qimen request signing: MD5(secret + sorted name+value query pairs + body + secret), upper hex.

Unlike TOP, the business payload travels as the raw HTTP body (XML or, with format=json, JSON),
so the body bytes are signed as sent, after the query parameters. `sign` itself is left out;
so are parameters with an empty name or value, as the TOP SDKs the Qimen SDK grew from do.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

SIGN_METHOD = "md5"


def concatenate(params: Mapping[str, str]) -> str:
    return "".join(f"{k}{v}" for k, v in sorted(params.items()) if k != "sign" and k and v)


def sign(params: Mapping[str, str], body: bytes, secret: str) -> str:
    key = secret.encode("utf-8")
    text = concatenate(params).encode("utf-8")
    return hashlib.md5(key + text + body + key).hexdigest().upper()


def verify(params: Mapping[str, str], body: bytes, secret: str) -> bool:
    """True when `params['sign']` signs the other parameters and this exact body."""
    given = params.get("sign", "")
    if not given or params.get("sign_method", SIGN_METHOD).lower() != SIGN_METHOD:
        return False
    return hmac.compare_digest(given.upper(), sign(params, body, secret))
