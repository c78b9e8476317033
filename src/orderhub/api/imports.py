"""/api/v1/imports: orders from a CSV or Excel file, with a report of where every row went."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from pydantic import BaseModel

from orderhub.access import Requires, hub_of
from orderhub.api.errors import PROBLEM
from orderhub.domain.actors import Actor
from orderhub.errors import OrderHubError, ValidationFailed
from orderhub.integrations.files import FileBook
from orderhub.permissions import Permission
from orderhub.services.file_import import ImportReport, import_file

router = APIRouter(prefix="/api/v1", tags=["imports"])

MAX_BYTES = 10 * 1024 * 1024


class FileTooLarge(OrderHubError):
    code = "file_too_large"
    status = 413
    title = "The file is too large"


class OrderResultOut(BaseModel):
    order_no: str | None
    rows: list[int]
    outcome: str
    order_id: int | None
    reason: str | None


class TotalsOut(BaseModel):
    rows_read: int
    rows_imported: int
    rows_quarantined: int
    balanced: bool
    orders: dict[str, int]


class ImportReportOut(BaseModel):
    filename: str
    shop: str
    read_as: str
    totals: TotalsOut
    orders: list[OrderResultOut]

    @classmethod
    def of(cls, report: ImportReport) -> ImportReportOut:
        return cls(
            filename=report.filename,
            shop=report.shop,
            read_as=report.described,
            totals=TotalsOut(**report.totals()),
            orders=[
                OrderResultOut(
                    order_no=o.order_no,
                    rows=list(o.rows),
                    outcome=o.outcome,
                    order_id=o.order_id,
                    reason=o.reason,
                )
                for o in report.orders
            ],
        )


@router.post(
    "/imports",
    response_model=ImportReportOut,
    responses={413: {"description": "The file is over 10 MB", "content": {PROBLEM: {}}}},
)
def import_orders(
    request: Request,
    file: Annotated[UploadFile, File(description="CSV (UTF-8 or GBK) or .xlsx, at most 10 MB")],
    shop: Annotated[str, Form(min_length=1, description="the shop the orders belong to")],
    sheet: Annotated[str | None, Form(description="the sheet to read; default the first")] = None,
    actor: Actor = Depends(Requires(Permission.ORDER_CREATE)),
) -> ImportReportOut:
    """Import orders from a file (template: docs/file-import.md). Rows that do not fit are
    quarantined with their row numbers; the totals say where every row went."""
    # The upload is already spooled by Starlette; a proxy in front should cap the body too.
    data = file.file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise FileTooLarge(
            f"the file is over {MAX_BYTES // (1024 * 1024)} MB; split it into smaller files"
        )
    if not data:
        raise ValidationFailed("the file is empty", field="file")
    hub = hub_of(request)
    mapping_dir = hub.settings.mapping_dir
    report = import_file(
        hub.uow,
        FileBook(Path(mapping_dir) if mapping_dir else None),
        path_or_bytes=data,
        filename=file.filename or "upload.csv",
        shop=shop.strip(),
        actor=actor,
        review_required=hub.settings.review_required,
        sheet=sheet or None,
    )
    return ImportReportOut.of(report)
