"""an index that reads one owner's ready activities in list order

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "ix_activity_owner_ready_end"


def upgrade() -> None:
    # Plain CREATE INDEX, as 0008: a batch copy of the table would lose the partial indexes.
    condition = sa.text("closed_at IS NULL")
    op.create_index(
        _NAME,
        "activity",
        ["team_id", "owner_user_id", "active_fields_complete", "end_date", "activity_id"],
        sqlite_where=condition,
        postgresql_where=condition,
    )


def downgrade() -> None:
    op.drop_index(_NAME, table_name="activity")
