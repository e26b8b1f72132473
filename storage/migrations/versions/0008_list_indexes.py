"""indexes that read each list's page in list order, none unused, and planner statistics

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNUSED = {
    "ix_activity_team_closed_end": ["team_id", "closed_at", "end_date"],
    "ix_activity_team_id": ["team_id"],
    "ix_activity_end_date": ["end_date"],
    "ix_activity_owner_user_id": ["owner_user_id"],
}
_LIST_ORDER = ["team_id", "end_date", "activity_id"]
_OWNER_ORDER = ["team_id", "owner_user_id", "end_date", "activity_id"]


def _where(condition: str) -> dict[str, sa.TextClause]:
    return {"sqlite_where": sa.text(condition), "postgresql_where": sa.text(condition)}


def upgrade() -> None:
    # Plain CREATE/DROP INDEX, no batch copy of the table: a copy would lose the expression
    # and partial indexes, which SQLite does not reflect.
    # Replaced by those below, or never used: every query names the workspace.
    for name in _UNUSED:
        op.drop_index(name, table_name="activity")
    op.drop_index("ix_activity_team_owner_end", table_name="activity")
    op.create_index("ix_activity_team_owner_end", "activity", _OWNER_ORDER)
    op.create_index("ix_activity_team_end", "activity", [*_LIST_ORDER, "closed_at"])
    op.create_index(
        "ix_activity_open_end",
        "activity",
        [*_LIST_ORDER, "start_date"],
        **_where("closed_at IS NULL"),
    )
    op.create_index(
        "ix_activity_ready_end",
        "activity",
        ["team_id", "active_fields_complete", "end_date", "activity_id"],
        **_where("closed_at IS NULL"),
    )
    op.create_index(
        "ix_activity_closed_end", "activity", _LIST_ORDER, **_where("closed_at IS NOT NULL")
    )
    op.create_index(
        "ix_activity_owner_open_end", "activity", _OWNER_ORDER, **_where("closed_at IS NULL")
    )
    op.create_index(
        "ix_activity_team_format_end", "activity", ["team_id", "format", "end_date", "activity_id"]
    )
    op.create_index(
        "ix_activity_format_open_end",
        "activity",
        ["team_id", "format", "end_date", "activity_id"],
        **_where("closed_at IS NULL"),
    )
    _analyze_what_is_there()


def _analyze_what_is_there() -> None:
    """Statistics for the new indexes and for what 0002 filled in (storage/table_stats.py)."""
    from storage import table_stats

    connection = op.get_bind()
    filled = [
        name
        for name in ("activity", "learner_count", "audit_event")
        if connection.execute(sa.text(f"SELECT EXISTS (SELECT 1 FROM {name})")).scalar()
    ]
    table_stats.analyze(connection, filled)


def downgrade() -> None:
    for name in (
        "ix_activity_format_open_end",
        "ix_activity_team_format_end",
        "ix_activity_owner_open_end",
        "ix_activity_closed_end",
        "ix_activity_ready_end",
        "ix_activity_open_end",
        "ix_activity_team_end",
        "ix_activity_team_owner_end",
    ):
        op.drop_index(name, table_name="activity")
    op.create_index(
        "ix_activity_team_owner_end", "activity", ["team_id", "owner_user_id", "end_date"]
    )
    for name, columns in _UNUSED.items():
        op.create_index(name, "activity", columns)
