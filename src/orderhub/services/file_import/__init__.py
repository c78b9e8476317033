"""Orders from a CSV or Excel file enter as the channel "file", through the same mapping,
validation and quarantine as every channel, and the report says where each row went.

The file adapter (integrations/files/, reached through `FileSource`) reads the rows and groups
them into one payload per order, each keeping its row numbers; rows it cannot group come back as
`RowProblem`s. Every row read ends in exactly one order outcome or in quarantine:
rows read = rows of created/updated/ignored orders + rows quarantined.

Re-imports (docs/file-import.md): an order's version is the file's modified-time column when it
has one; else the file's stamp (given by the caller, else the import time) to the second, with
the microseconds set from a fingerprint of the order's rows. The same rows again reuse the
version the pool holds, so they are a repeat and ignored whatever the stamp; changed rows in a
newer file (or an upload without a stamp: the import is the newest word) update the order; an
older file never moves it back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from orderhub.domain.actors import Actor
from orderhub.domain.channels import Quarantined
from orderhub.errors import ValidationFailed
from orderhub.permissions import Permission, require
from orderhub.services.channel_ingest import IGNORED, QUARANTINED, Ingested, ingest_payloads
from orderhub.services.file_import.port import FileContents, FileSource, RowProblem
from orderhub.services.file_import.report import OUTCOMES, ImportReport, OrderResult, rows_text
from orderhub.services.file_import.versions import file_version, fingerprint
from orderhub.services.ports import UnitOfWorkFactory

__all__ = [
    "CHANNEL",
    "OUTCOMES",
    "FileContents",
    "FileSource",
    "ImportReport",
    "OrderResult",
    "RowProblem",
    "file_version",
    "fingerprint",
    "import_file",
    "rows_text",
]

CHANNEL = "file"
SOURCE = "file"
PAGE = 500  # orders per ingest transaction
_LINE_FIELD = re.compile(r"^lines\[(\d+)\]")


def import_file(
    uows: UnitOfWorkFactory,
    files: FileSource,
    *,
    path_or_bytes: bytes | Path,
    filename: str,
    shop: str,
    actor: Actor,
    review_required: bool,
    file_modified_at: datetime | None = None,
    sheet: str | None = None,
) -> ImportReport:
    """Read, group and ingest one file of orders for `shop`; nothing read goes unaccounted."""
    require(actor, Permission.ORDER_CREATE)
    if not shop.strip():
        raise ValidationFailed("say which shop the file's orders belong to", field="shop")
    contents = files.read(path_or_bytes, filename=filename, shop=shop, sheet=sheet)
    report = ImportReport(filename, shop, contents.described, contents.rows_read)
    notes = {"_file": filename, "_imported_by": actor.id}
    for item in [*contents.payloads, *(p.payload for p in contents.problems)]:
        item.update(notes, _digest=fingerprint(item))
    with uows.read_only() as uow:
        now = uow.clock.now()
        waiting = {
            q.payload.get("_digest"): q
            for q in uow.quarantine.list(status="open", shop=shop, limit=100_000)
            if q.channel == CHANNEL
        }
        numbers = [str(p["order_no"]) for p in contents.payloads]
        applied: dict[str, datetime | None] = dict.fromkeys(numbers)
        for no in uow.orders.known_numbers(CHANNEL, shop, numbers):
            found = uow.orders.find(CHANNEL, shop, no)
            applied[no] = found.channel_modified_at if found else None
    given = file_modified_at or contents.modified_at
    stamp = (given or now).replace(microsecond=0)
    fresh: list[dict[str, Any]] = []
    for payload in contents.payloads:
        rows = tuple(payload["_rows"])
        if (entry := waiting.get(payload["_digest"])) is not None:
            report.orders.append(_still_waiting(payload["order_no"], rows, entry))
            continue
        if not str(payload.get("modified_at") or "").strip():
            version = file_version(
                stamp, payload["_digest"], applied[payload["order_no"]], newest=given is None
            )
            payload["modified_at"] = version.isoformat()
        fresh.append(payload)
    _quarantine_problems(uows, shop, contents.problems, waiting, report)
    for start in range(0, len(fresh), PAGE):
        page = fresh[start : start + PAGE]
        results = ingest_payloads(
            uows,
            channel=CHANNEL,
            shop=shop,
            mapping=files.mapping(),
            payloads=page,
            source=SOURCE,
            review_required=review_required,
            actor=actor,  # the timeline names who imported the file
        )
        report.orders += [_result(p, r) for p, r in zip(page, results, strict=True)]
    report.orders.sort(key=lambda o: o.rows[0])
    return report


def _still_waiting(order_no: str | None, rows: tuple[int, ...], entry: Quarantined) -> OrderResult:
    return OrderResult(
        order_no,
        rows,
        QUARANTINED,
        reason=f"{rows_text(rows)}: unchanged since quarantine entry #{entry.id}, not added "
        f"again: {entry.reason}",
    )


def _quarantine_problems(
    uows: UnitOfWorkFactory,
    shop: str,
    problems: Sequence[RowProblem],
    waiting: Mapping[Any, Quarantined],
    report: ImportReport,
) -> None:
    new = []
    for problem in problems:
        entry = waiting.get(problem.payload["_digest"])
        if entry is not None:
            reason = f"{problem.reason} (unchanged since quarantine entry #{entry.id})"
            report.orders.append(
                OrderResult(problem.order_no, problem.rows, QUARANTINED, None, reason)
            )
        else:
            new.append(problem)
    if not new:
        return
    with uows() as uow:
        now = uow.clock.now()
        for problem in new:
            uow.quarantine.add(
                Quarantined(
                    channel=CHANNEL,
                    shop=shop,
                    channel_order_no=problem.order_no,
                    field=problem.field,
                    reason=problem.reason,
                    payload=problem.payload,
                    source=SOURCE,
                    received_at=now,
                )
            )
            uow.payloads.add(
                channel=CHANNEL,
                shop=shop,
                channel_order_no=problem.order_no,
                modified_at=None,
                received_at=now,
                source=SOURCE,
                outcome=QUARANTINED,
                order_id=None,
                payload=problem.payload,
            )
        uow.commit()
    report.orders += [OrderResult(p.order_no, p.rows, QUARANTINED, None, p.reason) for p in new]


def _result(payload: Mapping[str, Any], ingested: Ingested) -> OrderResult:
    rows = tuple(payload["_rows"])
    reason = None
    if ingested.outcome == QUARANTINED:
        detail = ingested.detail or "refused"
        line = _LINE_FIELD.match(detail)
        lines = payload.get("lines") or []
        if line and int(line.group(1)) < len(lines):
            reason = f"{rows_text([lines[int(line.group(1))]['_row']])}: {detail}"
        else:
            reason = f"{rows_text(rows)}: {detail}"
    elif ingested.outcome == IGNORED:
        reason = f"{rows_text(rows)}: not newer than the version in the pool; nothing changed"
    return OrderResult(
        ingested.channel_order_no or payload.get("order_no"),
        rows,
        ingested.outcome,
        ingested.order_id,
        reason,
    )
