"""How the PDD gateway says no, as the client raises it."""

from __future__ import annotations

from typing import Any

from orderhub.services.ports import ChannelUnavailable

BUSINESS_ERROR = 50001  # 业务服务错误: the service looked at the order (or goods) and said no


class PddApiError(ChannelUnavailable):
    """PDD refused the call (bad sign, token, parameters...): retrying will not help."""

    def __init__(self, api: str, error: dict[str, Any]) -> None:
        self.code = error.get("error_code")
        self.error_msg = str(error.get("error_msg") or "")
        self.sub_code = error.get("sub_code")
        self.sub_msg = str(error.get("sub_msg") or "")
        super().__init__(f"{api}: PDD error {self.code} {self.error_msg} {self.sub_msg}".strip())
