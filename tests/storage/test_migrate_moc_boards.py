"""Migration 0011 moves each activity's one MOC board, credit type and amount into its first
board entry, on both databases, with a note where it read a board by name."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine

from storage.db import alembic_config
from tests.storage.test_migrate_pars_today import at, insert, stored
from tests.storage.test_migrations import empty_engine  # noqa: F401  (a fixture)


@pytest.fixture
def old_database(empty_engine: Engine) -> Iterator[Engine]:  # noqa: F811
    """A database at 0008 holding the MOC values the bot stored until now."""
    at(empty_engine, "0010")
    rows: list[dict[str, Any]] = [
        {"activity_id": "FULL", "moc": True, "moc_board": "ABIM",
         "moc_credit_type": "Medical Knowledge", "moc_credits": Decimal("1.5")},
        {"activity_id": "CASE", "moc": True, "moc_board": "abpath", "moc_credits": 2},
        {"activity_id": "NAMED", "moc": True, "moc_board": "American Board of Pediatrics",
         "moc_credit_type": "Part 2", "moc_credits": 1,
         "conversion_notes": {"finder_fee": "kept from 0007"}},
        {"activity_id": "UNKNOWN", "moc": True, "moc_board": "State board",
         "moc_credits": Decimal("0.75")},
        {"activity_id": "NOBOARD", "moc": True, "moc_credit_type": "Medical Knowledge"},
        {"activity_id": "NONE", "moc": False},
    ]  # fmt: skip
    for row in rows:
        insert(empty_engine, **row)
    yield empty_engine


def test_one_board_becomes_the_first_entry(old_database: Engine) -> None:
    at(old_database, "head")
    got = stored(old_database)
    assert got["FULL"].moc_boards == [
        {
            "board": "ABIM",
            "points": "1.5",
            "credit_types": ["Medical Knowledge"],
            "claim_date": None,
        }
    ]
    assert got["FULL"].conversion_notes is None  # the board's own code: nothing guessed
    assert got["CASE"].moc_boards == [
        {"board": "ABPath", "points": "2", "credit_types": [], "claim_date": None}
    ]
    assert got["CASE"].conversion_notes is None
    assert got["NONE"].moc_boards is None and got["NONE"].moc_attested is None


def test_a_board_read_by_name_or_not_read_is_noted(old_database: Engine) -> None:
    at(old_database, "head")
    got = stored(old_database)
    assert got["NAMED"].moc_boards == [
        {"board": "ABP", "points": "1", "credit_types": ["Part 2"], "claim_date": None}
    ]
    assert got["NAMED"].conversion_notes == {
        "finder_fee": "kept from 0007",
        "moc_boards": 'MOC board "American Board of Pediatrics" read as ABP',
    }
    assert got["UNKNOWN"].moc_boards is None
    assert (got["UNKNOWN"].conversion_notes or {})["moc_boards"] == (
        'MOC was board "State board", 0.75 points: not a board PARS knows, so not kept; give '
        "moc-boards=BOARD:points:credit types (e.g. ABIM:1.5:Medical Knowledge)"
    )
    assert "no board" in (got["NOBOARD"].conversion_notes or {})["moc_boards"]


def test_downgrade_brings_back_the_first_entry(old_database: Engine) -> None:
    at(old_database, "head")
    command.downgrade(alembic_config(old_database), "0010")
    table = sa.Table("activity", sa.MetaData(), autoload_with=old_database)
    with old_database.connect() as connection:
        got = {r.activity_id: r for r in connection.execute(sa.select(table))}
    full = got["FULL"]
    assert (full.moc_board, full.moc_credit_type, full.moc_credits) == (
        "ABIM",
        "Medical Knowledge",
        Decimal("1.5"),
    )
    assert got["NAMED"].moc_board == "ABP"
