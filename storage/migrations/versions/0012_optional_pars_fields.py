"""the optional fields of today's PARS record: a REMS program and its identifier, MIPS, and
commendation tags

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 12:00:00

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("rems_program", "rems_id", "mips", "commendation_tags")


def upgrade() -> None:
    # Plain ADD COLUMN, no batch copy of the table (which would lose SQLite's partial indexes).
    op.add_column("activity", sa.Column("rems_program", sa.String(length=32), nullable=True))
    op.add_column("activity", sa.Column("rems_id", sa.String(length=100), nullable=True))
    op.add_column("activity", sa.Column("mips", sa.Boolean(), nullable=True))
    op.add_column("activity", sa.Column("commendation_tags", sa.JSON(), nullable=True))


def downgrade() -> None:
    for name in reversed(_COLUMNS):
        op.drop_column("activity", name)
