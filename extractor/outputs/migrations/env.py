"""Alembic environment: migrate the connection handed over by ``extractor.outputs.sink`` or a
URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from extractor.outputs.tables import metadata


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _migrate(connection)
else:
    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        _migrate(conn)
