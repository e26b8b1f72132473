"""Migration 0007 converts activities stored as PARS asked a few years ago, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from storage.db import alembic_config
from storage.models import Activity
from tests.storage.test_migrations import empty_engine  # noqa: F401  (a fixture)

OLD = {
    "team_id": "T1",
    "title": "Grand Rounds",
    "format": "rss",
    "start_date": date(2025, 1, 7),
    "end_date": date(2025, 12, 16),
    "created_at": datetime(2025, 1, 2, 10, tzinfo=UTC),
    "created_by": "U1",
    "updated_at": datetime(2025, 1, 2, 10, tzinfo=UTC),
    "updated_by": "U1",
    "version": 1,
    "active_fields_complete": True,
}


def at(engine: Engine, revision: str) -> None:
    command.upgrade(alembic_config(engine), revision)


def insert(engine: Engine, **values: Any) -> None:
    table = sa.Table("activity", sa.MetaData(), autoload_with=engine)
    with engine.begin() as connection:
        connection.execute(sa.insert(table).values(**(OLD | values)))


@pytest.fixture
def old_database(empty_engine: Engine) -> Iterator[Engine]:  # noqa: F811
    """A database at 0005 holding the values the bot stored until now."""
    at(empty_engine, "0005")
    rows: list[dict[str, Any]] = [
        {"activity_id": "FEE", "cme_finder": True, "finder_fee": 250,
         "finder_registration": "Open to all", "finder_url": "https://x.org"},
        {"activity_id": "FREE", "cme_finder": True, "finder_fee": 0,
         "finder_registration": "Limited", "finder_url": "https://x.org"},
        {"activity_id": "ODD", "cme_finder": True, "finder_fee": 0,
         "finder_registration": "see website", "finder_url": "https://x.org"},
        {"activity_id": "MEMBERS", "cme_finder": True, "finder_fee": 10,
         "finder_registration": "Members only", "finder_url": "https://x.org"},
        {"activity_id": "UNLISTED", "cme_finder": False, "delivery_method": "hybrid"},
        {"activity_id": "ROOM", "delivery_method": "in-person"},
        {"activity_id": "STREAM", "delivery_method": "live-streamed"},
    ]  # fmt: skip
    for row in rows:
        insert(empty_engine, **row)
    yield empty_engine


def stored(engine: Engine) -> dict[str, Activity]:
    with Session(engine) as session:
        return {a.activity_id: a for a in session.exec(select(Activity)).all()}


def test_the_passport_fee_and_registration_become_answers_with_notes(
    old_database: Engine,
) -> None:
    at(old_database, "head")
    got = stored(old_database)
    assert (got["FEE"].finder_fee, got["FEE"].finder_registration) == ("yes", "open")
    assert got["FEE"].conversion_notes == {
        "finder_fee": 'The fee was $250.00: read as "Yes" (PARS asks only whether there is a '
        "fee; check that it is not Variable)"
    }
    assert (got["FREE"].finder_fee, got["FREE"].finder_registration) == ("free", "limited")
    assert set(got["FREE"].conversion_notes or {}) == {"finder_fee"}
    # A registration that says neither is not guessed: cleared, and the activity needs it again.
    assert got["ODD"].finder_registration is None
    assert "neither" in (got["ODD"].conversion_notes or {})["finder_registration"]
    assert got["ODD"].active_fields_complete is False
    assert got["MEMBERS"].finder_registration == "limited"
    assert (
        'was "Members only": read as "Limited"'
        in ((got["MEMBERS"].conversion_notes or {})["finder_registration"])
    )
    assert got["UNLISTED"].conversion_notes is None


def test_delivery_becomes_a_set_and_hybrid_both_methods(old_database: Engine) -> None:
    at(old_database, "head")
    got = stored(old_database)
    assert got["UNLISTED"].delivery_method == ["in-person", "live-streamed"]
    assert got["ROOM"].delivery_method == ["in-person"]
    assert got["STREAM"].delivery_method == ["live-streamed"]
    assert got["FEE"].delivery_method is None
    # Hybrid is both by definition: nothing guessed, nothing to say.
    assert got["UNLISTED"].conversion_notes is None


def test_downgrade_brings_back_what_it_can(old_database: Engine) -> None:
    at(old_database, "head")
    command.downgrade(alembic_config(old_database), "0006")
    table = sa.Table("activity", sa.MetaData(), autoload_with=old_database)
    with old_database.connect() as connection:
        got = {r.activity_id: r for r in connection.execute(sa.select(table))}
    assert got["FREE"].finder_fee == 0 and got["FREE"].finder_registration == "Limited"
    assert got["FEE"].finder_fee is None and got["FEE"].finder_registration == "Open to all"
    assert got["UNLISTED"].delivery_method == "hybrid"
    assert got["ROOM"].delivery_method == "in-person"


def test_outcome_measures_take_pars_names(old_database: Engine) -> None:
    insert(old_database, activity_id="OUT", outcome_measures=["knowledge", "patient-outcomes"])
    at(old_database, "head")
    got = stored(old_database)["OUT"]
    assert got.outcome_measures == ["knowledge", "patient-health"]
    assert got.conversion_notes is None
