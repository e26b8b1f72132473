"""activities keep their title folded for probable duplicates, indexed with the start date

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 09:30:00
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000


def upgrade() -> None:
    # A plain ADD COLUMN: batch mode would copy the table on SQLite and lose the expression
    # index ix_activity_team_folded_id.
    op.add_column(
        "activity",
        sa.Column("title_key", sa.String(length=500), server_default=sa.text("''"), nullable=False),
    )
    _backfill()
    op.create_index(
        "ix_activity_team_title_key_start", "activity", ["team_id", "title_key", "start_date"]
    )


def _title_key(title: str | None) -> str:
    # A frozen copy of storage.duplicates.title_key as of this migration: a later change
    # there must not change what this migration wrote.
    if not title:
        return ""
    folded = unicodedata.normalize("NFKD", title).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def _backfill() -> None:
    activity = sa.table(
        "activity",
        sa.column("id", sa.Integer),
        sa.column("title", sa.String),
        sa.column("title_key", sa.String),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(activity.c.id, activity.c.title)).all()
    keys = [{"pk": row.id, "key": _title_key(row.title)} for row in rows]
    update = (
        activity.update()
        .where(activity.c.id == sa.bindparam("pk"))
        .values(title_key=sa.bindparam("key"))
    )
    for start in range(0, len(keys), BATCH):
        connection.execute(update, keys[start : start + BATCH])


def downgrade() -> None:
    op.drop_index("ix_activity_team_title_key_start", table_name="activity")
    # Plain DROP COLUMN (SQLite 3.35+, PostgreSQL), for the same reason.
    op.execute("ALTER TABLE activity DROP COLUMN title_key")
