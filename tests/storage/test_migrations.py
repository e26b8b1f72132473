"""The schema: migrations match the models; SQLite is set up safely; engines and sessions."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from storage.batch.store import claim_file
from storage.db import (
    LOCK_WAIT_S,
    alembic_config,
    create_db_engine,
    is_reachable,
    normalize_url,
    session_scope,
    upgrade,
)
from storage.models import Activity, AuditEvent, LearnerCount, Member
from tests.conftest import BACKENDS, NOW, guarded_database_url
from tests.storage.batch.files import grand_rounds, table, xlsx
from tests.storage.batch.helpers import TEAM, apply, ids, load, preview

TABLES = {"activity", "learner_count", "audit_event", "batch_plan"} | {
    "workspace_settings",
    "reporting_deadline",
    "checklist_mark",
    "program_summary",
    "member",
    "snooze",
    "delivery",
    "close_offer",
}


def head_revision(engine: Engine) -> str:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert head is not None
    return head


def test_the_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        assert compare_metadata(context, SQLModel.metadata) == []


def test_there_is_one_head() -> None:
    engine = sa.create_engine("sqlite://")
    heads = ScriptDirectory.from_config(alembic_config(engine)).get_heads()
    assert len(heads) == 1


@pytest.fixture(params=BACKENDS)
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database with no tables at all: a new SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        engine = create_db_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        yield engine
        engine.dispose()
        return
    url = normalize_url(guarded_database_url())
    schema = "migration_check"
    with sa.create_engine(url).begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    engine = sa.create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    yield engine
    with engine.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


def test_upgrade_creates_the_tables_and_downgrade_removes_them(empty_engine: Engine) -> None:
    assert sa.inspect(empty_engine).get_table_names() == []
    upgrade(empty_engine)
    inspector = sa.inspect(empty_engine)
    assert set(inspector.get_table_names()) == TABLES | {"alembic_version"}
    with empty_engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head_revision(
            empty_engine
        )
    unique = inspector.get_unique_constraints("activity")
    assert [sorted(u["column_names"]) for u in unique] == [["activity_id", "team_id"]]

    upgrade(empty_engine)  # already at head: nothing to do, nothing breaks
    command.downgrade(alembic_config(empty_engine), "base")
    assert set(sa.inspect(empty_engine).get_table_names()) <= {"alembic_version"}


# --- SQLite ----------------------------------------------------------------------------------


def pragma(engine: Engine, name: str) -> object:
    with engine.connect() as connection:
        return connection.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_sqlite_file_database_uses_foreign_keys_and_wal(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'pars.db'}")
    assert pragma(engine, "foreign_keys") == 1
    assert pragma(engine, "journal_mode") == "wal"
    assert pragma(engine, "busy_timeout") == LOCK_WAIT_S * 1000
    # Every pooled connection gets them, not only the first.
    with engine.connect() as first, engine.connect() as second:
        for connection in (first, second):
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_sqlite_in_memory_database_still_enforces_foreign_keys() -> None:
    engine = create_db_engine("sqlite://")
    assert pragma(engine, "foreign_keys") == 1
    assert pragma(engine, "journal_mode") == "memory"


def _activity(team_id: str = "T1", activity_id: str = "GR-2026") -> Activity:
    return Activity(
        team_id=team_id,
        activity_id=activity_id,
        title="Grand Rounds",
        format="rss",
        start_date=date(2026, 1, 7),
        end_date=date(2026, 11, 18),
        created_at=NOW,
        created_by="U1",
        updated_at=NOW,
        updated_by="U1",
    )


def test_a_count_must_belong_to_an_existing_activity(session: Session) -> None:
    session.add(
        LearnerCount(
            team_id="T1",
            activity_pk=4242,
            category="physician",
            count=3,
            as_of=date(2026, 1, 1),
            recorded_by="U1",
            recorded_at=NOW,
        )
    )
    with pytest.raises(sa.exc.IntegrityError):
        session.flush()
    session.rollback()


def test_deleting_an_activity_removes_its_counts_but_keeps_its_audit(
    session: Session, engine: Engine
) -> None:
    activity = _activity()
    session.add(activity)
    session.flush()
    session.add(
        LearnerCount(
            team_id="T1",
            activity_pk=activity.id,
            category="physician",
            count=3,
            as_of=date(2026, 1, 1),
            recorded_by="U1",
            recorded_at=NOW,
        )
    )
    session.add(
        AuditEvent(
            team_id="T1",
            activity_pk=activity.id,
            activity_id="GR-2026",
            action="create",
            user_id="U1",
            at=NOW,
            changes={},
        )
    )
    session.commit()
    with engine.begin() as connection:  # as the database does it, not the ORM
        connection.execute(sa.delete(Activity.__table__))
    with Session(engine) as fresh:
        assert fresh.exec(select(LearnerCount)).all() == []
        [event] = fresh.exec(select(AuditEvent)).all()
        assert (event.activity_pk, event.activity_id) == (None, "GR-2026")


def test_json_columns_round_trip(session: Session, engine: Engine) -> None:
    activity = _activity()
    activity.supporters = [{"name": "Acme, Inc.", "kind": "monetary", "amount": "5000.00"}]
    activity.outcome_measures = ["knowledge", "patient-outcomes"]
    session.add(activity)
    session.commit()
    with Session(engine) as fresh:
        stored = fresh.exec(select(Activity)).one()
        assert stored.supporters == activity.supporters
        assert stored.outcome_measures == ["knowledge", "patient-outcomes"]


# --- engines and sessions --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "used"),
    [
        (
            "postgres://pars:s3cret@db.example.com:5432/pars",
            "postgresql+psycopg://pars:s3cret@db.example.com:5432/pars",
        ),
        (
            "postgresql://pars:s3cret@db.example.com/pars",
            "postgresql+psycopg://pars:s3cret@db.example.com/pars",
        ),
        ("postgresql+psycopg://pars@db/pars", "postgresql+psycopg://pars@db/pars"),
        ("sqlite:///pars.db", "sqlite:///pars.db"),
    ],
)
def test_hosting_platform_urls_use_psycopg(given: str, used: str) -> None:
    assert normalize_url(given) == used


def test_is_reachable(engine: Engine) -> None:
    assert is_reachable(engine)
    nowhere = create_db_engine("postgresql://nobody@127.0.0.1:1/none")
    assert not is_reachable(nowhere)
    nowhere.dispose()


def test_session_scope_commits_whole_or_not_at_all(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add(_activity(activity_id="KEPT"))
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        session.add(_activity(activity_id="DROPPED-1"))
        session.flush()
        session.add(_activity(activity_id="DROPPED-2"))
        raise RuntimeError("the handler failed half-way")
    with Session(engine) as fresh:
        assert [a.activity_id for a in fresh.exec(select(Activity)).all()] == ["KEPT"]


def test_the_suite_refuses_a_database_not_named_for_tests(tmp_path: Path) -> None:
    """The tests drop the schema they are given: a production URL must stop them first."""
    env = os.environ | {
        "PARS_TEST_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/pars_production"
    }
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/storage/test_migrations.py::test_is_reachable"],
        cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert run.returncode == 2
    assert "names the database 'pars_production'" in run.stdout + run.stderr
    assert "passed" not in run.stdout


# --- 0008: list indexes, and statistics after a migration that fills in data ------------------

LIST_INDEXES = {
    "ix_activity_team_end",
    "ix_activity_open_end",
    "ix_activity_ready_end",
    "ix_activity_closed_end",
    "ix_activity_owner_open_end",
    "ix_activity_format_open_end",
    "ix_activity_team_format_end",
}

# Indexes of one column, or of open work with closed_at first, that no query needs now.
UNUSED_INDEXES = {
    "ix_activity_team_closed_end",
    "ix_activity_team_id",
    "ix_activity_end_date",
    "ix_activity_owner_user_id",
}


def analyzed_tables(engine: Engine) -> set[str]:
    """The tables the planner has statistics of."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            if not sa.inspect(connection).has_table("sqlite_stat1"):
                return set()
            return set(connection.exec_driver_sql("SELECT tbl FROM sqlite_stat1").scalars())
        return set(
            connection.execute(
                sa.text(
                    "SELECT relname FROM pg_stat_user_tables WHERE schemaname = "
                    "current_schema() AND last_analyze IS NOT NULL"
                )
            ).scalars()
        )


def test_0008_indexes_the_lists_and_analyzes_what_0002_filled_in(empty_engine: Engine) -> None:
    config = alembic_config(empty_engine)
    command.upgrade(config, "0001")
    columns = {
        "team_id": "T1", "title": "Grand Rounds", "format": "rss",
        "start_date": date(2026, 1, 7), "end_date": date(2026, 3, 1), "created_at": NOW,
        "created_by": "U1", "updated_at": NOW, "updated_by": "U1", "version": 1,
    }  # fmt: skip
    table = sa.table("activity", *(sa.column(c) for c in [*columns, "activity_id"]))
    with empty_engine.begin() as connection:
        connection.execute(table.insert(), [columns | {"activity_id": f"A-{n}"} for n in range(60)])
    command.upgrade(config, "0005")
    assert "activity" not in analyzed_tables(empty_engine)

    upgrade(empty_engine)
    indexes = {i["name"] for i in sa.inspect(empty_engine).get_indexes("activity")}
    assert indexes >= LIST_INDEXES
    assert not indexes & UNUSED_INDEXES
    assert "activity" in analyzed_tables(empty_engine)
    with Session(empty_engine) as session:
        assert len(session.exec(select(Activity)).all()) == 60

    command.downgrade(config, "0005")
    indexes = {i["name"] for i in sa.inspect(empty_engine).get_indexes("activity")}
    assert not LIST_INDEXES & indexes
    assert indexes >= UNUSED_INDEXES | {"ix_activity_team_owner_end"}


# --- 0010: members' real names ------------------------------------------------------------------


def test_0010_adds_member_names_and_keeps_the_members(empty_engine: Engine) -> None:
    config = alembic_config(empty_engine)
    command.upgrade(config, "0009")
    member = sa.table(
        "member",
        *(sa.column(c) for c in ("team_id", "user_id", "used_bot", "reminders", "first_seen")),
        sa.column("is_guest"),
        sa.column("is_deleted"),
    )
    with empty_engine.begin() as connection:
        connection.execute(
            member.insert(),
            [{"team_id": "T1", "user_id": "U1", "used_bot": True, "reminders": False,
              "first_seen": NOW, "is_guest": False, "is_deleted": False}],
        )  # fmt: skip

    upgrade(empty_engine)
    with Session(empty_engine) as session:
        (kept,) = session.exec(select(Member)).all()
        assert (kept.user_id, kept.reminders, kept.real_name) == ("U1", False, None)
        kept.real_name = "Jane Whitfield"
        session.add(kept)
        session.commit()

    command.downgrade(config, "0009")
    columns = {c["name"] for c in sa.inspect(empty_engine).get_columns("member")}
    assert "real_name" not in columns and "reminders" in columns


# --- 0013: a plan's rows packed -----------------------------------------------------------------


def test_0013_packs_a_stored_previews_rows_and_it_still_applies(empty_engine: Engine) -> None:
    config = alembic_config(empty_engine)
    upgrade(empty_engine)
    data = xlsx(table([grand_rounds("A-1", Title="Cardiología mensual"), grand_rounds("A-2")]))
    batch = preview(empty_engine, data).batch_id
    claim_file(  # a plan whose file is still being read: no rows yet
        engine=empty_engine, team_id=TEAM, user_id="U1", file_id="F2", file_name="b.xlsx", now=NOW
    )

    command.downgrade(config, "0012")  # the rows as 0012 stored them: one JSON value
    plan = sa.table("batch_plan", sa.column("id"), sa.column("rows", sa.JSON()))
    with empty_engine.connect() as connection:
        stored = dict(connection.execute(sa.select(plan.c.id, plan.c.rows)).all())
    assert [r["activity_id"] for r in stored.pop(batch)] == ["A-1", "A-2"]
    assert list(stored.values()) == [None]

    upgrade(empty_engine)
    result = apply(empty_engine, batch)
    assert result.summary.added == 2
    assert ids(empty_engine) == ["A-1", "A-2"]
    assert load(empty_engine, "A-1").title == "Cardiología mensual"  # type: ignore[union-attr]
