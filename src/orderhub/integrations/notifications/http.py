"""What the chat robots and the webhook share: one POST per notice, and what an answer means.

`send` never raises for a failed delivery; it reports each message for the outbox relay, which
owns retrying (docs/notifications.md):
- not reached, a timeout, HTTP 429 or 5xx: RETRY, at least the Retry-After the server sent;
- the provider's own "too fast" code in an HTTP 200 answer (each names its own): RETRY after the
  wait its docs give;
- any other error code, or another 4xx: REFUSED with that code, kept on the outbox row;
- a payload that is not a notice: REFUSED `invalid_payload` (sending it again would not help).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from orderhub.domain.notifications import Notice, Recipient, notice_of
from orderhub.integrations.notifications.render import absolute_link
from orderhub.integrations.retry_after import retry_after
from orderhub.services.ports import DeliveryResult, OutboxMessage, Outcome

DEFAULT_TIMEOUT_S = 5.0
JSON_TYPE = "application/json; charset=utf-8"


def json_body(document: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON (not \\u-escaped: providers count the bytes of what they receive)."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Post:
    """One request to make for one notice."""

    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class HttpNotifier:
    """Posts each notice on its own; a subclass says how to build the request (`post`) and,
    for providers that answer HTTP 200 with an error code, where the code is and which codes
    mean "too fast" (`code_fields`, `retry_codes`)."""

    provider: ClassVar[str]
    batch_size = 10
    # Where the answer's code and message are, in the order to look (newest shape first).
    code_fields: ClassVar[tuple[tuple[str, str], ...]] = ()
    # The provider's rate-limit codes and how long its docs say to wait, in seconds.
    retry_codes: ClassVar[Mapping[int, float]] = {}

    def __init__(
        self,
        recipient: Recipient,
        *,
        public_url: str,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.recipient, self.public_url, self.timeout_s = recipient, public_url, timeout_s
        # Signatures carry the wall-clock time the provider checks, never a test's fake clock.
        self.now = now or (lambda: datetime.now(UTC))
        self._http = httpx.Client(timeout=timeout_s, headers={"Content-Type": JSON_TYPE})

    def post(self, notice: Notice, message: OutboxMessage) -> Post:
        raise NotImplementedError

    def link(self, notice: Notice) -> str:
        return absolute_link(notice.link, self.public_url)

    def send(self, messages: Sequence[OutboxMessage]) -> list[DeliveryResult]:
        return [self._deliver(message) for message in messages]

    def close(self) -> None:
        self._http.close()

    def _deliver(self, message: OutboxMessage) -> DeliveryResult:
        mid = message.message_id
        try:
            request = self.post(notice_of(message.payload), message)
        except (KeyError, TypeError, ValueError) as error:
            return DeliveryResult(
                mid,
                Outcome.REFUSED,
                f"{message.kind} payload is not a notice: {error!r}",
                code="invalid_payload",
            )
        try:
            response = self._http.post(request.url, content=request.body, headers=request.headers)
        except httpx.TimeoutException:
            return DeliveryResult(
                mid, Outcome.RETRY, f"{self.provider} did not answer within {self.timeout_s:g} s"
            )
        except httpx.HTTPError as error:
            return DeliveryResult(mid, Outcome.RETRY, f"{self.provider} not reached: {error}")
        if response.status_code == 429 or response.status_code >= 500:
            return DeliveryResult(
                mid,
                Outcome.RETRY,
                f"{self.provider} answered HTTP {response.status_code}: {_excerpt(response)}",
                retry_after_s=retry_after(response.headers.get("Retry-After")),
            )
        return self.verdict(mid, response)

    def verdict(self, mid: str, response: httpx.Response) -> DeliveryResult:
        """A robot's answer: HTTP 200 with a code, 0 for taken."""
        try:
            answer = response.json()
        except ValueError:
            answer = None
        found = _coded(answer, self.code_fields)
        if found is None:
            return DeliveryResult(
                mid,
                Outcome.REFUSED,
                f"{self.provider} answered HTTP {response.status_code} without a code: "
                f"{_excerpt(response)}",
                code=f"http_{response.status_code}",
            )
        code, text = found
        if code == 0:
            return DeliveryResult(mid, Outcome.DELIVERED, answer={"code": 0, "message": text})
        if code in self.retry_codes:
            return DeliveryResult(
                mid,
                Outcome.RETRY,
                f"{self.provider} is rate-limiting this robot ({code}: {text})",
                code=str(code),
                retry_after_s=self.retry_codes[code],
            )
        return DeliveryResult(
            mid, Outcome.REFUSED, f"{self.provider} refused: {text}", code=str(code)
        )


def _coded(answer: object, fields: Sequence[tuple[str, str]]) -> tuple[int, str] | None:
    if not isinstance(answer, dict):
        return None
    for code_field, text_field in fields:
        value = answer.get(code_field)
        if isinstance(value, int):
            return value, str(answer.get(text_field, ""))
    return None


def _excerpt(response: httpx.Response) -> str:
    text = response.text.strip()
    return text[:300] if text else "(no body)"
