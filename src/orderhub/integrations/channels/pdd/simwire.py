"""The PDD simulator's wire pieces: PDD's error codes, its error envelope, parameter readers."""

from __future__ import annotations

import uuid
from typing import Any

# PDD's public error codes (see PROTOCOL.md).
E_PARAM, E_CLIENT_ID, E_SIGN, E_MISSING, E_TOKEN = 10000, 10016, 20004, 20007, 20032
E_INTERNAL, E_BUSINESS, E_THROTTLED = 50000, 50001, 70031
_MESSAGES = {
    E_PARAM: "参数错误",
    E_CLIENT_ID: "client_id不正确",
    E_SIGN: "签名sign校验失败",
    E_MISSING: "缺少必填请求参数",
    E_TOKEN: "access_token或client_id错误",
    E_INTERNAL: "系统内部错误",
    E_BUSINESS: "业务服务错误",
    E_THROTTLED: "调用过于频繁，请调整调用频率",
}


class PddError(Exception):
    def __init__(self, code: int, sub_msg: str = "", sub_code: str | None = None) -> None:
        super().__init__(f"{code} {sub_msg}")
        self.code, self.sub_msg, self.sub_code = code, sub_msg, sub_code


def error_envelope(code: int, sub_msg: str = "", sub_code: str | None = None) -> dict[str, Any]:
    return {
        "error_response": {
            "error_code": code,
            "error_msg": _MESSAGES.get(code, "错误"),
            "sub_code": sub_code,
            "sub_msg": sub_msg,
            "request_id": uuid.uuid4().hex,
        }
    }


def integer(params: dict[str, str], name: str, default: int | None = None) -> int:
    text = params.get(name)
    if text is None or text == "":
        if default is None:
            raise PddError(E_MISSING, f"缺少参数 {name}")
        return default
    try:
        return int(text)
    except ValueError:
        raise PddError(E_PARAM, f"{name} 不是整数: {text}") from None
