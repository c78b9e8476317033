"""Settings from ORDERHUB_* environment variables; built in bootstrap and the CLI only."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERHUB_", env_file=".env", extra="ignore")

    # sqlite:///path (embedded default) or postgresql+psycopg://user@host/db
    database_url: str = "sqlite:///./orderhub.db"
    # FULL keeps a committed order through a power cut; NORMAL trades that for speed.
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    sqlite_busy_timeout_ms: int = 5000
    # Paid orders wait in pending_review for a person (or, later, rules); false approves at once.
    review_required: bool = True
    host: str = "127.0.0.1"
    port: int = 8000
    # Signs session cookies and CSRF tokens; unset, a random one is made per process.
    secret_key: str | None = None
    session_max_age_s: int = 12 * 3600
    cookie_secure: bool = False
    default_currency: str = "CNY"
    default_locale: Literal["zh_CN", "en"] = "zh_CN"
    log_level: str = "INFO"
    log_json: bool = False
    # Password hashing cost (argon2id); the defaults are argon2-cffi's recommended ones.
    argon2_time_cost: int = 3
    argon2_memory_cost_kib: int = 65536
    demo_orders: int = 3000
    # Fernet key that encrypts shop credentials at rest. Unset: read from (or, the first time,
    # written to) `credentials_key_file`; losing it means entering the credentials again.
    credentials_key: str | None = None
    credentials_key_file: str = ".orderhub-credentials.key"
    # Merchant extensions of the channel mappings: <dir>/<channel>.yaml, merged over ours.
    mapping_dir: str | None = None
    # The in-process worker (channel pulls, reconcile) that `orderhub serve` runs beside the API.
    worker_enabled: bool = True
    # New orders a second each simulator makes under `orderhub serve --simulators`.
    simulator_rate: float = 0.5
    # Paying reserves an order's lines; an order short of stock waits in out_of_stock.
    reserve_stock: bool = True
    # An approved order is allocated at once and pushed to its warehouse's WMS.
    auto_allocate: bool = True
    # Where a shop's orders ship from when the shop names no warehouse.
    default_warehouse: str = "WH-MAIN"
    # An order short in its warehouse is split by stock: one parcel per warehouse holding part of
    # it, the rest a backorder that ships when stock arrives. Off: it waits whole in out_of_stock.
    split_by_stock: bool = False
    # Orders of one buyer to one receiver, waiting in one warehouse, go out in one parcel.
    auto_merge: bool = False
    # NATS JetStream for change events (e.g. nats://127.0.0.1:4222); unset, events are only kept.
    nats_url: str | None = None
    nats_stream: str = "ORDERHUB"
    nats_subject_prefix: str = "orderhub"
    # The outbox relay: messages claimed per round, how long a claim lasts (a worker killed
    # mid-delivery frees its messages after it), tries before a message is dead, the backoff.
    outbox_batch: int = 500
    outbox_lease_s: float = 30.0
    outbox_max_attempts: int = 10
    outbox_backoff_base_s: float = 1.0
    outbox_backoff_max_s: float = 600.0
    # How often an idle relay looks for due messages.
    outbox_poll_s: float = 0.2
    # How often the worker pulls on-hand figures from each WMS (0: never).
    stock_pull_interval_s: float = 600.0
    # Push changes of available stock to every shop's listings (each shop's stock rule applied).
    push_stock: bool = True
    # How often changed SKUs are worked out into listing updates: changes within one interval
    # become one call per listing.
    stock_push_interval_s: float = 0.2
    # How often the worker reads each shop's listings from its channel (new or removed items);
    # every shop is read once when the worker starts. 0: only when asked.
    listing_sync_interval_s: float = 3600.0
    # Points of priority a minute of waiting adds (work queues serve score + aging first): an
    # order is never overtaken by work that started waiting more than (100 - its score) / this
    # many minutes after it (docs/priority.md).
    priority_aging_per_min: Annotated[float, Field(gt=0)] = 2.0
    # Alert email (SMTP). Unset host: email recipients' messages wait in the outbox, retried.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "orderhub@localhost"
    # STARTTLS after connecting (port 587); smtp_ssl is TLS from the start (port 465) instead.
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    smtp_timeout_s: float = 10.0
    # How long a chat robot or webhook may take to answer before the message is retried.
    notify_timeout_s: float = 5.0
    # The console's address as people reach it, for links in alerts; unset: http://host:port.
    public_url: str | None = None
    # How often the worker checks the SLA rules (raise, escalate, resolve alerts); 0: never.
    sla_check_interval_s: float = 60.0
    # Alerts for one recipient wait this long from the first; more than the threshold within it
    # go out as one digest (counts and a link to the list) instead of one message each.
    alert_digest_window_s: float = 60.0
    alert_digest_threshold: int = 3
