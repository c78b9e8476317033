"""JD router signing and throttle detection.

The known answer is hand-computed (`printf '%s' ... | md5sum`): the SDKs publish no test vector.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from orderhub.integrations.channels.jd.client import throttled
from orderhub.integrations.channels.jd.protocol import error_body
from orderhub.integrations.channels.jd.signing import check, jd_time, parse_jd_time, sign

PARAMS = {
    "method": "jingdong.pop.order.get",
    "app_key": "APPKEY",
    "access_token": "tok",
    "timestamp": "2026-11-25 16:30:00",
    "v": "2.0",
    "360buy_param_json": '{"order_id":"30000000001"}',
}
# md5("testsecret" + "360buy_param_json{...}access_tokentokapp_keyAPPKEY
#      methodjingdong.pop.order.gettimestamp2026-11-25 16:30:00v2.0" + "testsecret"), upper-cased
KNOWN_SIGN = "A9C34B8D56B822E837E1F20810CC3082"


def test_sign_is_upper_hex_md5_of_sorted_names_and_values_wrapped_in_the_secret() -> None:
    assert sign(PARAMS, "testsecret") == KNOWN_SIGN


def test_sign_leaves_out_the_sign_parameter_itself() -> None:
    assert sign({**PARAMS, "sign": "whatever"}, "testsecret") == KNOWN_SIGN


def test_check_accepts_the_right_sign_and_refuses_a_wrong_secret_or_a_missing_sign() -> None:
    signed = {**PARAMS, "sign": KNOWN_SIGN}
    assert check(signed, "testsecret")
    assert not check(signed, "other-secret")
    assert not check(PARAMS, "testsecret")


def test_check_refuses_a_request_whose_business_json_was_changed() -> None:
    tampered = {**PARAMS, "sign": KNOWN_SIGN, "360buy_param_json": '{"order_id":"30000000002"}'}
    assert not check(tampered, "testsecret")


def test_jd_times_are_beijing_wall_clock_text() -> None:
    assert jd_time(datetime(2026, 11, 25, 8, 30, tzinfo=UTC)) == "2026-11-25 16:30:00"
    assert parse_jd_time("2026-11-25 16:30:00") == datetime(2026, 11, 25, 8, 30, tzinfo=UTC)


def test_a_naive_time_is_refused_rather_than_guessed() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        jd_time(datetime(2026, 11, 25, 8, 30))


def test_app_call_limited_in_a_200_body_is_a_throttle_to_retry() -> None:
    assert throttled(httpx.Response(200, json=error_body("2"))) == "JD error 2 App Call Limited"


def test_a_bad_signature_or_a_normal_answer_is_not_a_throttle() -> None:
    assert throttled(httpx.Response(200, json=error_body("12"))) is None
    assert throttled(httpx.Response(200, json={"jingdong_pop_order_get_responce": {}})) is None
    assert throttled(httpx.Response(200, text="<html>")) is None
