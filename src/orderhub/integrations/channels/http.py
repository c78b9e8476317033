"""HTTP for channel clients: pacing, timeouts, and retries with backoff (tenacity).

Retried: timeouts, connection errors, 5xx and 429 (waiting at least its Retry-After), plus any
answer the channel's `retryable` says is a throttle in disguise (TOP and PDD answer HTTP 200 with
an error body when an app is over its limit). After `max_attempts`, ChannelUnavailable.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import structlog
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from orderhub.integrations.channels.registry import ShopConnection
from orderhub.services.ports import ChannelUnavailable

log = structlog.get_logger()


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float = 0.0) -> None:
        super().__init__(reason)
        self.reason, self.retry_after = reason, retry_after


class Pacer:
    """At most `rate_per_s` calls a second from this client (a simple spacing limiter)."""

    def __init__(self, rate_per_s: float) -> None:
        self._gap = 1.0 / rate_per_s if rate_per_s > 0 else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self._gap
        if start > now:
            time.sleep(start - now)


class ChannelHttp:
    def __init__(
        self,
        connection: ShopConnection,
        *,
        channel: str,
        retryable: Callable[[httpx.Response], str | None] | None = None,
        backoff_initial_s: float = 0.2,
        backoff_max_s: float = 5.0,
    ) -> None:
        self.connection, self.channel = connection, channel
        self._client = httpx.Client(base_url=connection.base_url, timeout=connection.timeout_s)
        self._pacer = Pacer(connection.rate_per_s)
        self._retryable = retryable
        self._backoff = wait_exponential_jitter(
            multiplier=backoff_initial_s, max=backoff_max_s, jitter=backoff_initial_s
        )

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        retry_after = error.retry_after if isinstance(error, _Retryable) else 0.0
        return max(retry_after, float(self._backoff(state)))

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """The channel's answer, retried through transient failures; ChannelUnavailable after."""
        retrying = Retrying(
            stop=stop_after_attempt(self.connection.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Retryable),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._once(method, url, attempt.retry_state.attempt_number, **kwargs)
        except _Retryable as error:
            raise ChannelUnavailable(
                f"{self.channel} shop {self.connection.shop}: {error.reason} "
                f"(gave up after {self.connection.max_attempts} attempts)"
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(self, method: str, url: str, attempt: int, **kwargs: Any) -> httpx.Response:
        self._pacer.wait()
        try:
            response = self._client.request(method, url, **kwargs)
        except (httpx.TimeoutException, httpx.TransportError) as error:
            log.warning(
                "channel call failed",
                channel=self.channel,
                shop=self.connection.shop,
                attempt=attempt,
                error=type(error).__name__,
            )
            raise _Retryable(f"{type(error).__name__} calling {url}") from None
        if response.status_code == 429 or response.status_code >= 500:
            log.warning(
                "channel call refused",
                channel=self.channel,
                shop=self.connection.shop,
                attempt=attempt,
                status=response.status_code,
            )
            raise _Retryable(
                f"HTTP {response.status_code} from {url}", _retry_after(response.headers)
            )
        throttled = self._retryable(response) if self._retryable else None
        if throttled:
            log.warning(
                "channel call throttled",
                channel=self.channel,
                shop=self.connection.shop,
                attempt=attempt,
                reason=throttled,
            )
            raise _Retryable(throttled, 1.0)
        return response

    def close(self) -> None:
        self._client.close()


def _retry_after(headers: Mapping[str, str]) -> float:
    value = headers.get("retry-after", "")
    try:
        return min(float(value), 60.0)
    except ValueError:
        return 1.0 if value else 0.0
