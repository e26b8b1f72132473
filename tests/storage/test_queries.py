"""Lists and status in bulk: the same answers as one activity at a time, in a fixed number
of queries whatever the number of activities."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from storage import activities as svc
from storage import counts as learner_counts
from storage import queries
from storage.activities import Actor
from storage.db import alembic_config, create_db_engine, upgrade
from storage.models import Activity
from storage.pars.rules import Status

TEAM = "T0Q"
JANE = Actor("U0JANE")
BOB = Actor("U0BOB")
NOW = datetime(2026, 11, 25, 21, 0, tzinfo=UTC)
TODAY = date(2026, 11, 25)

DRAFT = {"title": "Grand Rounds", "format": "rss", "start_date": "2026-01-07"}
ACTIVE_FIELDS = {
    "delivery_method": "live-streamed",
    "credits": "1",
    "description": "Weekly case conference",
    "providership": "direct",
    "cme_finder": "no",
}
CLOSE_FIELDS = {"outcome_measures": "knowledge", "commercial_support": "no"}


def add(session: Session, activity_id: str, end: str, actor: Actor = JANE, **fields: str) -> None:
    svc.create_activity(
        session=session,
        team_id=TEAM,
        actor=actor,
        raw=DRAFT | {"activity_id": activity_id, "end_date": end} | fields,
        now=NOW,
        today=TODAY,
    )


def seed(session: Session) -> None:
    add(session, "DRAFT-ENDED", "2026-03-01")
    add(session, "READY-1", "2026-03-02", **ACTIVE_FIELDS)
    add(session, "READY-2", "2026-03-03", actor=BOB, **ACTIVE_FIELDS, **CLOSE_FIELDS)
    add(session, "RUNNING", "2026-12-16", **ACTIVE_FIELDS)
    add(session, "DRAFT-RUNNING", "2026-12-17")
    for category in ("physician", "other"):
        learner_counts.record_counts(
            session=session,
            team_id=TEAM,
            actor=BOB,
            activity_id="READY-2",
            counts={category: "9"},
            as_of=None,
            now=NOW,
            today=TODAY,
        )
    add(session, "CLOSED", "2026-03-04", **ACTIVE_FIELDS, **CLOSE_FIELDS)
    learner_counts.record_counts(
        session=session,
        team_id=TEAM,
        actor=JANE,
        activity_id="CLOSED",
        counts={"physician": "1", "other": "2"},
        as_of=None,
        now=NOW,
        today=TODAY,
    )
    svc.close_activity(
        session=session, team_id=TEAM, actor=JANE, activity_id="CLOSED", now=NOW, today=TODAY
    )


def ids(page: queries.ActivityPage) -> list[str]:
    return [a.activity_id for a, _status in page.rows]


def test_ready_lists_ended_activities_with_every_active_field(session: Session) -> None:
    seed(session)
    page = queries.list_activities(session=session, team_id=TEAM, today=TODAY, views=["ready"])
    assert ids(page) == ["READY-1", "READY-2"]
    assert [s for _a, s in page.rows] == [Status.READY_TO_CLOSE, Status.READY_TO_CLOSE]


def test_ready_follows_edits_that_add_or_remove_a_field(session: Session) -> None:
    seed(session)

    def ready() -> list[str]:
        page = queries.list_activities(session=session, team_id=TEAM, today=TODAY, views=["ready"])
        return ids(page)

    svc.update_activity(
        session=session, team_id=TEAM, actor=JANE, activity_id="READY-1", raw={"credits": ""},
        now=NOW, today=TODAY,
    )  # fmt: skip
    assert ready() == ["READY-2"]
    svc.update_activity(
        session=session, team_id=TEAM, actor=JANE, activity_id="DRAFT-ENDED",
        raw=ACTIVE_FIELDS, now=NOW, today=TODAY,
    )  # fmt: skip
    assert ready() == ["DRAFT-ENDED", "READY-2"]


def test_running_lists_open_activities_not_yet_ended(session: Session) -> None:
    seed(session)
    page = queries.list_activities(
        session=session,
        team_id=TEAM,
        today=TODAY,
        views=["running", "mine"],
        owner_user_id="U0JANE",
    )
    assert ids(page) == ["RUNNING", "DRAFT-RUNNING"]


def test_states_in_bulk_match_one_activity_at_a_time(session: Session) -> None:
    seed(session)
    states = queries.activity_states(session=session, team_id=TEAM, today=TODAY)
    assert len(states) == 6
    for state in states:
        one = svc.get_activity(
            session=session, team_id=TEAM, activity_id=state.activity.activity_id
        )
        assert state.status == svc.status_of(one, today=TODAY)
        assert list(state.missing) == svc.still_needs(session=session, activity=one)
    by_id = {s.activity.activity_id: s for s in states}
    assert by_id["READY-2"].missing == ()
    assert [n.field for n in by_id["READY-1"].missing[-2:]] == [
        "learners_physician",
        "learners_other",
    ]


def test_states_can_be_narrowed_to_open_work_of_one_owner(session: Session) -> None:
    seed(session)
    states = queries.activity_states(
        session=session, team_id=TEAM, today=TODAY, unclosed_only=True, owner_user_id="U0BOB"
    )
    assert [s.activity.activity_id for s in states] == ["READY-2"]


@contextmanager
def counting_statements(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


@pytest.mark.parametrize("copies", [1, 4])
def test_states_take_the_same_few_queries_for_any_number_of_activities(
    engine: Engine, copies: int
) -> None:
    with Session(engine) as session:
        for n in range(copies):
            add(session, f"A-{n}", "2026-03-01", **ACTIVE_FIELDS)
            learner_counts.record_counts(
                session=session, team_id=TEAM, actor=JANE, activity_id=f"A-{n}",
                counts={"physician": "3"}, as_of=None, now=NOW, today=TODAY,
            )  # fmt: skip
        session.commit()
        with counting_statements(engine) as statements:
            states = queries.activity_states(session=session, team_id=TEAM, today=TODAY)
        assert len(states) == copies
        assert len(statements) == 2  # the activities, and their counts grouped


def test_home_and_list_pages_read_one_page_whatever_the_total(engine: Engine) -> None:
    with Session(engine) as session:
        for n in range(30):
            add(session, f"A-{n:02d}", "2026-03-01", **ACTIVE_FIELDS)
        session.commit()
        with counting_statements(engine) as statements:
            page = queries.list_activities(
                session=session, team_id=TEAM, today=TODAY, views=["ready"], per_page=10
            )
        assert (page.total, page.pages, len(page.rows)) == (30, 3, 10)
        assert len(statements) == 2  # a count and one page


def test_lookup_by_id_in_another_case_uses_the_index(engine: Engine) -> None:
    with Session(engine) as session:
        add(session, "GR-2026", "2026-03-01")
        session.commit()
        found = svc.find_activity(session=session, team_id=TEAM, activity_id="gr-2026")
        assert found is not None and found.activity_id == "GR-2026"
    # The query find_activity makes when the exact ID is not there.
    query = select(Activity).where(
        Activity.team_id == TEAM, sa.func.lower(Activity.activity_id) == "gr-2026"
    )
    lookup = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            plan = " ".join(
                str(r) for r in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {lookup}")
            )
            assert "ix_activity_team_folded_id" in plan
        else:
            names = connection.execute(
                sa.text("SELECT indexname FROM pg_indexes WHERE tablename = 'activity'")
            ).scalars()
            assert "ix_activity_team_folded_id" in set(names)


def test_the_migration_decides_the_flag_for_activities_stored_before_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = create_db_engine(f"sqlite:///{tmp_path / 'old.db'}")
    command.upgrade(alembic_config(engine), "0001")
    columns = {
        "team_id": TEAM, "format": "rss", "start_date": date(2026, 1, 7),
        "end_date": date(2026, 3, 1), "created_at": NOW, "created_by": "U1",
        "updated_at": NOW, "updated_by": "U1", "version": 1,
    }  # fmt: skip
    table = sa.table("activity", *(sa.column(c) for c in [*columns, "activity_id", "title"]))
    extra = sa.table("activity", *(sa.column(c) for c in ACTIVE_FIELDS))
    with engine.begin() as connection:
        connection.execute(
            table.insert().values(columns | {"activity_id": "OLD-DRAFT", "title": "x"})
        )
        connection.execute(
            table.insert().values(columns | {"activity_id": "OLD-READY", "title": "y"})
        )
        connection.execute(
            extra.update()
            .where(sa.column("activity_id") == "OLD-READY")
            .values(
                delivery_method="live-streamed", credits=1, description="d",
                providership="direct", cme_finder=False,
            )
        )  # fmt: skip
    upgrade(engine)
    with Session(engine) as session:
        flags = {
            a.activity_id: a.active_fields_complete for a in session.exec(select(Activity)).all()
        }
    assert flags == {"OLD-DRAFT": False, "OLD-READY": True}
    engine.dispose()
