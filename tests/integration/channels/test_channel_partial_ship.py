"""A split order leaves in several parcels, each told to its channel, over real HTTP against the
channel's simulator on 127.0.0.1. Taobao (is_split with sub-orders) and Shopify (a fulfillment
of some line items) ship line by line; JD and PDD ship per order (see their PROTOCOL.md)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from orderhub.domain.fulfilment import Shipment, ShippedLine
from orderhub.domain.mapping import ChannelState, MappedOrder, map_order
from orderhub.integrations.channels.registry import channel, load_mapping
from orderhub.services.ports import ChannelClient, ShipmentRefused
from tests.integration.channels.sims import CHANNELS, Sim

LINE_BY_LINE = ("shopify", "taobao")


def _start(name: str) -> Iterator[Sim]:
    running = Sim.start(name)
    yield running
    running.server.stop()


@pytest.fixture(params=CHANNELS)
def sim(request: pytest.FixtureRequest) -> Iterator[Sim]:
    yield from _start(request.param)


@pytest.fixture(params=LINE_BY_LINE)
def split_sim(request: pytest.FixtureRequest) -> Iterator[Sim]:
    yield from _start(request.param)


def _parcel(no: str, tracking_no: str, *lines: tuple[str, int]) -> Shipment:
    shipped = tuple(ShippedLine(sku, quantity) for sku, quantity in lines)
    return Shipment(no, "SF", tracking_no, datetime.now(UTC), order_id=1, lines=shipped)


def _state(sim: Sim, client: ChannelClient, no: str) -> ChannelState:
    payload = client.fetch_order(no)
    assert payload is not None
    mapped = map_order(payload, load_mapping(channel(sim.name)), shop="s1")
    assert isinstance(mapped, MappedOrder)
    return mapped.channel_state


def _tracking_nos(sim: Sim, no: str) -> list[str]:
    return [p["tracking_no"] for p in sim.order(no)["parcels"]]


def test_a_split_order_is_shipped_on_the_channel_only_with_its_last_parcel(split_sim: Sim) -> None:
    sim, client = split_sim, split_sim.client()
    no, lines = sim.paid_order(client)
    first, rest = lines[0], lines[1:]

    client.ship(_parcel(no, "SF100000000001", first[:2]))
    assert sim.order(no)["state"] == "partly_shipped"
    assert _state(sim, client, no) is ChannelState.PARTLY_SHIPPED

    client.ship(_parcel(no, "SF100000000002", *(line[:2] for line in rest)))
    truth = sim.order(no)
    assert truth["state"] == "shipped"
    assert [
        (p["tracking_no"], [x["channel_sku"] for x in p["lines"]]) for p in truth["parcels"]
    ] == [
        ("SF100000000001", [first[0]]),
        ("SF100000000002", sorted(line[0] for line in rest)),
    ]
    assert _state(sim, client, no) is ChannelState.SHIPPED


def test_the_channels_payload_shows_each_parcel_on_its_own_lines(split_sim: Sim) -> None:
    sim, client = split_sim, split_sim.client()
    no, lines = sim.paid_order(client)
    client.ship(_parcel(no, "SF200000000001", lines[0][:2]))

    payload = client.fetch_order(no)
    assert payload is not None
    if sim.name == "taobao":
        assert payload["status"] == "SELLER_CONSIGNED_PART"
        waybills = {x["outer_sku_id"]: x.get("invoice_no", "") for x in payload["orders"]["order"]}
    else:
        assert payload["fulfillment_status"] == "partial"
        waybills = {line[0]: "" for line in lines}
        for fulfillment in payload["fulfillments"]:
            waybills.update(
                (x["sku"], fulfillment["tracking_number"]) for x in fulfillment["line_items"]
            )
    assert waybills == {line[0]: "SF200000000001" if n == 0 else "" for n, line in enumerate(lines)}


def test_a_repeated_parcel_succeeds_without_a_second_parcel(sim: Sim) -> None:
    client = sim.client()
    no, lines = sim.paid_order(client)
    parcel = _parcel(no, "SF300000000001", lines[0][:2])

    first = client.ship(parcel)
    version = sim.order(no)["version"]

    assert client.ship(parcel) == first
    assert sim.order(no)["version"] == version
    assert _tracking_nos(sim, no) == ["SF300000000001"]


@pytest.mark.parametrize("sim", ["shopify"], indirect=True)
def test_shopify_fulfils_part_of_a_lines_quantity(sim: Sim) -> None:
    client = sim.client()
    no, lines = sim.paid_order(client, min_lines=1, min_quantity=2)
    sku, quantity, _ = lines[0]

    client.ship(_parcel(no, "SF400000000001", (sku, 1)))
    assert sim.order(no)["state"] == "partly_shipped"
    client.ship(_parcel(no, "SF400000000002", (sku, quantity - 1), *(x[:2] for x in lines[1:])))

    parcels = sim.order(no)["parcels"]
    assert [p["lines"][0] for p in parcels] == [
        {"channel_sku": sku, "quantity": 1},
        {"channel_sku": sku, "quantity": quantity - 1},
    ]
    assert sim.order(no)["state"] == "shipped"


@pytest.mark.parametrize("sim", ["taobao"], indirect=True)
def test_taobao_cannot_add_a_parcel_holding_only_the_rest_of_a_told_sub_order(sim: Sim) -> None:
    client = sim.client()
    no, lines = sim.paid_order(client, min_lines=1, min_quantity=2)
    sku = lines[0][0]
    client.ship(_parcel(no, "SF500000000001", (sku, 1)))

    note = client.ship(_parcel(no, "SF500000000002", (sku, lines[0][1] - 1)))

    assert note is not None and "not sent to taobao" in note and "SF500000000002" in note
    assert _tracking_nos(sim, no) == ["SF500000000001"]


def test_a_parcel_naming_a_sku_the_order_does_not_hold_is_refused(split_sim: Sim) -> None:
    sim, client = split_sim, split_sim.client()
    no, _ = sim.paid_order(client)

    with pytest.raises(ShipmentRefused) as refused:
        client.ship(_parcel(no, "SF600000000001", ("NOT-SOLD-HERE", 1)))
    assert refused.value.code in ("line_not_in_order", "line_not_open")
    assert sim.order(no)["parcels"] == []


@pytest.mark.parametrize("sim", ["jd"], indirect=True)
def test_jd_ships_the_order_with_its_first_parcel_and_says_the_next_was_not_sent(sim: Sim) -> None:
    client = sim.client()
    no, lines = sim.paid_order(client)

    assert client.ship(_parcel(no, "SF700000000001", lines[0][:2])) is None
    assert sim.order(no)["state"] == "shipped"
    note = client.ship(_parcel(no, "SF700000000002", *(x[:2] for x in lines[1:])))

    assert note is not None and "not sent to jd" in note and "SF700000000002" in note
    assert _tracking_nos(sim, no) == ["SF700000000001"]


@pytest.mark.parametrize("sim", ["pdd"], indirect=True)
def test_pdd_ships_the_order_with_its_first_parcel_and_adds_the_next_as_extra_waybills(
    sim: Sim,
) -> None:
    client = sim.client()
    no, lines = sim.paid_order(client)

    client.ship(_parcel(no, "SF800000000001", lines[0][:2]))
    assert sim.order(no)["state"] == "shipped"
    client.ship(_parcel(no, "SF800000000002", *(x[:2] for x in lines[1:])))
    client.ship(_parcel(no, "SF800000000002", *(x[:2] for x in lines[1:])))

    parcels = sim.order(no)["parcels"]
    assert [(p["tracking_no"], p["extra"]) for p in parcels] == [
        ("SF800000000001", False),
        ("SF800000000002", True),
    ]


def test_a_whole_order_shipment_after_a_parcel_ships_what_was_left(split_sim: Sim) -> None:
    sim, client = split_sim, split_sim.client()
    no, lines = sim.paid_order(client)
    client.ship(_parcel(no, "SF900000000001", lines[0][:2]))

    client.ship(Shipment(no, "SF", "SF900000000002", datetime.now(UTC), order_id=1))

    truth = sim.order(no)
    assert truth["state"] == "shipped"
    assert [x["channel_sku"] for x in truth["parcels"][1]["lines"]] == sorted(
        x[0] for x in lines[1:]
    )


def test_parcels_land_once_through_throttles_and_server_errors(split_sim: Sim) -> None:
    sim, client = split_sim, split_sim.client(max_attempts=20)
    no, lines = sim.paid_order(client)
    # The simulator's fault dice are seeded: these rates hit this test's calls every run.
    sim.faults(rate_429=0.2, rate_500=0.4)

    client.ship(_parcel(no, "SF110000000001", lines[0][:2]))
    client.ship(_parcel(no, "SF110000000002", *(x[:2] for x in lines[1:])))
    client.ship(_parcel(no, "SF110000000002", *(x[:2] for x in lines[1:])))

    assert sim.fault_hits() > 0
    assert _tracking_nos(sim, no) == ["SF110000000001", "SF110000000002"]
    assert sim.order(no)["state"] == "shipped"
