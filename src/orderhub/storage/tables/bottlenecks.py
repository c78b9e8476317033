"""Finished stays and hops, one row each: the read model behind the dwell report.

The unit of work appends each stay or hop an event ends to `state_stays_pending`, a table with
no index but its key, so a commit writes one more row and no index pages. Settling
(storage/stays.py, run by the worker every tick and before each report) moves them in batches
into `state_stays` and `state_stay_tags`, filing each in its bucket of seconds
(domain/bottlenecks.bucket_of). One index per segmentation serves the report
(storage/bottlenecks.py): (step, segment, bucket, seconds, left_at). Read in order it counts the
window's stays per step, segment value and bucket in one pass, already grouped (no sort); and
one bucket's stays of a step and segment value lie in it in order of length, so the exact value
at a rank is a short walk (LIMIT 1 OFFSET k) inside the bucket that holds it. The window is
filtered inside the index: no table row is read.

The segments are copied onto each row when the stay ends, so a report never joins orders.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Double, Index, SmallInteger, String, Table

from orderhub.storage.tables.base import Id, UTCDateTime, metadata

state_stays = Table(
    "state_stays",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # No foreign key: a report table derived from order_events, never joined back on writes.
    Column("order_id", BigInteger, nullable=False),
    # state / hop; `step` is the state's name or the hop's (domain/bottlenecks.HOPS).
    Column("kind", String(8), nullable=False),
    Column("step", String(32), nullable=False),
    Column("entered_at", UTCDateTime, nullable=False),
    Column("left_at", UTCDateTime, nullable=False),
    Column("seconds", Double, nullable=False),
    Column("channel", String(32), nullable=False),
    Column("shop", String(64), nullable=False),
    Column("warehouse", String(64)),
    Column("order_type", String(32), nullable=False),
    Column("bucket", SmallInteger, nullable=False),
    Index(None, "step", "bucket", "seconds", "left_at"),
    Index(None, "step", "channel", "bucket", "seconds", "left_at"),
    Index(None, "step", "shop", "bucket", "seconds", "left_at"),
    Index(None, "step", "warehouse", "bucket", "seconds", "left_at"),
    Index(None, "step", "order_type", "bucket", "seconds", "left_at"),
)

# The same stays once per tag of the order (tags are many-to-one, so they get rows of their own).
state_stay_tags = Table(
    "state_stay_tags",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("order_id", BigInteger, nullable=False),
    Column("tag", String(64), nullable=False),
    Column("step", String(32), nullable=False),
    Column("left_at", UTCDateTime, nullable=False),
    Column("seconds", Double, nullable=False),
    Column("bucket", SmallInteger, nullable=False),
    Index(None, "step", "tag", "bucket", "seconds", "left_at"),
)

# Stays and hops just ended, waiting to be settled into the two tables above (same columns; the
# order's tags as a list).
state_stays_pending = Table(
    "state_stays_pending",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("order_id", BigInteger, nullable=False),
    Column("kind", String(8), nullable=False),
    Column("step", String(32), nullable=False),
    Column("entered_at", UTCDateTime, nullable=False),
    Column("left_at", UTCDateTime, nullable=False),
    Column("seconds", Double, nullable=False),
    Column("channel", String(32), nullable=False),
    Column("shop", String(64), nullable=False),
    Column("warehouse", String(64)),
    Column("order_type", String(32), nullable=False),
    Column("tags", JSON, nullable=False),
)
