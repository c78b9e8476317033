"""Alert channels over real SMTP and HTTP on 127.0.0.1: every kind of recipient gets a notice in
its provider's format through the outbox relay; bad signatures are refused by the receiver and
the refusal's code is kept; rate limits, 5xx, 4xx SMTP answers and timeouts are retried, then
delivered once; permanent refusals and exhausted retries stay on the outbox row."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from orderhub.bootstrap import Hub
from orderhub.domain.notifications import RecipientKind
from orderhub.integrations.notifications.receivers import LocalReceivers, free_port
from orderhub.integrations.notifications.webhook import verify
from orderhub.services.demo import MovableClock
from tests.integration.notifications_kit import (
    PUBLIC_URL,
    WEBHOOK_SECRET,
    add_recipient,
    add_recipients,
    arrived,
    notice,
    notify_hub,
    outbox_rows,
    relay,
    send_notice,
    start_receivers,
)

K = RecipientKind


@pytest.fixture
def local() -> Iterator[LocalReceivers]:
    with start_receivers(slow_s=3.0) as receivers:
        yield receivers


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(datetime.now(UTC))


@pytest.fixture
def hub(database_url: str, local: LocalReceivers, clock: MovableClock) -> Iterator[Hub]:
    with notify_hub(database_url, local, clock=clock, notify_timeout_s=1.0) as made:
        yield made


def _status(hub: Hub, code: str) -> list[str]:
    return [row["status"] for row in outbox_rows(hub, code)]


def test_a_notice_reaches_every_kind_of_recipient_once_in_its_providers_format(
    hub: Hub, local: LocalReceivers
) -> None:
    made = add_recipients(hub, local)
    for code in made:
        send_notice(hub, code, notice(escalation=True))
    counts = relay(hub).run_once()
    relay(hub).run_once()  # a second round finds nothing left to send

    assert counts.get("delivered") == len(made)
    assert all(_status(hub, code) == ["delivered"] for code in made)
    link = f"{PUBLIC_URL}/alerts?rule=1"
    title = "[WARNING ESCALATED] 2 cross-border orders not shipped after 4 h"

    (mail,) = arrived(local, made["email"])
    assert mail.subject == title
    assert mail.recipients == ("email@ops.example.com", "lead-email@ops.example.com")
    assert "OH100001 (tb-main) waited 4 h 12 min in paid" in mail.part("plain")
    assert f'<a href="{link}">' in mail.part("html")
    assert mail.message_id == f"<{outbox_rows(hub, 'email')[0]['message_id']}@orderhub>"

    (wecom,) = arrived(local, made["wecom"])
    assert wecom.body["msgtype"] == "markdown"
    assert wecom.body["markdown"]["content"].startswith(f"### {title}")
    assert f"]({link})" in wecom.body["markdown"]["content"]

    (dingtalk,) = arrived(local, made["dingtalk"])
    assert dingtalk.body["msgtype"] == "markdown"
    assert dingtalk.body["markdown"]["title"] == title[:64]
    assert "- OH100002 (jd-main) waited 4 h 05 min in paid" in dingtalk.body["markdown"]["text"]

    (feishu,) = arrived(local, made["feishu"])
    assert feishu.body["msg_type"] == "post"
    assert {"timestamp", "sign"} <= set(feishu.body)
    post = feishu.body["content"]["post"]["zh_cn"]
    assert post["title"] == title
    assert post["content"][-1] == [{"tag": "a", "text": "Open in OrderHub", "href": link}]

    (hook,) = arrived(local, made["webhook"])
    message_id = outbox_rows(hub, "webhook")[0]["message_id"]
    assert hook.body["id"] == message_id and hook.body["type"] == "alert.notify"
    assert hook.body["notice"]["escalation"] is True and hook.body["notice"]["link"] == link
    assert hook.headers["idempotency-key"] == message_id
    assert hook.headers["x-orderhub-signature"].startswith("sha256=")


def test_dingtalk_signs_in_the_query_string_with_a_millisecond_timestamp(
    hub: Hub, local: LocalReceivers
) -> None:
    recipient = add_recipient(hub, local, K.DINGTALK)
    send_notice(hub, recipient.code)
    relay(hub).run_once()

    assert _status(hub, recipient.code) == ["delivered"]
    (message,) = arrived(local, recipient)  # the receiver checked the signature
    assert message.query["access_token"] == f"token-{recipient.code}"
    sent_at = datetime.fromtimestamp(int(message.query["timestamp"]) / 1000, UTC)
    assert abs(sent_at - datetime.now(UTC)) < timedelta(minutes=1)
    assert message.query["sign"].endswith("=")  # Base64 of a 32-byte HMAC, URL-decoded


@pytest.mark.parametrize(
    ("kind", "code"),
    [(K.DINGTALK, "310000"), (K.FEISHU, "19021"), (K.WEBHOOK, "http_401")],
)
def test_a_wrong_secret_is_refused_by_the_receiver_and_the_code_stays_on_the_outbox_row(
    hub: Hub, local: LocalReceivers, kind: RecipientKind, code: str
) -> None:
    recipient = add_recipient(hub, local, kind, secret=_wrong_secret(kind))
    send_notice(hub, recipient.code)
    relay(hub).run_once()

    (row,) = outbox_rows(hub, recipient.code)
    assert row["status"] == "refused"
    assert row["last_error"].endswith(f"({code})")
    assert arrived(local, recipient) == []
    assert [r["channel"] for r in local.desk.refusals] == [kind.value]


def _wrong_secret(kind: RecipientKind) -> str:
    return "SECnot-the-robots-secret" if kind is K.DINGTALK else "not-the-right-secret"


def test_an_unknown_wecom_key_is_refused_with_wecoms_code(hub: Hub, local: LocalReceivers) -> None:
    recipient = add_recipient(hub, local, K.WECOM)
    local.desk.secrets.pop(("wecom", f"key-{recipient.code}"))  # the robot was removed
    send_notice(hub, recipient.code)
    relay(hub).run_once()

    (row,) = outbox_rows(hub, recipient.code)
    assert (row["status"], row["last_error"]) == (
        "refused",
        "WeCom refused: invalid webhook url (93000)",
    )


@pytest.mark.parametrize(
    ("kind", "wait_s"),
    [(K.WECOM, 60), (K.DINGTALK, 600), (K.FEISHU, 60), (K.WEBHOOK, 1)],
)
def test_a_rate_limit_then_a_server_error_are_retried_until_the_notice_arrives_once(
    hub: Hub, local: LocalReceivers, clock: MovableClock, kind: RecipientKind, wait_s: int
) -> None:
    recipient = add_recipient(hub, local, kind)
    robot = arrived_key(recipient.code, kind)
    local.desk.fail_next(kind.value, robot, "rate_limit", "server_error")
    send_notice(hub, recipient.code)
    sender = relay(hub)

    sender.run_once()
    (row,) = outbox_rows(hub, recipient.code)
    assert row["status"] == "pending"
    # The provider's own wait is a floor for the next try.
    assert row["next_attempt_at"] >= clock.now() + timedelta(seconds=wait_s)
    sender.run_once()
    assert _status(hub, recipient.code) == ["pending"]  # not due yet: nothing sent

    clock.at += timedelta(seconds=wait_s + 1)
    sender.run_once()
    (row,) = outbox_rows(hub, recipient.code)
    assert row["status"] == "pending" and "HTTP 500" in row["last_error"]
    clock.at += timedelta(seconds=5)
    sender.run_once()

    (row,) = outbox_rows(hub, recipient.code)
    assert (row["status"], row["attempts"]) == ("delivered", 3)
    assert len(arrived(local, recipient)) == 1


def arrived_key(code: str, kind: RecipientKind) -> str:
    return {K.WECOM: f"key-{code}", K.DINGTALK: f"token-{code}", K.FEISHU: f"hook-{code}"}.get(
        kind, code
    )


def test_a_transient_smtp_answer_is_retried_and_a_permanent_one_refused_with_its_code(
    hub: Hub, local: LocalReceivers, clock: MovableClock
) -> None:
    recipient = add_recipient(hub, local, K.EMAIL)
    local.mailbox.fail_next(451, 550)
    send_notice(hub, recipient.code, notice(title="first"))
    sender = relay(hub)

    sender.run_once()
    (row,) = outbox_rows(hub, recipient.code)
    assert row["status"] == "pending" and "451" in row["last_error"]
    clock.at += timedelta(seconds=5)
    sender.run_once()
    (row,) = outbox_rows(hub, recipient.code)
    assert row["status"] == "refused" and row["last_error"].endswith("(550)")

    send_notice(hub, recipient.code, notice(title="second"))
    sender.run_once()
    assert [m.subject for m in arrived(local, recipient)] == ["[WARNING] second"]


def test_an_unreachable_smtp_server_is_retried_naming_it(
    database_url: str, local: LocalReceivers, clock: MovableClock
) -> None:
    with notify_hub(database_url, local, clock=clock, smtp_port=free_port()) as hub:
        recipient = add_recipient(hub, local, K.EMAIL)
        send_notice(hub, recipient.code)
        relay(hub).run_once()
        (row,) = outbox_rows(hub, recipient.code)
    assert row["status"] == "pending"
    assert "not reached" in row["last_error"]


def test_a_webhook_that_does_not_answer_in_time_is_retried(
    hub: Hub, local: LocalReceivers, clock: MovableClock
) -> None:
    recipient = add_recipient(hub, local, K.WEBHOOK)
    local.desk.fail_next("webhook", recipient.code, "slow")
    send_notice(hub, recipient.code)
    relay(hub).run_once()

    (row,) = outbox_rows(hub, recipient.code)
    assert row["status"] == "pending"
    assert row["last_error"] == "the webhook did not answer within 1 s"


def test_a_redelivered_message_id_is_taken_once_by_the_webhook(
    hub: Hub, local: LocalReceivers
) -> None:
    """The relay redelivers when an answer was lost (a timeout after the receiver took it, a
    worker killed before it recorded the answer): the same message id arrives again."""
    recipient = add_recipient(hub, local, K.WEBHOOK)
    send_notice(hub, recipient.code)
    relay(hub).run_once()
    (row,) = outbox_rows(hub, recipient.code)
    with hub.uow() as uow:  # as after a lost answer: the row is due again, same message id
        uow.outbox.retry(row["id"], at=uow.clock.now())
        uow.commit()
    relay(hub).run_once()

    assert _status(hub, recipient.code) == ["delivered"]
    assert len(arrived(local, recipient)) == 1


def test_every_retry_of_an_email_carries_the_same_message_id(
    hub: Hub, local: LocalReceivers
) -> None:
    """SMTP has no dedupe; the stable Message-ID lets a mailbox or archive tell a repeat."""
    recipient = add_recipient(hub, local, K.EMAIL)
    send_notice(hub, recipient.code)
    relay(hub).run_once()
    (row,) = outbox_rows(hub, recipient.code)
    with hub.uow() as uow:
        uow.outbox.retry(row["id"], at=uow.clock.now())
        uow.commit()
    relay(hub).run_once()

    ids = {mail.message_id for mail in arrived(local, recipient)}
    assert ids == {f"<{row['message_id']}@orderhub>"}


def test_retries_that_run_out_leave_the_message_dead_with_the_last_error(
    hub: Hub, local: LocalReceivers, clock: MovableClock
) -> None:
    recipient = add_recipient(hub, local, K.FEISHU)
    local.desk.fail_next("feishu", f"hook-{recipient.code}", "server_error", "server_error")
    send_notice(hub, recipient.code)
    sender = relay(hub, max_attempts=2)
    sender.run_once()
    clock.at += timedelta(seconds=5)
    sender.run_once()

    (row,) = outbox_rows(hub, recipient.code)
    assert row["status"] == "dead"
    assert row["last_error"].startswith("after 2 tries: Feishu answered HTTP 500")


def test_a_disabled_recipients_notices_are_refused_and_kept_and_an_unknown_one_is_retried(
    hub: Hub, local: LocalReceivers
) -> None:
    off = add_recipient(hub, local, K.WECOM, enabled=False)
    send_notice(hub, off.code)
    send_notice(hub, "nobody")
    relay(hub).run_once()

    (row,) = outbox_rows(hub, off.code)
    assert row["status"] == "refused"
    assert row["last_error"].endswith("(recipient_disabled)")
    assert arrived(local, off) == []
    (row,) = outbox_rows(hub, "nobody")
    assert row["status"] == "pending"
    assert "recipient 'nobody' does not exist" in row["last_error"]


def test_a_digest_too_long_for_wecom_is_cut_to_4096_bytes_and_says_how_many_lines_are_left_out(
    hub: Hub, local: LocalReceivers
) -> None:
    recipient = add_recipient(hub, local, K.WECOM)
    lines = tuple(f"OH{100000 + i} (tb-main) 已等待 4 小时 in paid" for i in range(2000))
    send_notice(hub, recipient.code, notice(lines=lines, digest=True, count=2000))
    relay(hub).run_once()

    (message,) = arrived(local, recipient)  # the receiver refuses anything over 4096 bytes
    content = message.body["markdown"]["content"]
    assert len(content.encode()) <= 4096
    shown = content.count("(tb-main)")
    assert 0 < shown < 2000
    assert f"… and {2000 - shown} more line(s) not shown" in content


def test_a_feishu_bot_without_a_secret_gets_no_signature_fields(
    hub: Hub, local: LocalReceivers
) -> None:
    address = local.feishu("open-hook")
    recipient = add_recipient(hub, local, K.FEISHU, code="feishu-open", secret="")
    with hub.uow() as uow:  # point it at the unsigned hook
        uow.recipients.update(replace(recipient, address=address))
        uow.commit()
    send_notice(hub, recipient.code)
    relay(hub).run_once()

    (message,) = local.desk.messages("feishu", "open-hook")
    assert "sign" not in message.body and "timestamp" not in message.body


def test_the_webhook_body_is_the_notice_and_verifies_with_the_documented_recipe(
    hub: Hub, local: LocalReceivers
) -> None:
    recipient = add_recipient(hub, local, K.WEBHOOK)
    send_notice(hub, recipient.code)
    relay(hub).run_once()

    (message,) = arrived(local, recipient)
    raw = json.dumps(message.body, ensure_ascii=False, separators=(",", ":")).encode()
    stamp = message.headers["x-orderhub-timestamp"]
    signature = message.headers["x-orderhub-signature"]
    assert verify(WEBHOOK_SECRET, stamp, raw, signature, now_s=float(stamp))
    assert not verify(WEBHOOK_SECRET, stamp, raw + b" ", signature, now_s=float(stamp))
    assert not verify(WEBHOOK_SECRET, stamp, raw, signature, now_s=float(stamp) + 301)
    assert parse_qs(urlsplit(message.body["notice"]["link"]).query) == {"rule": ["1"]}


# The local server takes AUTH over plain SMTP (it is on 127.0.0.1); aiosmtpd warns about that.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_email_logs_in_when_the_server_wants_it_and_a_refused_login_is_retried_naming_the_settings(
    database_url: str, clock: MovableClock
) -> None:
    with start_receivers(smtp_login=("alerts", "s3cret")) as local:
        with notify_hub(
            database_url, local, clock=clock, smtp_username="alerts", smtp_password="wrong"
        ) as hub:
            recipient = add_recipient(hub, local, K.EMAIL)
            send_notice(hub, recipient.code)
            relay(hub).run_once()
            (row,) = outbox_rows(hub, recipient.code)
            assert row["status"] == "pending"
            assert "ORDERHUB_SMTP_PASSWORD" in row["last_error"]
        with notify_hub(
            database_url, local, clock=clock, smtp_username="alerts", smtp_password="s3cret"
        ) as hub:
            recipient = add_recipient(hub, local, K.EMAIL)
            send_notice(hub, recipient.code)
            relay(hub).run_once()
            assert _status(hub, recipient.code) == ["delivered"]
            assert len(arrived(local, recipient)) == 1
