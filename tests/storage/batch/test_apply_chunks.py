"""Apply reads, checks and writes its rows a chunk at a time (storage/batch/apply.py): the
outcome is the one of a single pass, and a failure in a later chunk undoes the earlier ones."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage import activities as service
from storage.batch import apply as applying
from storage.batch.apply import Applied, apply_plan
from storage.batch.preview import preview_file
from storage.batch.store import PREVIEWED, claim_file
from storage.db import session_scope
from storage.models import Activity, AuditEvent, BatchPlan, LearnerCount
from tests.conftest import NOW, TODAY
from tests.storage.batch.files import grand_rounds, table, xlsx
from tests.storage.batch.helpers import ALICE


def _preview(engine: Engine, team_id: str, data: bytes) -> str:
    claim = claim_file(
        engine=engine, team_id=team_id, user_id=ALICE.user_id, file_id=None,
        file_name="activities.xlsx", now=NOW,
    )  # fmt: skip
    preview_file(
        engine=engine, plan_id=claim.plan_id, team_id=team_id, actor=ALICE, data=data,
        file_name="activities.xlsx", today=TODAY,
    )  # fmt: skip
    return claim.plan_id


def _apply(engine: Engine, team_id: str, plan_id: str) -> Applied:
    with session_scope(engine) as session:
        return apply_plan(
            session=session, team_id=team_id, plan_id=plan_id, actor=ALICE, now=NOW, today=TODAY
        )


def _stored(engine: Engine, team_id: str) -> dict[str, Any]:
    """What a user would see of a workspace: each activity, its counts, the audit trail."""
    with Session(engine) as session:
        activities = session.exec(
            select(Activity).where(Activity.team_id == team_id).order_by(col(Activity.activity_id))
        ).all()
        counted = session.exec(
            select(Activity.activity_id, LearnerCount.category, LearnerCount.count)
            .join(Activity, col(Activity.id) == LearnerCount.activity_pk)
            .where(Activity.team_id == team_id)
            .order_by(col(LearnerCount.id))
        ).all()
        trail = session.exec(
            select(AuditEvent).where(AuditEvent.team_id == team_id).order_by(col(AuditEvent.id))
        ).all()
        return {
            "activities": [
                {k: getattr(a, k) for k in (*service.FIELD_NAMES, "version", "closed_at")}
                for a in activities
            ],
            "counts": [tuple(c) for c in counted],
            "trail": [(e.activity_id, e.action, e.changes) for e in trail],
        }


def _mixed_file() -> bytes:
    """Adds, an update, an error, and a second sheet counting what the first adds and
    updates: with chunks of two rows, the counts come chunks after the rows they follow."""
    activities = [
        grand_rounds("GR-1"),
        grand_rounds("GR-2", City="Evanston"),
        grand_rounds("OLD-1", City="Evanston"),
        grand_rounds("GR-3", **{"Start date": "not a date"}),
        grand_rounds("GR-4"),
    ]
    return xlsx(
        {
            "Activities": table(activities),
            "Counts": [
                ["Activity ID", "Physician learners", "Other learners"],
                ["GR-1", 30, 2],
                ["OLD-1", 12, 0],
                ["GR-4", 8, 1],
            ],
        }
    )


def test_applied_in_small_chunks_the_outcome_is_that_of_one_pass(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcomes = {}
    for team_id, chunk in (("T0WHOLE", applying.APPLY_CHUNK), ("T0CHUNKS", 2)):
        monkeypatch.setattr(applying, "APPLY_CHUNK", chunk)
        _apply(engine, team_id, _preview(engine, team_id, xlsx(table([grand_rounds("OLD-1")]))))
        result = _apply(engine, team_id, _preview(engine, team_id, _mixed_file()))
        outcomes[team_id] = (result.summary, result.errors, result.since_preview)
    assert outcomes["T0CHUNKS"] == outcomes["T0WHOLE"]
    summary, errors, _ = outcomes["T0CHUNKS"]
    assert (summary.added, summary.updated, summary.counts, summary.errors) == (3, 1, 3, 1)
    assert [(row, aid) for row, aid, _ in errors] == [(5, "GR-3")]
    whole, chunks = _stored(engine, "T0WHOLE"), _stored(engine, "T0CHUNKS")
    assert chunks == whole
    assert ("GR-1", "physician", 30) in chunks["counts"]


def test_a_failure_in_a_later_chunk_undoes_the_earlier_chunks(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan_id = _preview(engine, "T0CHUNKS", xlsx(table([grand_rounds(f"GR-{i}") for i in range(5)])))
    monkeypatch.setattr(applying, "APPLY_CHUNK", 2)
    real, calls = service.add_many_checked, []

    def fails_the_third_time(**kwargs):  # type: ignore[no-untyped-def]
        calls.append(len(kwargs["records"]))
        if len(calls) == 3:
            raise RuntimeError("the database went away")
        return real(**kwargs)

    monkeypatch.setattr(service, "add_many_checked", fails_the_third_time)
    with pytest.raises(RuntimeError):
        _apply(engine, "T0CHUNKS", plan_id)
    assert calls == [2, 2, 1]  # two chunks were written before the third failed
    assert _stored(engine, "T0CHUNKS") == {"activities": [], "counts": [], "trail": []}
    with Session(engine) as session:
        assert session.get(BatchPlan, plan_id).status == PREVIEWED  # type: ignore[union-attr]
    monkeypatch.setattr(service, "add_many_checked", real)
    assert _apply(engine, "T0CHUNKS", plan_id).summary.added == 5  # Apply works again


def test_a_reupload_in_small_chunks_checks_and_writes_only_the_rows_that_change(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = [grand_rounds(f"GR-{i}") for i in range(5)]
    _apply(engine, "T0CHUNKS", _preview(engine, "T0CHUNKS", xlsx(table(records))))
    records[1]["City"], records[3]["City"] = "Evanston", "Skokie"
    plan_id = _preview(engine, "T0CHUNKS", xlsx(table(records)))
    monkeypatch.setattr(applying, "APPLY_CHUNK", 1)
    result = _apply(engine, "T0CHUNKS", plan_id)
    assert (result.summary.unchanged, result.summary.updated) == (3, 2)
    updates = [(aid, action) for aid, action, _ in _stored(engine, "T0CHUNKS")["trail"][-2:]]
    assert updates == [("GR-1", "update"), ("GR-3", "update")]
