"""TOP request signing: every parameter but `sign`, sorted by name, name+value concatenated.

md5:         MD5(secret + concatenation + secret)
hmac:        HMAC-MD5(key=secret, concatenation)
hmac-sha256: HMAC-SHA256(key=secret, concatenation)
The digest is written as upper-case hex. Parameters with an empty value are left out, as the
official SDKs do, so an optional parameter sent empty does not change the signature.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

SIGN_METHODS = ("md5", "hmac", "hmac-sha256")


class UnknownSignMethod(ValueError):
    pass


def concatenate(params: Mapping[str, str]) -> str:
    return "".join(f"{k}{v}" for k, v in sorted(params.items()) if k != "sign" and k and v)


def sign(params: Mapping[str, str], secret: str, method: str = "md5") -> str:
    text = concatenate(params).encode("utf-8")
    key = secret.encode("utf-8")
    if method == "md5":
        digest = hashlib.md5(key + text + key).digest()
    elif method == "hmac":
        digest = hmac.new(key, text, hashlib.md5).digest()
    elif method == "hmac-sha256":
        digest = hmac.new(key, text, hashlib.sha256).digest()
    else:
        raise UnknownSignMethod(f"sign_method '{method}' is not one of {', '.join(SIGN_METHODS)}")
    return digest.hex().upper()


def verify(params: Mapping[str, str], secret: str) -> bool:
    """True when `params['sign']` is the signature of the rest under their `sign_method`."""
    given = params.get("sign", "")
    try:
        expected = sign(params, secret, params.get("sign_method", "md5"))
    except UnknownSignMethod:
        return False
    return hmac.compare_digest(given.upper(), expected)
