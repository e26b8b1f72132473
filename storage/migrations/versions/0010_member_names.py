"""member names: each person's real name from their Slack profile, shown for their ID

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 11:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD/DROP COLUMN (SQLite 3.35+), as 0004. Empty until the person next uses the bot
    # or the scheduler next asks Slack of them: the export shows their Slack ID meanwhile.
    op.add_column(
        "member",
        sa.Column("real_name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("member", "real_name")
