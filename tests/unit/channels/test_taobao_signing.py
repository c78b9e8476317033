"""TOP signing against published known answers."""

from __future__ import annotations

from orderhub.integrations.channels.taobao.signing import concatenate, sign, verify

# The worked example of TOP's signature document (open.taobao.com docId=101617).
OFFICIAL = {
    "method": "taobao.item.seller.get",
    "app_key": "12345678",
    "session": "test",
    "timestamp": "2016-01-01 12:00:00",
    "format": "json",
    "v": "2.0",
    "sign_method": "md5",
    "fields": "num_iid,title,nick,price,num",
    "num_iid": "11223344",
}
# Name + value concatenate to RFC 2202 / RFC 4231 test case 2's data, "what do ya want for
# nothing?", so the HMAC variants meet the RFCs' published digests (key "Jefe").
RFC_CASE_2 = {"what do ya want ": "for nothing?"}


def test_md5_signature_matches_the_official_worked_example() -> None:
    assert sign(OFFICIAL, "helloworld", "md5") == "66987CB115214E59E6EC978214934FB8"


def test_parameters_are_sorted_by_name_and_concatenated_without_separators() -> None:
    assert concatenate({"foo": "1", "bar": "2", "foo_bar": "3", "foobar": "4"}) == (
        "bar2foo1foo_bar3foobar4"
    )


def test_hmac_is_hmac_md5_keyed_with_the_secret() -> None:
    assert sign(RFC_CASE_2, "Jefe", "hmac") == "750C783E6AB0B503EAA86E310A5DB738"


def test_hmac_sha256_is_keyed_with_the_secret() -> None:
    assert sign(RFC_CASE_2, "Jefe", "hmac-sha256") == (
        "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843"
    )


def test_the_sign_itself_and_empty_values_are_left_out() -> None:
    with_extras = {**OFFICIAL, "sign": "whatever", "buyer_nick": ""}
    assert sign(with_extras, "helloworld", "md5") == sign(OFFICIAL, "helloworld", "md5")


def test_verify_accepts_the_right_signature_and_refuses_a_changed_parameter() -> None:
    signed = {**OFFICIAL, "sign": sign(OFFICIAL, "helloworld", "md5")}
    assert verify(signed, "helloworld")
    assert not verify({**signed, "num_iid": "11223345"}, "helloworld")
    assert not verify(signed, "another-secret")
    assert not verify({**signed, "sign_method": "sha1"}, "helloworld")
