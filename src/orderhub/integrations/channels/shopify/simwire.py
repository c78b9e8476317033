"""The Shopify simulator's HTTP pieces: token check, error bodies, the call-limit header."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from fastapi import Request, Response

from orderhub.integrations.channels.shopify import signing

BAD_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
THROTTLED = "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."  # noqa: E501
_ERRORS = {429: THROTTLED, 500: "Internal Server Error"}


def error_body(status: int) -> bytes:
    return json.dumps({"errors": _ERRORS.get(status, "Error")}).encode()


def errors(status: int, errors: Any) -> Response:
    return Response(
        json.dumps({"errors": errors}), status_code=status, media_type="application/json"
    )


class CallBucket:
    """Shopify's REST leaky bucket, for the X-Shopify-Shop-Api-Call-Limit header."""

    size, leak_per_s = 40, 2.0

    def __init__(self) -> None:
        self._level, self._at = 0.0, time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> str:
        with self._lock:
            now = time.monotonic()
            self._level = max(0.0, self._level - (now - self._at) * self.leak_per_s) + 1
            self._at = now
            return f"{min(round(self._level), self.size)}/{self.size}"


class Wire:
    """What every route does around its answer: check the token, count the call."""

    def __init__(self, access_token: str) -> None:
        self.access_token, self.bucket = access_token, CallBucket()

    def refused(self, request: Request) -> Response | None:
        if request.headers.get(signing.ACCESS_TOKEN_HEADER) != self.access_token:
            return errors(401, BAD_TOKEN)
        return None

    def answer(self, body: dict[str, Any], link: str | None = None, status: int = 200) -> Response:
        headers = {"X-Shopify-Shop-Api-Call-Limit": self.bucket.take()}
        if link:
            headers["Link"] = link
        return Response(
            json.dumps(body), status_code=status, media_type="application/json", headers=headers
        )
