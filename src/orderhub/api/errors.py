"""One place turns every error into RFC 9457 problem details; never a stack trace."""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from orderhub.errors import OrderHubError

PROBLEM = "application/problem+json"
log = structlog.get_logger()

_AMOUNT_FIELDS = {
    "goods_total",
    "shipping_fee",
    "discount",
    "tax",
    "paid_total",
    "unit_price",
    "line_discount",
}


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    instance: str,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body = {
        "type": f"urn:orderhub:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "code": code,
    }
    body.update({k: v for k, v in (extra or {}).items() if v is not None and k not in body})
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def orderhub_problem(request: Request, error: OrderHubError) -> JSONResponse:
    return problem(
        error.status, error.code, error.title, error.detail, request.url.path, error.extra
    )


def explain(error: dict[str, Any]) -> str:
    loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "header")]
    where = ".".join(loc) or "body"
    message = str(error.get("msg", "is not valid"))
    given = error.get("input")
    if loc and loc[-1] in _AMOUNT_FIELDS and error.get("type", "").startswith(("int", "float")):
        return (
            f"{where}: {given!r} is not an amount in minor units; amounts are whole numbers "
            "of the currency's smallest unit (1230 for 12.30 CNY), never decimals"
        )
    if error.get("type") == "missing":
        return f"{where} is missing"
    if error.get("type") == "json_invalid":
        return f"the body is not valid JSON ({error.get('ctx', {}).get('error', message)})"
    if error.get("type") == "extra_forbidden":
        return f"{where} is not a known field; remove it (custom data goes in custom_fields)"
    return f"{where}: {message}" + (
        f" (got {given!r})" if not isinstance(given, dict | list) else ""
    )


def validation_problem(request: Request, error: RequestValidationError) -> JSONResponse:
    errors = list(error.errors())
    details = [explain(e) for e in errors]
    fields = [".".join(str(p) for p in e.get("loc", ())[1:]) for e in errors]
    return problem(
        422,
        "validation_failed",
        "The data is not valid",
        "; ".join(details),
        request.url.path,
        {"errors": [{"field": f, "message": d} for f, d in zip(fields, details, strict=True)]},
    )


def http_problem(request: Request, error: HTTPException) -> JSONResponse:
    code = {404: "not_found", 405: "method_not_allowed", 400: "bad_request"}.get(
        error.status_code, "http_error"
    )
    detail = str(error.detail)
    if error.status_code == 404 and detail == "Not Found":
        detail = f"nothing at {request.url.path}; see /docs for the API's routes"
    return problem(error.status_code, code, detail, detail, request.url.path)


def log_unexpected(request: Request, error: Exception) -> str:
    """Log the failure with a reference and return the detail the user sees (no stack trace)."""
    reference = uuid.uuid4().hex[:12]
    log.error("unhandled error", path=request.url.path, reference=reference, exc_info=error)
    return (
        f"OrderHub failed to handle this request (reference {reference}); nothing was "
        "changed by the failed step. Retry, and report the reference if it persists."
    )
