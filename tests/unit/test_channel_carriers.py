"""Each channel's carrier table: OrderHub's codes in the channel's words, and back."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from orderhub.integrations.channels.jd import carriers as jd
from orderhub.integrations.channels.pdd import carriers as pdd
from orderhub.integrations.channels.shopify import carriers as shopify
from orderhub.integrations.channels.taobao import carriers as taobao
from orderhub.services.ports import ShipmentRefused

ORDERHUB_CARRIERS = {"SF", "YTO", "ZTO", "STO", "YUNDA", "EMS", "JD", "JT"}
TABLES: dict[str, tuple[dict[str, object], Callable[[str], object]]] = {
    "taobao": (dict(taobao.COMPANIES), taobao.company_code),
    "jd": (dict(jd.LOGISTICS_IDS), jd.logistics_id),
    "pdd": (dict(pdd.LOGISTICS_IDS), pdd.logistics_id),
    "shopify": (dict(shopify.TRACKING_COMPANIES), shopify.tracking_company),
}


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_channel_knows_the_everyday_carriers_and_only_orderhub_codes(name: str) -> None:
    table, _ = TABLES[name]
    assert {"SF", "YTO", "ZTO"} <= set(table) <= ORDERHUB_CARRIERS


@pytest.mark.parametrize("name", sorted(TABLES))
def test_an_unknown_carrier_is_refused_naming_it_and_the_known_ones(name: str) -> None:
    _, lookup = TABLES[name]
    with pytest.raises(ShipmentRefused) as refused:
        lookup("DHL")
    assert refused.value.code == "unknown_carrier"
    assert "DHL" in refused.value.reason and "SF" in refused.value.reason


def test_each_channels_own_carrier_value_reads_back_to_the_same_orderhub_code() -> None:
    for carrier in taobao.COMPANIES:
        assert taobao.carrier_of(taobao.company_code(carrier)) == carrier
    for carrier in jd.LOGISTICS_IDS:
        assert jd.carrier_of(jd.logistics_id(carrier)) == carrier
    for carrier in pdd.LOGISTICS_IDS:
        assert pdd.carrier_of(pdd.logistics_id(carrier)) == carrier
    for carrier in shopify.TRACKING_COMPANIES:
        assert shopify.carrier_of(shopify.tracking_company(carrier)) == carrier


def test_the_known_channel_values_are_the_published_ones() -> None:
    # taobao.logistics.companies.get codes; JD logiCoprId; pdd.logistics.companies.get ids
    assert taobao.company_code("SF") == "SF"
    assert jd.logistics_id("SF") == "467"
    assert (pdd.logistics_id("SF"), pdd.logistics_id("YTO"), pdd.logistics_id("ZTO")) == (
        44,
        85,
        115,
    )
    assert shopify.tracking_company("SF") == "SF Express"
