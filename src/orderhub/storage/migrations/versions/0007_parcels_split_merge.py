"""parcels: split orders' parts, merged orders, backorders; orders.parcel_mode and never_merge

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 14:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import orderhub.storage.tables

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_When = orderhub.storage.tables.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "parcels",
        sa.Column("id", _Id, autoincrement=True, nullable=False),
        sa.Column("parcel_no", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("warehouse", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("stock_state", sa.String(length=16), nullable=True),
        sa.Column("handed_off_at", _When, nullable=True),
        sa.Column("carrier", sa.String(length=64), nullable=True),
        sa.Column("tracking_no", sa.String(length=64), nullable=True),
        sa.Column("shipped_at", _When, nullable=True),
        sa.Column("created_at", _When, nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parcels")),
        sa.UniqueConstraint("parcel_no", name=op.f("uq_parcels_parcel_no")),
    )
    with op.batch_alter_table("parcels", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_parcels_status_warehouse"), ["status", "warehouse"], unique=False
        )
    op.create_table(
        "parcel_lines",
        sa.Column("id", _Id, autoincrement=True, nullable=False),
        sa.Column("parcel_id", _Id, nullable=False),
        sa.Column("order_id", _Id, nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("channel_sku", sa.String(length=64), nullable=True),
        sa.Column("title", sa.String(length=256), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_parcel_lines_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parcel_id"],
            ["parcels.id"],
            name=op.f("fk_parcel_lines_parcel_id_parcels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parcel_lines")),
    )
    with op.batch_alter_table("parcel_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_parcel_lines_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_parcel_lines_parcel_id"), ["parcel_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_parcel_lines_sku"), ["sku"], unique=False)
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parcel_mode", sa.String(length=8), nullable=True))
        batch_op.add_column(
            sa.Column("never_merge", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("never_merge")
        batch_op.drop_column("parcel_mode")
    with op.batch_alter_table("parcel_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_parcel_lines_sku"))
        batch_op.drop_index(batch_op.f("ix_parcel_lines_parcel_id"))
        batch_op.drop_index(batch_op.f("ix_parcel_lines_order_id"))
    op.drop_table("parcel_lines")
    with op.batch_alter_table("parcels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_parcels_status_warehouse"))
    op.drop_table("parcels")
