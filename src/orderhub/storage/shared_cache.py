"""Data read on every write but changed seldom (custom fields, rules), shared by the units of
work of one factory: cleared when this factory commits a change, re-read within `ttl_s` when
someone else (another process, SQL by hand) changed it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class SharedCache(Generic[T]):
    def __init__(self, ttl_s: float) -> None:
        self._ttl_s = ttl_s
        self._lock = threading.Lock()
        self._generation = 0
        self._entry: tuple[int, float, T] | None = None

    def get(self, load: Callable[[], T]) -> T:
        entry, now = self._entry, time.monotonic()
        if entry is not None and entry[0] == self._generation and now - entry[1] < self._ttl_s:
            return entry[2]
        generation = self._generation
        value = load()
        with self._lock:
            # A change that committed while we read may not be in `value`: keep nothing.
            if generation == self._generation:
                self._entry = (generation, now, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entry = None
