"""A transaction is all or nothing, on SQLite and PostgreSQL alike; a conflict on one row
undoes only that row's write, so the caller may skip it and keep the rest."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from storage import activities as svc
from storage.activities import Actor
from storage.db import session_scope
from storage.errors import DuplicateActivityId, StaleEdit
from storage.models import Activity, AuditEvent, LearnerCount

TEAM = "T0TX"
JANE = Actor("U0JANE")
ADMIN = Actor("U0ADMIN", is_admin=True)
NOW = datetime(2026, 11, 25, 21, 0, tzinfo=UTC)
TODAY = date(2026, 11, 25)

# Everything PARS needs to close, but learner counts; ended a week before TODAY.
CLOSABLE = {
    "title": "Medicine Grand Rounds",
    "format": "rss",
    "start_date": "2026-01-07",
    "end_date": "2026-11-18",
    "delivery_method": "in-person",
    "city": "Chicago",
    "state": "IL",
    "country": "USA",
    "credits": "1",
    "description": "Weekly case conference",
    "providership": "direct",
    "cme_finder": "no",
    "outcome_measures": "knowledge",
    "commercial_support": "no",
}


def table_snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every committed row of every table."""
    with engine.connect() as connection:
        return {
            table.name: [
                tuple(row)
                for row in connection.execute(sa.select(table).order_by(*table.primary_key.columns))
            ]
            for table in SQLModel.metadata.sorted_tables
        }


def add(session: Session, activity_id: str, **fields: str) -> Activity:
    return svc.create_activity(
        session=session,
        team_id=TEAM,
        actor=JANE,
        raw=CLOSABLE | {"activity_id": activity_id} | fields,
        now=NOW,
        today=TODAY,
    )


def counts(session: Session, activity_id: str, physicians: str, others: str = "3") -> None:
    svc.record_counts(
        session=session,
        team_id=TEAM,
        actor=JANE,
        activity_id=activity_id,
        counts={"physician": physicians, "other": others},
        as_of=None,
        now=NOW,
        today=TODAY,
    )


def close(session: Session, activity_id: str) -> None:
    svc.close_activity(
        session=session, team_id=TEAM, actor=JANE, activity_id=activity_id, now=NOW, today=TODAY
    )


def edit(session: Session, target: str, **fields: str) -> None:
    svc.update_activity(
        session=session, team_id=TEAM, actor=JANE, activity_id=target, raw=fields, now=NOW
    )


def reopen(session: Session, activity_id: str) -> None:
    svc.reopen_activity(
        session=session, team_id=TEAM, actor=ADMIN, activity_id=activity_id, now=NOW
    )


def test_the_issues_example_leaves_nothing_behind(engine: Engine) -> None:
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        for i in range(3):
            svc.create_activity(
                session=session,
                team_id="T1",
                actor=Actor("U1"),
                now=NOW,
                raw={
                    "activity_id": f"B-{i}",
                    "title": "x",
                    "format": "rss",
                    "start_date": "2025-01-01",
                    "end_date": "2025-02-01",
                },
            )
        raise RuntimeError("boom")
    with Session(engine) as fresh:
        assert fresh.exec(select(Activity)).all() == []
        assert fresh.exec(select(AuditEvent)).all() == []


def _prepare_closed(session: Session) -> None:
    add(session, "DONE-1")
    counts(session, "DONE-1", "10")
    close(session, "DONE-1")


# Each service function, done several times in one transaction that then fails.
WORK: dict[str, tuple[Callable[[Session], None], Callable[[Session], None]]] = {
    "create": (lambda s: None, lambda s: [add(s, f"NEW-{i}") for i in range(3)] and None),
    "update": (
        lambda s: [add(s, f"OLD-{i}") for i in range(3)] and None,
        lambda s: (
            [edit(s, f"OLD-{i}", title=f"Renamed {i}", city="Evanston") for i in range(3)] and None
        ),
    ),
    "counts": (
        lambda s: [add(s, f"OLD-{i}") for i in range(3)] and None,
        lambda s: [counts(s, f"OLD-{i}", str(10 + i)) for i in range(3)] and None,
    ),
    "close": (
        lambda s: [(add(s, f"OLD-{i}"), counts(s, f"OLD-{i}", "5")) for i in range(3)] and None,
        lambda s: [close(s, f"OLD-{i}") for i in range(3)] and None,
    ),
    "reopen": (
        lambda s: _prepare_closed(s),
        lambda s: (reopen(s, "DONE-1"), edit(s, "DONE-1", title="Changed after reopening")),
    ),
}


@pytest.mark.parametrize("kind", list(WORK))
def test_a_failed_transaction_leaves_every_table_as_it_was(engine: Engine, kind: str) -> None:
    prepare, work = WORK[kind]
    with session_scope(engine) as session:
        prepare(session)
    before = table_snapshot(engine)
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        work(session)
        assert table_snapshot(engine) == before  # nothing visible to others before commit
        raise RuntimeError("the handler failed half-way")
    assert table_snapshot(engine) == before


def test_a_duplicate_id_in_the_middle_keeps_the_work_before_it(engine: Engine) -> None:
    with session_scope(engine) as session:
        add(session, "GR-1")
    with session_scope(engine) as session:
        add(session, "GR-2")
        with pytest.raises(DuplicateActivityId):
            add(session, "GR-1")
        add(session, "GR-3")
    with Session(engine) as fresh:
        ids = sorted(a.activity_id for a in fresh.exec(select(Activity)).all())
        assert ids == ["GR-1", "GR-2", "GR-3"]
        audited = sorted(e.activity_id for e in fresh.exec(select(AuditEvent)).all())
        assert audited == ["GR-1", "GR-2", "GR-3"]


def test_a_concurrent_change_in_the_middle_keeps_the_work_before_it(engine: Engine) -> None:
    with session_scope(engine) as session:
        add(session, "GR-1")
    with Session(engine, expire_on_commit=False) as batch:
        # The batch reads GR-1; a colleague changes it and commits; the batch writes on.
        stale = svc.get_activity(session=batch, team_id=TEAM, activity_id="GR-1")
        assert stale.title == "Medicine Grand Rounds"
        with session_scope(engine) as colleague:
            edit(colleague, "GR-1", title="Colleague's title")
        add(batch, "GR-2")
        counts(batch, "GR-2", "40")
        with pytest.raises(StaleEdit) as conflict:
            edit(batch, "GR-1", title="Batch title")
        assert "Title" in conflict.value.message
        add(batch, "GR-3")  # the batch skips the row and goes on
        batch.commit()
    with Session(engine) as fresh:
        titles = {a.activity_id: a.title for a in fresh.exec(select(Activity)).all()}
        assert titles == {
            "GR-1": "Colleague's title",
            "GR-2": "Medicine Grand Rounds",
            "GR-3": "Medicine Grand Rounds",
        }
        [count] = fresh.exec(select(LearnerCount).where(LearnerCount.category == "physician"))
        assert count.count == 40


def test_the_service_never_ends_the_callers_transaction(engine: Engine) -> None:
    """Refused changes raise; what the caller did before stays pending in its transaction."""
    with session_scope(engine) as session:
        add(session, "GR-1")
    with Session(engine) as session:
        add(session, "GR-2")
        with pytest.raises(DuplicateActivityId):
            edit(session, "GR-2", activity_id="GR-1")
        assert session.in_transaction()
        session.rollback()
    with Session(engine) as fresh:
        assert [a.activity_id for a in fresh.exec(select(Activity)).all()] == ["GR-1"]


def test_an_audit_row_names_the_batch(engine: Engine) -> None:
    with session_scope(engine) as session:
        add(session, "GR-1")
        counts(session, "GR-1", "12")
        svc.close_activity(
            session=session,
            team_id=TEAM,
            actor=JANE,
            activity_id="GR-1",
            now=NOW + timedelta(minutes=1),
            today=TODAY,
            batch_id="batch-7",
        )
    with Session(engine) as fresh:
        [closed] = fresh.exec(select(AuditEvent).where(AuditEvent.action == "close")).all()
        assert closed.batch_id == "batch-7"
