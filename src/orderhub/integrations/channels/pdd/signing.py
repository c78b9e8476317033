"""PDD open-platform request signing (POP `sign`, MD5).

Every parameter of the call (the common ones and the business ones, `sign` itself excluded) is
sorted by name in ASCII order and written as name+value with nothing between; the client secret
is put before and after that string; the sign is the MD5 of it in upper-case hex. PDD has no
webhook for ordinary ISV apps (its message service is a websocket), so there is nothing to verify
on our side beyond this.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any


def param_text(value: Any) -> str:
    """A parameter value as it is signed and sent: booleans in lower case (as the gateway reads
    them; 'True' breaks the sign), lists and objects as compact JSON, everything else as str."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def sign(params: Mapping[str, Any], client_secret: str) -> str:
    """The `sign` of a call; `params` holds every parameter but `sign` (None values are not sent,
    so they are not signed)."""
    body = "".join(
        f"{name}{param_text(params[name])}"
        for name in sorted(params)
        if name != "sign" and params[name] is not None
    )
    text = f"{client_secret}{body}{client_secret}"
    return hashlib.md5(text.encode("utf-8")).hexdigest().upper()


def signed(params: Mapping[str, Any], client_secret: str) -> dict[str, str]:
    """The parameters as they go on the wire (text values) with their `sign` added."""
    wire = {name: param_text(value) for name, value in params.items() if value is not None}
    wire["sign"] = sign(wire, client_secret)
    return wire


def verify(params: Mapping[str, Any], client_secret: str) -> bool:
    """Whether the call carries the sign this secret gives (constant-time comparison)."""
    given = params.get("sign")
    if not isinstance(given, str) or not given:
        return False
    return hmac.compare_digest(given.upper(), sign(params, client_secret))
