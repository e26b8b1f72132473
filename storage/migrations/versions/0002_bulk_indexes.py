"""indexes for open work by end date, per owner, and case-insensitive ID lookup

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_activity_team_closed_end", "activity", ["team_id", "closed_at", "end_date"])
    op.create_index(
        "ix_activity_team_owner_end", "activity", ["team_id", "owner_user_id", "end_date"]
    )
    op.create_index(
        "ix_activity_team_folded_id", "activity", ["team_id", sa.text("lower(activity_id)")]
    )


def downgrade() -> None:
    op.drop_index("ix_activity_team_folded_id", table_name="activity")
    op.drop_index("ix_activity_team_owner_end", table_name="activity")
    op.drop_index("ix_activity_team_closed_end", table_name="activity")
