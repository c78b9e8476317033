"""An order's version when the file has no modified-time column (docs/file-import.md).

The file's stamp to the second, with the microseconds set from a fingerprint of the order's rows:
the same rows again reuse the version the pool holds (a repeat, ignored); changed rows take the
new stamp (newer: an update; older: ignored, nothing moves back).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any


def fingerprint(payload: Mapping[str, Any]) -> str:
    """The order's rows as data, without row numbers or import notes (keys starting with _)."""

    def strip(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: strip(v) for k, v in value.items() if not str(k).startswith("_")}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    text = json.dumps(strip(payload), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_version(
    stamp: datetime, digest: str, applied: datetime | None, *, newest: bool = False
) -> datetime:
    """The version of an order's rows: the applied one when the rows are the ones applied.

    `newest`: the stamp is the import time (no file stamp), so changed rows are newer than any
    version applied before, even one from the same second.
    """
    tag = int(digest[:8], 16) % 1_000_000
    if applied is not None and applied.microsecond == tag:
        return applied
    version = stamp.astimezone(UTC).replace(microsecond=tag)
    if newest and applied is not None and version <= applied:
        version = applied.replace(microsecond=tag) + timedelta(seconds=1)
    return version
