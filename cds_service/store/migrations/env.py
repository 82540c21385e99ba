"""Alembic environment: always run by `cds_service.store.migrate` on a connection it opened.

There is no alembic.ini and no URL here: `crs-cds db upgrade` builds the configuration in code and hands over
the connection (`config.attributes["connection"]`), so the migrations use the same engine settings as the
service (SQLite pragmas, psycopg 3).
"""

from __future__ import annotations

from alembic import context

from cds_service.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
