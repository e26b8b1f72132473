"""a batch preview keeps the workspace's audit mark, so Apply can tell nothing changed since

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("batch_plan") as batch:
        batch.add_column(sa.Column("data_mark", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("batch_plan") as batch:
        batch.drop_column("data_mark")
