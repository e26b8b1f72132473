"""whether a Close all offer held the first ones of a longer list

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 14:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Offers live a day: those kept before read as not capped, which changes only the
    # wording of their click's answer.
    op.add_column(
        "close_offer",
        sa.Column("capped", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("close_offer", "capped")
