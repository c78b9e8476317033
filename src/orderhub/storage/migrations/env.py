"""Alembic environment: migrates the engine bootstrap hands over, SQLite in batch mode."""

from __future__ import annotations

from alembic import context

from orderhub.storage.tables import metadata

engine = context.config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
