"""MOC per certifying board: each activity's one board, credit type and amount become the
first entry of a list of board entries, with a note where the board was read by name; and
the provider's attestation of compliance

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 11:40:00

"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The boards as this migration reads them; copied, not imported: the application's tables may
# change after this migration, what it wrote may not.
BOARDS = {
    "ABA": ("anesthesiology",),
    "ABIM": ("internal medicine",),
    "ABOHNS": ("otolaryngology",),
    "ABOS": ("orthopaedic", "orthopedic"),
    "ABP": ("pediatrics",),
    "ABPath": ("pathology",),
    "ABS": ("board of surgery",),
    "ABTS": ("thoracic",),
}
_CODES = {code.lower(): code for code in BOARDS}


def _board(text: str) -> tuple[str | None, bool]:
    """The board a stored text names, and whether that was a guess (read from its name)."""
    folded = re.sub(r"[^a-z]", "", text.lower())
    if folded in _CODES:
        return _CODES[folded], False
    lowered = " ".join(text.lower().split())
    found = [code for code, words in BOARDS.items() if any(w in lowered for w in words)]
    if len(found) == 1:
        return found[0], True
    return None, False


def _points(amount: Any) -> str:
    return format(Decimal(amount).quantize(Decimal("0.01")).normalize(), "f")


def convert(row: sa.Row[Any]) -> tuple[list[dict[str, Any]] | None, str | None]:
    """One stored activity's board entries, and a note where the conversion guessed."""
    board_text = (row.moc_board or "").strip()
    kind = " ".join((row.moc_credit_type or "").split())
    points = _points(row.moc_credits) if row.moc_credits is not None else None
    if not (board_text or kind or points):
        return None, None
    was = ", ".join(
        p
        for p in (
            f'board "{board_text}"' if board_text else "",
            f'credit type "{kind}"' if kind else "",
            f"{points} points" if points else "",
        )
        if p
    )
    code, guessed = _board(board_text) if board_text else (None, False)
    if code is None:
        return None, (
            f"MOC was {was}: {'no board' if not board_text else 'not a board PARS knows'}, so "
            "not kept; give moc-boards=BOARD:points:credit types (e.g. ABIM:1.5:Medical "
            "Knowledge)"
        )
    entry = {
        "board": code,
        "points": points,
        "credit_types": [kind] if kind else [],
        "claim_date": None,
    }
    note = f'MOC board "{board_text}" read as {code}' if guessed else None
    return [entry], note


activity = sa.table(
    "activity",
    sa.column("id", sa.Integer),
    sa.column("moc_board", sa.String(200)),
    sa.column("moc_credit_type", sa.String(200)),
    sa.column("moc_credits", sa.Numeric(7, 2)),
    sa.column("moc_boards", sa.JSON),
    sa.column("conversion_notes", sa.JSON),
)


def upgrade() -> None:
    # Plain ADD and DROP COLUMN (SQLite has both since 3.35), no batch copy of the table: a copy
    # would lose the expression and partial indexes, which SQLite does not reflect.
    op.add_column("activity", sa.Column("moc_boards", sa.JSON(), nullable=True))
    op.add_column("activity", sa.Column("moc_attested", sa.Boolean(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            activity.c.id,
            activity.c.moc_board,
            activity.c.moc_credit_type,
            activity.c.moc_credits,
            activity.c.conversion_notes,
        ).where(
            sa.or_(
                activity.c.moc_board.is_not(None),
                activity.c.moc_credit_type.is_not(None),
                activity.c.moc_credits.is_not(None),
            )
        )
    ).all()
    for row in rows:
        entries, note = convert(row)
        values: dict[str, Any] = {"moc_boards": entries}
        if note:
            values["conversion_notes"] = dict(row.conversion_notes or {}) | {"moc_boards": note}
        connection.execute(sa.update(activity).where(activity.c.id == row.id).values(**values))
    for name in ("moc_board", "moc_credit_type", "moc_credits"):
        op.drop_column("activity", name)


def downgrade() -> None:
    # Only the first entry fits the old columns; its credit types joined by "+".
    op.add_column("activity", sa.Column("moc_board", sa.String(length=200), nullable=True))
    op.add_column("activity", sa.Column("moc_credit_type", sa.String(length=200), nullable=True))
    op.add_column(
        "activity", sa.Column("moc_credits", sa.Numeric(precision=7, scale=2), nullable=True)
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(activity.c.id, activity.c.moc_boards).where(activity.c.moc_boards.is_not(None))
    ).all()
    for pk, entries in rows:
        if not entries:
            continue
        first = entries[0]
        connection.execute(
            sa.update(activity)
            .where(activity.c.id == pk)
            .values(
                moc_board=first["board"],
                moc_credit_type="+".join(first.get("credit_types") or []) or None,
                moc_credits=Decimal(first["points"]) if first.get("points") else None,
            )
        )
    op.drop_column("activity", "moc_attested")
    op.drop_column("activity", "moc_boards")
