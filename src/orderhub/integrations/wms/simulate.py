"""The demo's simulated WMS (`orderhub serve --simulators`): warehouse WH-MAIN on 127.0.0.1."""

from __future__ import annotations

from orderhub.domain.warehouses import WmsCredentials
from orderhub.integrations.channels.simkit import RunningServer
from orderhub.integrations.channels.simulate import restart_safe_serial
from orderhub.integrations.wms.qimen.simulator import WmsSimOptions, start_wms_simulator

DEMO_WAREHOUSE = "WH-MAIN"
DEMO_WMS_PORT = 9109
SIM_WMS_CREDENTIALS = WmsCredentials(
    app_key="sim-wms-key", secret="sim-wms-secret", customer_id="sim-owner"
)


def demo_wms_url() -> str:
    return f"http://127.0.0.1:{DEMO_WMS_PORT}"


def start_demo_wms(orderhub_url: str) -> RunningServer:
    """A WMS that picks after a minute and ships after three, like a calm day. Its ids carry on
    after those of its earlier runs, whose callbacks the database has already applied."""
    server = start_wms_simulator(
        port=DEMO_WMS_PORT,
        callback_url=f"{orderhub_url}/api/v1/wms/{DEMO_WAREHOUSE}/callbacks",
        credentials=SIM_WMS_CREDENTIALS,
        options=WmsSimOptions(
            warehouse_code=DEMO_WAREHOUSE,
            pick_after_s=60,
            ship_after_s=180,
            report_progress=True,
        ),
    )
    server.app.state.wms.books.number_from(restart_safe_serial())
    return server
