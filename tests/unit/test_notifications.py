"""Recipients are checked per kind with errors that say what to write; robots' credentials are
masked when shown; a notice too long for a channel is cut line by line and says so."""

from __future__ import annotations

import pytest

from orderhub.domain.notifications import (
    Notice,
    Recipient,
    RecipientKind,
    Severity,
    check_recipient,
    masked_address,
    notice_of,
    notice_payload,
    recipient_kind,
)
from orderhub.errors import ValidationFailed
from orderhub.integrations.notifications.render import fit_lines, subject

K = RecipientKind
WECOM_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7abc-4bc4-97a0"
DINGTALK_URL = "https://oapi.dingtalk.com/robot/send?access_token=566cc69da782ec"
FEISHU_URL = "https://open.feishu.cn/open-apis/bot/v2/hook/f19e2b3c-aaaa"


def _recipient(kind: RecipientKind, address: str, secret: str = "", code: str = "ops") -> Recipient:
    return Recipient(code=code, name="Ops", kind=kind, address=address, secret=secret)


def _refusal(recipient: Recipient) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as raised:
        check_recipient(recipient)
    return raised.value


def test_email_addresses_are_tidied_and_repeats_dropped() -> None:
    checked = check_recipient(_recipient(K.EMAIL, " a@example.com; b@example.org,a@example.com "))
    assert checked.address == "a@example.com, b@example.org"


def test_a_malformed_email_address_is_named() -> None:
    error = _refusal(_recipient(K.EMAIL, "ops@example.com, lead-at-example.com"))
    assert error.field == "address"
    assert "lead-at-example.com" in error.detail


@pytest.mark.parametrize(
    ("kind", "address", "expected"),
    [
        (K.WECOM, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send", "?key="),
        (K.WECOM, "https://qyapi.weixin.qq.com/other?key=1", "/cgi-bin/webhook/send"),
        (K.DINGTALK, "https://oapi.dingtalk.com/robot/send", "access_token"),
        (K.FEISHU, "https://open.feishu.cn/open-apis/bot/v2/hook/", "/open-apis/bot/v2/hook/"),
        (K.WEBHOOK, "ftp://alerts.example.com", "http(s) URL"),
    ],
)
def test_a_robot_address_of_the_wrong_shape_is_refused_with_an_example(
    kind: RecipientKind, address: str, expected: str
) -> None:
    error = _refusal(_recipient(kind, address, "secret" if kind is K.WEBHOOK else ""))
    assert error.field == "address"
    assert expected in error.detail


def test_a_robot_on_a_local_host_is_accepted_by_its_shape() -> None:
    local = "http://127.0.0.1:8123/cgi-bin/webhook/send?key=k1"
    assert check_recipient(_recipient(K.WECOM, local)).address == local


def test_secrets_go_only_where_the_channel_signs_with_them() -> None:
    assert _refusal(_recipient(K.WECOM, WECOM_URL, "s")).field == "secret"
    assert "X-OrderHub-Signature" in _refusal(_recipient(K.WEBHOOK, "https://a.example/h")).detail
    assert "SEC" in _refusal(_recipient(K.DINGTALK, DINGTALK_URL, "not-a-dingtalk-secret")).detail
    assert check_recipient(_recipient(K.DINGTALK, DINGTALK_URL, "SEC123")).secret == "SEC123"
    assert check_recipient(_recipient(K.FEISHU, FEISHU_URL)).secret == ""


def test_a_code_alert_rules_cannot_name_is_refused() -> None:
    assert _refusal(_recipient(K.EMAIL, "a@example.com", code="ops lead")).field == "code"


def test_an_unknown_kind_lists_the_kinds() -> None:
    with pytest.raises(ValidationFailed, match="email, wecom, dingtalk, feishu, webhook"):
        recipient_kind("sms")
    assert recipient_kind(" WeCom ") is K.WECOM


def test_robots_credentials_are_masked_and_other_addresses_shown_whole() -> None:
    assert masked_address(_recipient(K.WECOM, WECOM_URL)).endswith("send?key=693a…")
    assert masked_address(_recipient(K.DINGTALK, DINGTALK_URL)).endswith("access_token=566c…")
    assert masked_address(_recipient(K.FEISHU, FEISHU_URL)).endswith("/hook/f19e…")
    assert masked_address(_recipient(K.EMAIL, "a@example.com")) == "a@example.com"


def test_a_notice_survives_the_outbox_payload() -> None:
    notice = Notice("ops", Severity.CRITICAL, "t", ("a", "b"), 2, "/alerts", (1, 2), digest=True)
    assert notice_of(notice_payload(notice)) == notice


def test_lines_that_do_not_fit_are_cut_whole_and_counted() -> None:
    lines = [f"line {i}" for i in range(100)]
    kept = fit_lines(lines, lambda some: len("\n".join(some)) <= 200)
    assert kept[-1] == (
        f"… and {100 - len(kept) + 1} more line(s) not shown (cut to the channel's size limit); "
        "see the link"
    )
    assert kept[:-1] == lines[: len(kept) - 1]
    assert fit_lines(lines[:3], lambda some: True) == lines[:3]


def test_the_subject_names_severity_escalation_and_the_digest_count() -> None:
    notice = Notice("ops", Severity.CRITICAL, "Late orders", (), 40, "/", escalation=True)
    assert subject(notice) == "[CRITICAL ESCALATED] Late orders"
    digest = Notice("ops", Severity.INFO, "Late orders", (), 40, "/", digest=True)
    assert subject(digest) == "[INFO] Late orders (40 alerts)"
