"""File sizes as 64-bit integers; an index on analyses.state.

jobs.size was a 32-bit INTEGER on PostgreSQL, which cannot hold an upload of 2 GiB (the default
VERITY_MAX_UPLOAD_BYTES) or a scanned file of up to 4 GiB. The stale-claim sweep and the claims
select analyses by state.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    with op.batch_alter_table("jobs") as jobs:
        jobs.alter_column(
            "size", type_=sa.BigInteger, existing_type=sa.Integer, existing_nullable=False
        )
    op.create_index("ix_analyses_state", "analyses", ["state"])


def downgrade() -> None:
    op.drop_index("ix_analyses_state", "analyses")
    with op.batch_alter_table("jobs") as jobs:
        jobs.alter_column(
            "size", type_=sa.Integer, existing_type=sa.BigInteger, existing_nullable=False
        )
