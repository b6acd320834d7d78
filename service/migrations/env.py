"""Alembic's entry point: migrations run on the connection service/schema.py hands over."""

from alembic import context

connection = context.config.attributes["connection"]
# batch mode: SQLite cannot ALTER a column in place, so such steps rebuild the table
context.configure(connection=connection, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
