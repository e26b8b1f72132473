"""Lists and status in bulk: the same answers as one activity at a time, in a fixed number
of queries whatever the number of activities."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from storage import activities as svc
from storage import counts as learner_counts
from storage import queries, table_stats
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


# -- pages that cost the same at any size (issue 15, item 2) ------------------------------------

LIST_CASES = [
    ["open"], ["ready"], ["unclosed"], ["closed"], ["all"], ["running"], ["mine"],
    ["open", "mine"], ["ready", "mine"], ["unclosed", "mine"], ["running", "mine"],
    ["unclosed", "format=rss"], ["open", "format=rss"], ["all", "format=rss"],
    ["unclosed", "year=2025"], ["running", "year=2026"],
]  # fmt: skip


@contextmanager
def recording(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """The statements run, with their parameters, to ask the database how it plans them."""
    statements: list[tuple[str, Any]] = []

    def record(_conn, _cursor, statement, parameters, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


@contextmanager
def skipping(engine: Engine) -> Iterator[list[int]]:
    """The OFFSETs of the SELECTs run (SQLite's dialect writes OFFSET 0 for none)."""
    offsets: list[int] = []

    def record(_conn, clause, *_args) -> None:  # type: ignore[no-untyped-def]
        if isinstance(clause, sa.Select) and clause._offset:
            offsets.append(clause._offset)

    sa.event.listen(engine, "before_execute", record)
    try:
        yield offsets
    finally:
        sa.event.remove(engine, "before_execute", record)


def query_plan(engine: Engine, statement: str, parameters: Any) -> str:
    """How the database would run `statement`. On PostgreSQL, scans of the whole table and
    sorts are priced out of reach, so a plan still holding one means no index serves it."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            return "\n".join(str(row[-1]) for row in rows)
        for setting in ("seqscan", "sort", "incremental_sort", "bitmapscan"):
            connection.exec_driver_sql(f"SET enable_{setting} = off")
        rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
        return "\n".join(str(row[0]) for row in rows)


def assert_served_by_an_index(plan: str, dialect: str, looked_up: Sequence[str]) -> None:
    """No sort and no scan of the table, and the `looked_up` columns found in the index (not
    filtered row by row)."""
    if dialect == "sqlite":
        assert "TEMP B-TREE" not in plan, plan  # rows sorted after they are read
        reads = [line for line in plan.splitlines() if " activity" in f" {line}"]
        assert reads and all(line.startswith("SEARCH activity USING") for line in reads), plan
        found = " ".join(reads)
    else:
        assert "Sort" not in plan and "Seq Scan" not in plan, plan
        found = " ".join(line for line in plan.splitlines() if "Index Cond" in line)
    for column in looked_up:
        assert column in found, plan


@pytest.mark.parametrize("views", LIST_CASES, ids="+".join)
def test_every_list_page_is_read_from_an_index_in_list_order(
    engine: Engine, views: list[str]
) -> None:
    with Session(engine) as session:
        seed(session)
        session.commit()
        spread(engine, 3_000)
        listed_views = [v for v in views if "=" not in v]
        common = {"session": session, "team_id": TEAM, "today": TODAY, "views": listed_views}
        common |= {"owner_user_id": "U0JANE", "per_page": 1}
        for view in views:
            if view.startswith("format="):
                common["format_code"] = view.removeprefix("format=")
            if view.startswith("year="):
                common["year"] = int(view.removeprefix("year="))
        with recording(engine) as first:
            queries.list_activities(**common)
        with recording(engine) as turned, skipping(engine) as offsets:
            queries.list_activities(**common, page=2, after=(date(2025, 1, 14), "X-00000"))
            with recording(engine) as backwards:
                queries.list_activities(**common, page=3, before=(date(2026, 12, 31), "Z"))
    assert not offsets  # pages turn by key, not by skipping rows
    listed = [(s, p) for s, p in first + turned if "FROM activity" in s]
    assert len(listed) >= 5  # the counts and the pages
    for statement, parameters in listed:
        plan = query_plan(engine, statement, parameters)
        # The page after a key reads on from it, unless the list starts later (running
        # lists start today, this key is in 2025).
        from_key = "> (" in statement and not {"running", "year=2026"} & set(views)
        key = ["(end_date,activity_id)>" if engine.dialect.name == "sqlite" else "ROW(end_date"]
        assert_served_by_an_index(
            plan, engine.dialect.name, looked_up(views) + (key if from_key else [])
        )
    assert backwards


def spread(engine: Engine, count: int) -> None:
    """`count` more activities of many owners, formats and states, and statistics of them:
    the planner then chooses as it does for a real workspace, not a table of six rows."""
    formats = ["rss", "live-course", "enduring", "journal"]
    rows = [
        {
            "team_id": TEAM, "activity_id": f"X-{n:05d}", "title": "x", "format": formats[n % 4],
            "start_date": date(2025, 1, 1), "end_date": date(2025, 1, 1 + n % 28),
            "active_fields_complete": n % 3 == 0, "owner_user_id": f"U{n % 50}",
            "closed_at": NOW if n % 2 else None, "created_at": NOW, "created_by": "U1",
            "updated_at": NOW, "updated_by": "U1", "version": 1,
        }
        for n in range(count)
    ]  # fmt: skip
    with engine.begin() as connection:
        connection.execute(sa.insert(Activity.__table__), rows)
        table_stats.analyze(connection, ["activity"])


def looked_up(views: list[str]) -> list[str]:
    """The columns a list's index must hold, besides team_id and the order."""
    if "mine" in views:
        return ["owner_user_id"]
    if any(v.startswith("format=") for v in views):
        return ["format"]
    return ["active_fields_complete"] if "ready" in views else []


def insert_ready(engine: Engine, count: int, *, prefix: str = "R", month: int = 3) -> None:
    """`count` activities ready to close, written directly: far quicker than the service."""
    rows = [
        {
            "team_id": TEAM, "activity_id": f"{prefix}-{n:05d}", "title": f"Ready {n}",
            "format": "rss", "delivery_method": "live-streamed",
            "start_date": date(2026, 1, 1), "end_date": date(2026, month, 1 + n % 28),
            "credits": 1, "description": "d", "providership": "direct", "cme_finder": False,
            "active_fields_complete": True, "owner_user_id": "U0JANE",
            "created_at": NOW, "created_by": "U0JANE", "updated_at": NOW,
            "updated_by": "U0JANE", "version": 1,
        }
        for n in range(count)
    ]  # fmt: skip
    with engine.begin() as connection:
        connection.execute(sa.insert(Activity.__table__), rows)


def test_the_count_stops_after_a_thousand(engine: Engine) -> None:
    insert_ready(engine, 1_005)
    with Session(engine) as session:
        page = queries.list_activities(
            session=session, team_id=TEAM, today=TODAY, views=["ready"], per_page=10
        )
    assert page.more_than == 1_000
    assert (page.page, page.has_previous, page.has_next, len(page.rows)) == (1, False, True, 10)


def test_a_count_of_a_thousand_or_fewer_is_exact(engine: Engine) -> None:
    insert_ready(engine, 1_000)
    with Session(engine) as session:
        page = queries.list_activities(
            session=session, team_id=TEAM, today=TODAY, views=["ready"], per_page=10
        )
    assert (page.more_than, page.total, page.pages) == (None, 1_000, 100)


def test_pages_turn_from_the_last_row_shown_not_by_position(engine: Engine) -> None:
    insert_ready(engine, 30)
    with Session(engine) as session:

        def listed(**where: Any) -> queries.ActivityPage:
            return queries.list_activities(
                session=session, team_id=TEAM, today=TODAY, views=["ready"], per_page=10, **where
            )

        first = listed()
        keys = [queries.page_key(a) for a, _s in first.rows]
        # An activity that sorts first arrives while page 1 is read: page 2 goes on from the
        # last row shown, neither repeating it nor skipping one.
        insert_ready(engine, 1, prefix="EARLY", month=2)
        second = listed(page=2, after=keys[-1])
        third = listed(page=3, after=queries.page_key(second.rows[-1][0]))
        back = listed(page=2, before=queries.page_key(third.rows[0][0]))
    assert [a.activity_id for a, _s in second.rows] == [a.activity_id for a, _s in back.rows]
    seen = [a.activity_id for p in (first, second, third) for a, _s in p.rows]
    assert seen == [f"R-{n:05d}" for n in sorted(range(30), key=lambda n: (n % 28, n))]
    assert (third.has_next, third.page, back.has_previous, back.has_next) == (False, 3, True, True)


def test_next_after_the_last_rows_went_shows_the_last_page(engine: Engine) -> None:
    insert_ready(engine, 25)
    with Session(engine) as session:
        # The rows after the key of a page 3 were closed meanwhile, say.
        page = queries.list_activities(
            session=session, team_id=TEAM, today=TODAY, views=["ready"], per_page=10,
            page=4, after=(date(2026, 3, 31), "R-99999"),
        )  # fmt: skip
    assert (page.page, page.pages, page.has_previous, page.has_next) == (3, 3, True, False)
    assert [a.activity_id for a, _s in page.rows][-1] == "R-00024"
    assert len(page.rows) == 5
