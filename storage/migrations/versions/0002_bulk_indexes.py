"""a kept flag and indexes for open work by end date, per owner, and case-insensitive ID lookup

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
    with op.batch_alter_table("activity") as batch:
        batch.add_column(
            sa.Column(
                "active_fields_complete", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
    _backfill_active_fields_complete()
    op.create_index("ix_activity_team_closed_end", "activity", ["team_id", "closed_at", "end_date"])
    op.create_index(
        "ix_activity_team_owner_end", "activity", ["team_id", "owner_user_id", "end_date"]
    )
    op.create_index(
        "ix_activity_team_folded_id", "activity", ["team_id", sa.text("lower(activity_id)")]
    )


def _backfill_active_fields_complete() -> None:
    """Decide the new column for activities stored before it, with the rules of today."""
    from storage.pars import rules

    activity = sa.table(
        "activity",
        sa.column("id", sa.Integer),
        sa.column("active_fields_complete", sa.Boolean),
        *(sa.column(name) for name in _RULE_COLUMNS),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(activity)).all()
    complete = [{"pk": row.id} for row in rows if not rules.missing_for_active(row)]
    if complete:
        connection.execute(
            activity.update()
            .where(activity.c.id == sa.bindparam("pk"))
            .values(active_fields_complete=True),
            complete,
        )


_RULE_COLUMNS = (
    "title", "format", "delivery_method", "start_date", "end_date", "city", "state", "country",
    "credits", "description", "providership", "cme_finder", "finder_fee", "finder_registration",
    "finder_url",
)  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_activity_team_folded_id", table_name="activity")
    op.drop_index("ix_activity_team_owner_end", table_name="activity")
    op.drop_index("ix_activity_team_closed_end", table_name="activity")
    with op.batch_alter_table("activity") as batch:
        batch.drop_column("active_fields_complete")
