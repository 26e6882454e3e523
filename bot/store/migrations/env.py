"""Alembic environment.

At run time bot.store.migrate hands over a connection that is already inside its transaction and
holds the migration lock; everything here runs in that transaction, so a failed revision leaves
the schema as it was. For developers, ``alembic -c bot/store/migrations/alembic.ini -x url=…``
opens the database itself (and takes the same lock).
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from bot.store.tables import metadata

config = context.config


def _run(conn: Connection) -> None:
    context.configure(
        connection=conn,
        target_metadata=metadata,
        render_as_batch=conn.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_from_command_line() -> None:
    from bot.store.database import connect
    from bot.store.migrate import take_migration_lock

    if config.config_file_name:
        fileConfig(config.config_file_name)
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("pass the database with -x url=sqlite:///dev.db (or postgresql://…)")
    db = connect(url)
    try:
        db.run(lambda conn: (take_migration_lock(conn), _run(conn)), write=True)
    finally:
        db.close()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; the bot migrates on open")
connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    _run_from_command_line()
