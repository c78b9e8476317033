from __future__ import annotations

import pytest

from orderhub.domain.ownership import GROUPS, NotOwner, System, check_write, owner_of


def test_a_channel_owns_the_goods_and_payment_of_its_orders() -> None:
    with pytest.raises(NotOwner) as refused:
        check_write("taobao", System.ORDERHUB, ["lines"], how="change them on taobao")
    assert refused.value.extra == {
        "group": "goods_and_payment",
        "owner": "channel",
        "writer": "orderhub",
    }
    assert "lines (goods and payment) of a taobao order belong to taobao" in refused.value.detail


def test_orderhub_is_the_channel_of_the_orders_it_took_itself() -> None:
    check_write("manual", System.ORDERHUB, ["lines", "buyer_note"], how="")
    check_write("file", System.ORDERHUB, ["amounts"], how="")
    assert owner_of("buyer", "manual") is System.ORDERHUB


def test_staff_may_correct_a_channel_orders_receiver_but_not_its_tracking_no() -> None:
    check_write("jd", System.ORDERHUB, ["receiver"], how="")
    with pytest.raises(NotOwner) as refused:
        check_write("jd", System.ORDERHUB, ["tracking_no"], how="the WMS reports it")
    assert refused.value.extra["owner"] == "wms"


def test_the_warehouse_cannot_write_the_status_or_the_buyer() -> None:
    for fields in (["status"], ["buyer_nick"]):
        with pytest.raises(NotOwner):
            check_write("pdd", System.WMS, fields, how="")


def test_every_field_belongs_to_exactly_one_group() -> None:
    fields = [f for _, members in GROUPS.values() for f in members]
    assert len(fields) == len(set(fields))
