"""PDD POP signing: the known answer from PDD's API guide, and what the sign covers."""

from __future__ import annotations

import httpx

from orderhub.integrations.channels.pdd.client import throttled
from orderhub.integrations.channels.pdd.signing import sign, signed, verify

# The worked example of PDD's "API调用指南" (open.pinduoduo.com, idStr=8EC06C399636041E).
GUIDE_PARAMS = {
    "access_token": "asd78172s8ds9a921j9qqwda12312w1w21211",
    "client_id": "1",
    "data_type": "XML",
    "type": "pdd.order.number.list.get",
    "timestamp": "1480411125",
    "order_status": "1",
    "page": "1",
    "page_size": "10",
}
GUIDE_SIGN = "E4DE3ED21002510DED352819E7AE6775"


def test_sign_matches_the_worked_example_of_pdds_guide() -> None:
    assert sign(GUIDE_PARAMS, "testSecret") == GUIDE_SIGN


def test_numbers_are_signed_as_the_text_they_are_sent_as() -> None:
    as_numbers = {**GUIDE_PARAMS, "client_id": 1, "timestamp": 1480411125, "page": 1}
    assert sign(as_numbers, "testSecret") == GUIDE_SIGN


def test_sign_ignores_a_sign_already_present_and_values_not_sent() -> None:
    with_extras = {**GUIDE_PARAMS, "sign": "WHATEVER", "trade_type": None}
    assert sign(with_extras, "testSecret") == GUIDE_SIGN


def test_booleans_are_signed_in_lower_case() -> None:
    wire = signed({"type": "x", "use_has_next": True}, "s")
    assert wire["use_has_next"] == "true"
    assert verify(wire, "s")


def test_verify_refuses_a_wrong_secret_a_changed_value_and_a_missing_sign() -> None:
    wire = signed(GUIDE_PARAMS, "testSecret")
    assert wire["sign"] == GUIDE_SIGN
    assert verify(wire, "testSecret")
    assert not verify(wire, "otherSecret")
    assert not verify({**wire, "page": "2"}, "testSecret")
    assert not verify(GUIDE_PARAMS, "testSecret")


def test_an_over_the_limit_answer_inside_http_200_is_retryable() -> None:
    body = {"error_response": {"error_code": 70031, "error_msg": "调用过于频繁，请调整调用频率"}}
    assert throttled(httpx.Response(200, json=body)) is not None


def test_a_refusal_or_an_order_answer_is_not_retried() -> None:
    refused = {"error_response": {"error_code": 20004, "error_msg": "签名sign校验失败"}}
    assert throttled(httpx.Response(200, json=refused)) is None
    ok = {"order_info_get_response": {"order_info": {"order_sn": "201125-1"}}}
    assert throttled(httpx.Response(200, json=ok)) is None
