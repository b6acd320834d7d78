"""The memory of earlier analyses: the content seen, where, its frame fingerprints, what
journalists marked it, and the C2PA manifests it carried (served by the soft-binding API).

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"

ROW_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")  # SQLite numbers INTEGER keys itself


def upgrade() -> None:
    op.create_table(
        "known_media",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("first_seen_at", sa.DateTime, nullable=False),
        sa.Column("analysed_at", sa.DateTime, nullable=False),
        sa.Column("verdict", sa.String(32), nullable=False),
        sa.Column("likelihood", sa.Float, nullable=False),
        sa.Column("provenance", sa.Text, nullable=False),
        sa.Column("link", sa.Text),
    )
    op.create_table(
        "sightings",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("sha256", sa.String(64), nullable=False, index=True),
        sa.Column("seen_at", sa.DateTime, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
    )
    op.create_table(
        "frame_codes",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("sha256", sa.String(64), nullable=False, index=True),
        sa.Column("time_s", sa.Float, nullable=False),
        sa.Column("region", sa.String(16), nullable=False),
        sa.Column("code", sa.LargeBinary(32), nullable=False),
    )
    op.create_table(
        "desk_verdicts",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("sha256", sa.String(64), nullable=False, index=True),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "manifests",
        sa.Column("manifest_id", sa.String(255), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False, index=True),
        sa.Column("store_json", sa.Text, nullable=False),
        sa.Column("embedded", sa.LargeBinary),
        sa.Column("first_seen_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    for table in ("manifests", "desk_verdicts", "frame_codes", "sightings", "known_media"):
        op.drop_table(table)
