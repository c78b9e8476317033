"""Qimen signing against a published known answer."""

from __future__ import annotations

from orderhub.integrations.wms.qimen.signing import concatenate, sign, verify

# The worked example left in the public Go client yellbuy/go-ec-openapi (qimen/client.go,
# getSign): these parameters, an empty XML request and this secret sign to the digest below.
PARAMS = {
    "app_key": "23268761",
    "format": "xml",
    "method": "taobao.qimen.entryorder.create",
    "sign_method": "md5",
    "timestamp": "2020-04-08 10:56:00",
    "v": "2.0",
}
BODY = b"<request></request>"
SECRET = "b17cc059ffba3f6cf0d9131359d0be2a"
EXPECTED = "12104E748A8F2DAD3EBA9F735A8D9C4F"


def test_md5_signature_matches_the_published_example() -> None:
    assert sign(PARAMS, BODY, SECRET) == EXPECTED


def test_query_parameters_are_sorted_by_name_case_sensitively() -> None:
    # ASCII order puts customerId's capital I after the lower-case letters of "customer".
    assert concatenate({"v": "2.0", "customerId": "C1", "app_key": "k", "customer": "x"}) == (
        "app_keykcustomerxcustomerIdC1v2.0"
    )


def test_the_body_is_signed_after_the_parameters() -> None:
    assert sign(PARAMS, b'{"a":1}', SECRET) != sign(PARAMS, BODY, SECRET)


def test_the_sign_itself_and_empty_values_are_left_out() -> None:
    extras = {**PARAMS, "sign": "whatever", "customerId": ""}
    assert sign(extras, BODY, SECRET) == EXPECTED


def test_verify_accepts_the_right_signature_and_refuses_any_change() -> None:
    signed = {**PARAMS, "sign": EXPECTED}
    assert verify(signed, BODY, SECRET)
    assert verify({**signed, "sign": EXPECTED.lower()}, BODY, SECRET)
    assert not verify(signed, b"<request/>", SECRET)
    assert not verify({**signed, "v": "1.0"}, BODY, SECRET)
    assert not verify(signed, BODY, "another-secret")
    assert not verify({**signed, "sign_method": "hmac"}, BODY, SECRET)
    assert not verify(PARAMS, BODY, SECRET)
