"""a plan's rows stored compressed, one JSON object a line, instead of one JSON value

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 12:30:00

"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PLAN = sa.table(
    "batch_plan",
    sa.column("id", sa.String()),
    sa.column("rows", sa.JSON()),
    sa.column("packed_rows", sa.LargeBinary()),
)


def upgrade() -> None:
    # Plain ADD/DROP COLUMN (SQLite 3.35+), as 0010. A plan previewed before the upgrade can
    # still be applied: its rows are packed as storage.batch.packed writes them, a plan at a
    # time (the format is copied here so that this migration stays as it ran).
    op.add_column("batch_plan", sa.Column("packed_rows", sa.LargeBinary(), nullable=True))
    connection = op.get_bind()
    for plan_id in _ids(connection, _PLAN.c.rows):
        rows = connection.execute(sa.select(_PLAN.c.rows).where(_PLAN.c.id == plan_id)).scalar_one()
        if rows is None:  # JSON null: a plan whose file was refused, or not yet read
            continue
        squeeze = zlib.compressobj(1)
        packed = b"".join(
            [
                squeeze.compress((json.dumps(row, ensure_ascii=False) + "\n").encode())
                for row in rows
            ]
            + [squeeze.flush()]
        )
        connection.execute(sa.update(_PLAN).where(_PLAN.c.id == plan_id).values(packed_rows=packed))
    op.drop_column("batch_plan", "rows")


def downgrade() -> None:
    op.add_column("batch_plan", sa.Column("rows", sa.JSON(), nullable=True))
    connection = op.get_bind()
    for plan_id in _ids(connection, _PLAN.c.packed_rows):
        packed = connection.execute(
            sa.select(_PLAN.c.packed_rows).where(_PLAN.c.id == plan_id)
        ).scalar_one()
        rows: list[Any] = [json.loads(line) for line in zlib.decompress(packed).splitlines()]
        connection.execute(sa.update(_PLAN).where(_PLAN.c.id == plan_id).values(rows=rows))
    op.drop_column("batch_plan", "packed_rows")


def _ids(connection: sa.Connection, column: sa.ColumnClause[Any]) -> list[str]:
    return list(connection.execute(sa.select(_PLAN.c.id).where(column.is_not(None))).scalars())
