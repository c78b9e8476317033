"""Placeholder until the console lands (replaced by the console work)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

STATIC_DIR = Path(__file__).parent / "static"
router = APIRouter()


def render_error(request: Request, status: int, title: str, detail: str, code: str) -> Response:
    return HTMLResponse(f"<h1>{title}</h1><p>{detail}</p>", status_code=status)
