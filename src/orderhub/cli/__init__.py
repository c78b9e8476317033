"""The `orderhub` command."""

from __future__ import annotations

import orderhub.cli.channels  # noqa: F401 - registers its commands on `app`
from orderhub.cli import alerts as _alerts  # noqa: F401 - registers `alerts` on `app`
from orderhub.cli import bottlenecks as _bottlenecks  # noqa: F401 - `bottlenecks`
from orderhub.cli import fulfilment as _fulfilment  # noqa: F401 - `warehouses`, `outbox`
from orderhub.cli import imports as _imports  # noqa: F401 - registers `import` on `app`
from orderhub.cli import inventory as _inventory  # noqa: F401 - registers `stock` on `app`
from orderhub.cli import loadtest as _loadtest  # noqa: F401 - registers `loadtest` on `app`
from orderhub.cli import notifications as _notifications  # noqa: F401 - `recipients`
from orderhub.cli import parcels as _parcels  # noqa: F401 - registers `parcels` on `app`
from orderhub.cli import stock_push as _stock_push  # noqa: F401 - `listings`, `stock-rule`
from orderhub.cli.core import app

__all__ = ["app"]
