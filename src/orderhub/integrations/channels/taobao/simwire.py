"""The TOP simulator's wire pieces: its refusal, the error envelope, parameter readers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from orderhub.integrations.channels.taobao import protocol as top


class Refused(Exception):
    def __init__(self, code: int, msg: str, sub_code: str = "", sub_msg: str = "") -> None:
        super().__init__(msg)
        self.code, self.msg, self.sub_code, self.sub_msg = code, msg, sub_code, sub_msg


def error_body(code: int, msg: str, sub_code: str = "", sub_msg: str = "") -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "msg": msg}
    if sub_code:
        error["sub_code"] = sub_code
    if sub_msg:
        error["sub_msg"] = sub_msg
    error["request_id"] = uuid.uuid4().hex[:13]
    return {"error_response": error}


def required(params: dict[str, str], name: str) -> str:
    value = params.get(name, "")
    if not value:
        raise Refused(top.MISSING_ARGUMENTS, f"Missing required arguments:{name}")
    return value


def time_param(params: dict[str, str], name: str) -> datetime:
    try:
        return top.parse_top_time(required(params, name))
    except ValueError:
        raise Refused(top.INVALID_ARGUMENTS, f"Invalid arguments:{name}") from None


def paging(params: dict[str, str], max_size: int = top.MAX_PAGE_SIZE) -> tuple[int, int, bool]:
    try:
        page_no = int(params.get("page_no") or 1)
        page_size = int(params.get("page_size") or 40)
    except ValueError:
        raise Refused(top.INVALID_ARGUMENTS, "Invalid arguments:page_no/page_size") from None
    if page_no < 1 or not 1 <= page_size <= max_size:
        raise Refused(top.INVALID_ARGUMENTS, "Invalid arguments:page_no/page_size")
    return page_no, page_size, params.get("use_has_next") == "true"
