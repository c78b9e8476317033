"""Names the channel pages show (ingest outcomes, quarantine states, reconcile windows), marked
for translation, and the title of a refusal shown inside one of those pages."""

from __future__ import annotations

from datetime import timedelta

from fastapi import Request

from orderhub.errors import OrderHubError
from orderhub.services.channel_ingest import CREATED, IGNORED, QUARANTINED, UPDATED
from orderhub.web import i18n, labels
from orderhub.web.labels import N_

OUTCOME: dict[str, str] = {
    CREATED: N_("created"),
    UPDATED: N_("updated"),
    IGNORED: N_("ignored (not newer)"),
    QUARANTINED: N_("quarantined"),
}

QUARANTINE_STATUS: dict[str, str] = {
    "open": N_("Open"),
    "replayed": N_("Replayed"),
    "discarded": N_("Discarded"),
}

# The reconcile form's windows: how far back from now the channel's list is compared.
RECONCILE_WINDOWS: dict[str, tuple[timedelta, str]] = {
    "1h": (timedelta(hours=1), N_("last hour")),
    "1d": (timedelta(days=1), N_("last day")),
    "2d": (timedelta(days=2), N_("last 2 days")),
    "7d": (timedelta(days=7), N_("last 7 days")),
}
DEFAULT_WINDOW = "1d"

# Refusals whose generic title speaks of orders; on these pages the entry or shop is meant.
_TITLES_HERE: dict[str, str] = {
    "already_closed": N_("Already closed"),
    "already_exists": N_("It already exists"),
}


def error_title(request: Request, error: OrderHubError) -> str:
    known = (
        _TITLES_HERE.get(error.code)
        or labels.ERROR_TITLE.get(error.code)
        or labels.ERROR_BY_STATUS.get(error.status)
    )
    return i18n.translate(request, known) if known else error.title
