"""What every channel simulator shares: realistic orders, their versions, faults, control routes.

A channel's simulator (e.g. `taobao/simulator.py`) keeps its orders in a `SimStore` as
channel-neutral `SimOrder`s, renders them in its own protocol (field names, status words, amount
and time formats, signing, paging) and mounts `control_router` for tests and the demo:

    POST /_sim/orders   {"count": 50}            create orders now (webhooks fire for push channels)
                        {"paid": false}           ...each one waiting for its payment
    POST /_sim/orders/{no}/pay                    the buyer pays one order now
    POST /_sim/advance  {"count": 20}            move orders on: pay, ship, complete, cancel, refund
    PUT  /_sim/faults   {"rate_429": 0.1, ...}   what to inject from now on
    POST /_sim/orders/{no}/refund                 refund (close) one order now
    GET  /_sim/orders                             the ground truth: every order number, version,
                                                  state, carrier and tracking no, and its parcels
    GET  /_sim/listings                           the shop's listings and their stock (listings.py)

Faults, each a probability: 429 (with Retry-After), 500, timeout (the answer comes after
`timeout_s`), duplicate (a page repeats an order), out_of_order (a page carries an older version
of an order after the newer one), drop_webhook (a push is never sent), late_commit (an order
becomes visible with a modified time already in the past, as a row committed late does).
"""

from orderhub.integrations.channels.simkit.listings import (
    ListingBook,
    SimListing,
    group_of,
    listing_router,
)
from orderhub.integrations.channels.simkit.orders import (
    CATALOGUE,
    COMBOS,
    OrderFactory,
    SimLine,
    SimOrder,
    SimParcel,
)
from orderhub.integrations.channels.simkit.server import (
    RunningServer,
    control_router,
    fault_middleware,
)
from orderhub.integrations.channels.simkit.store import Faults, ShipOutcome, SimStore

__all__ = [
    "CATALOGUE",
    "COMBOS",
    "Faults",
    "ListingBook",
    "OrderFactory",
    "RunningServer",
    "ShipOutcome",
    "SimLine",
    "SimListing",
    "SimOrder",
    "SimParcel",
    "SimStore",
    "control_router",
    "fault_middleware",
    "group_of",
    "listing_router",
]
