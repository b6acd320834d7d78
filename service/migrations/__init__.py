"""Alembic migrations of the job store (see service/schema.py)."""
