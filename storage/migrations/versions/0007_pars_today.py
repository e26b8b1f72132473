"""the activity record as PARS asks it today: CME Passport fee and registration as answers,
delivery method as a set, outcome measures by PARS's names, with a note on each activity
where the conversion had to guess

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 09:30:00

"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The values as this migration writes them; copied, not imported: the application's tables
# may change after this migration, what it wrote may not.
FEES = {"yes": "Yes", "free": "No, it's free"}
DELIVERY = {
    "in-person": ["in-person"],
    "live-streamed": ["live-streamed"],
    "hybrid": ["in-person", "live-streamed"],
}
_OPEN = re.compile(r"\b(open|all|public|anyone|everyone)\b", re.IGNORECASE)
_LIMITED = re.compile(r"\b(limit\w*|restrict\w*|members?|invit\w*|closed|private)\b", re.I)


def convert(row: sa.Row[Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """One stored activity's new values, and a note per field where the conversion guessed."""
    values: dict[str, Any] = {}
    notes: dict[str, str] = {}
    if row.finder_fee is not None:
        amount = Decimal(row.finder_fee)
        fee = "yes" if amount > 0 else "free"
        values["passport_fee"] = fee
        notes["finder_fee"] = (
            f'The fee was ${amount:,.2f}: read as "{FEES[fee]}" (PARS asks only whether there is '
            "a fee; check that it is not Variable)"
        )
    if row.delivery_method is not None:
        # "hybrid" was the bot's own word for both methods: a definition, not a guess.
        methods = DELIVERY.get(row.delivery_method)
        values["methods"] = methods
        if methods is None:
            notes["delivery_method"] = (
                f'The delivery method was "{row.delivery_method}": cleared; give '
                "delivery=in-person, live-streamed or both"
            )
            values["active_fields_complete"] = False
    if row.outcome_measures and "patient-outcomes" in row.outcome_measures:
        # Renamed to PARS's label, the same measure: no guess.
        values["outcome_measures"] = [
            "patient-health" if m == "patient-outcomes" else m for m in row.outcome_measures
        ]
    registration = (row.finder_registration or "").strip()
    if registration:
        code = _registration(registration)
        values["finder_registration"] = code
        if code is None:
            notes["finder_registration"] = (
                f'The registration was "{registration}", neither "Open to all" nor "Limited": '
                "cleared; give registration=open or registration=limited"
            )
            if row.cme_finder:
                values["active_fields_complete"] = False
        elif registration.lower() not in {"open to all", "open", "limited"}:
            notes["finder_registration"] = (
                f'The registration was "{registration}": read as '
                f'"{"Open to all" if code == "open" else "Limited"}"'
            )
    return values, notes


def _registration(text: str) -> str | None:
    limited, opened = _LIMITED.search(text), _OPEN.search(text)
    if limited and not opened:
        return "limited"
    if opened and not limited:
        return "open"
    return None


activity = sa.table(
    "activity",
    sa.column("id", sa.Integer),
    sa.column("cme_finder", sa.Boolean),
    sa.column("finder_fee", sa.Numeric(10, 2)),
    sa.column("passport_fee", sa.String(16)),
    sa.column("finder_registration", sa.String(200)),
    sa.column("delivery_method", sa.String(32)),
    sa.column("methods", sa.JSON),
    sa.column("outcome_measures", sa.JSON),
    sa.column("active_fields_complete", sa.Boolean),
    sa.column("conversion_notes", sa.JSON),
)


@contextlib.contextmanager
def _expression_index_kept() -> Iterator[None]:
    """SQLite's batch mode copies the table but cannot copy an index on an expression: drop it
    before and make it again after."""
    op.drop_index("ix_activity_team_folded_id", table_name="activity")
    yield
    op.create_index(
        "ix_activity_team_folded_id", "activity", ["team_id", sa.text("lower(activity_id)")]
    )


def upgrade() -> None:
    with op.batch_alter_table("activity") as batch:
        batch.add_column(sa.Column("passport_fee", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("conversion_notes", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("methods", sa.JSON(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            activity.c.id,
            activity.c.cme_finder,
            activity.c.finder_fee,
            activity.c.finder_registration,
            activity.c.delivery_method,
            activity.c.outcome_measures,
        )
    ).all()
    for row in rows:
        values, notes = convert(row)
        if notes:
            values["conversion_notes"] = notes
        if values:
            connection.execute(sa.update(activity).where(activity.c.id == row.id).values(**values))
    with _expression_index_kept(), op.batch_alter_table("activity") as batch:
        batch.drop_column("finder_fee")
        batch.alter_column(
            "passport_fee",
            new_column_name="finder_fee",
            existing_type=sa.String(length=16),
        )
        batch.drop_column("delivery_method")
    # A column renamed to a name dropped in the same batch is lost: a batch of its own.
    with _expression_index_kept(), op.batch_alter_table("activity") as batch:
        batch.alter_column("methods", new_column_name="delivery_method", existing_type=sa.JSON())


def downgrade() -> None:
    # The amounts are gone: "No, it's free" goes back as 0, a fee as unknown.
    with op.batch_alter_table("activity") as batch:
        batch.add_column(sa.Column("old_fee", sa.Numeric(precision=10, scale=2), nullable=True))
        batch.add_column(sa.Column("old_delivery", sa.String(length=32), nullable=True))
    old = sa.table(
        "activity",
        sa.column("id", sa.Integer),
        sa.column("delivery_method", sa.JSON),
        sa.column("old_delivery", sa.String(32)),
        sa.column("finder_fee", sa.String(16)),
        sa.column("old_fee", sa.Numeric(10, 2)),
        sa.column("finder_registration", sa.String(200)),
    )
    connection = op.get_bind()
    connection.execute(sa.update(old).where(old.c.finder_fee == "free").values(old_fee=0))
    as_before = {tuple(methods): word for word, methods in DELIVERY.items()}
    for pk, methods in connection.execute(sa.select(old.c.id, old.c.delivery_method)).all():
        if methods:
            word = as_before.get(tuple(methods))
            connection.execute(sa.update(old).where(old.c.id == pk).values(old_delivery=word))
    for code, text in (("open", "Open to all"), ("limited", "Limited")):
        connection.execute(
            sa.update(old).where(old.c.finder_registration == code).values(finder_registration=text)
        )
    with _expression_index_kept(), op.batch_alter_table("activity") as batch:
        batch.drop_column("finder_fee")
        batch.drop_column("conversion_notes")
        batch.alter_column("old_fee", new_column_name="finder_fee", existing_type=sa.Numeric(10, 2))
        batch.drop_column("delivery_method")
    with _expression_index_kept(), op.batch_alter_table("activity") as batch:
        batch.alter_column(
            "old_delivery", new_column_name="delivery_method", existing_type=sa.String(32)
        )
