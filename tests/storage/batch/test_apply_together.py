"""Rows that only add activities are written together: the same rows, counts and audit trail
as one at a time, and a conflict with another process still refuses only its own row."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage import activities as service
from storage.batch.apply import run_rows
from storage.batch.plan import plan_rows
from storage.db import session_scope
from storage.errors import DuplicateActivityId
from storage.models import Activity, AuditEvent, LearnerCount
from storage.sheets.read import read_file
from storage.sheets.rows import sheet_rows
from tests.conftest import NOW, TODAY
from tests.storage.batch.files import grand_rounds, table, xlsx
from tests.storage.batch.helpers import ALICE, TEAM, apply, preview


def rows_of(data: bytes) -> list:  # type: ignore[type-arg]
    return sheet_rows(read_file(data, "a.xlsx"), "a.xlsx").rows


def trail(engine: Engine) -> list[tuple[str, str, dict]]:  # type: ignore[type-arg]
    with Session(engine) as session:
        events = session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
        return [(e.activity_id, e.action, e.changes) for e in events]


def test_adding_together_stores_what_one_by_one_stores(engine: Engine) -> None:
    batch = preview(engine, xlsx(table([grand_rounds("GR-1"), grand_rounds("GR-2")]))).batch_id
    assert apply(engine, batch).summary.added == 2
    with Session(engine) as session:
        stored = session.exec(select(Activity).order_by(col(Activity.activity_id))).all()
    assert [a.activity_id for a in stored] == ["GR-1", "GR-2"]
    assert all(a.version == 1 and a.created_by == "U0ALICE" for a in stored)
    assert all(a.active_fields_complete for a in stored)
    # The same activity added alone, in another workspace, for comparison.
    with session_scope(engine) as session:
        service.add_checked(
            session=session, team_id="T0OTHER", actor=ALICE, now=NOW,
            values={k: getattr(stored[0], k) for k in service.FIELD_NAMES},
        )  # fmt: skip
    creates = [(aid, changes) for aid, action, changes in trail(engine) if action == "create"]
    assert [aid for aid, _ in creates] == ["GR-1", "GR-2", "GR-1"]
    assert creates[0][1] == creates[2][1]


def test_first_counts_of_new_activities_are_recorded_and_audited(engine: Engine) -> None:
    row = grand_rounds("GR-1") | {"Physician learners": 40, "Other learners": 3}
    apply(engine, preview(engine, xlsx(table([row]))).batch_id)
    with Session(engine) as session:
        counts = {c.category: c.count for c in session.exec(select(LearnerCount)).all()}
    assert counts == {"physician": 40, "other": 3}
    [(aid, _action, changes)] = [e for e in trail(engine) if e[1] == "counts"]
    assert aid == "GR-1"
    assert changes["learners_physician"] == {"before": "", "after": "40"}


def test_all_or_none_when_an_id_is_taken(engine: Engine) -> None:
    with session_scope(engine) as session:
        service.add_checked(
            session=session, team_id=TEAM, actor=ALICE, now=NOW,
            values={"activity_id": "TAKEN", "title": "x", "format": "rss",
                    "start_date": TODAY.replace(month=1, day=7),
                    "end_date": TODAY.replace(month=2, day=7)},
        )  # fmt: skip
    values = {"title": "y", "format": "rss", "start_date": TODAY.replace(month=1, day=7),
              "end_date": TODAY.replace(month=2, day=7)}  # fmt: skip
    with session_scope(engine) as session:
        with pytest.raises(DuplicateActivityId):
            service.add_many_checked(
                session=session, team_id=TEAM, actor=ALICE, now=NOW,
                records=[values | {"activity_id": "NEW"}, values | {"activity_id": "TAKEN"}],
            )  # fmt: skip
        assert session.in_transaction()
    with Session(engine) as session:
        assert sorted(session.exec(select(Activity.activity_id)).all()) == ["TAKEN"]


def test_an_id_taken_after_the_check_refuses_only_its_row(engine: Engine) -> None:
    data = xlsx(table([grand_rounds("GR-1"), grand_rounds("GR-2"), grand_rounds("GR-3")]))
    with Session(engine) as session:
        plan = plan_rows(
            session=session, team_id=TEAM, actor=ALICE, rows=rows_of(data), today=TODAY
        )
    # Another process adds GR-2 between the check and the write.
    apply(engine, preview(engine, xlsx(table([grand_rounds("GR-2")]))).batch_id)
    with session_scope(engine) as session:
        done, errors = run_rows(
            session=session, team_id=TEAM, plan=plan, rows=rows_of(data), actor=ALICE, now=NOW,
            today=TODAY, batch_id="B-TEST",
        )  # fmt: skip
    assert done.added == 2 and done.errors == 1
    assert [(row, aid) for row, aid, _message in errors] == [(3, "GR-2")]
    with Session(engine) as session:
        batch = session.exec(select(AuditEvent.activity_id).where(AuditEvent.batch_id == "B-TEST"))
        assert sorted(set(batch.all())) == ["GR-1", "GR-3"]
