"""Applying a preview: once, whole, as the data is now, audited under one batch ID; undo."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage import table_stats
from storage.activities import Actor, update_activity
from storage.batch.apply import ApplyRefused
from storage.batch.plan import Tally
from storage.batch.undo import CannotRestore, ChangedSince, undo_batch
from storage.db import session_scope
from storage.errors import NotPermitted
from storage.models import Activity, BatchPlan
from tests.conftest import NOW
from tests.storage.batch.files import grand_rounds, table, xlsx
from tests.storage.batch.helpers import (
    ADMIN,
    ALICE,
    BOB,
    TEAM,
    apply,
    audit,
    counts,
    ids,
    load,
    preview,
)

ROOT = Path(__file__).resolve().parents[3]


def many(n: int, prefix: str = "A") -> bytes:
    return xlsx(table([grand_rounds(f"{prefix}-{i:03d}") for i in range(n)]))


def test_every_change_of_an_apply_is_audited_under_its_batch_id(engine: Engine) -> None:
    apply(engine, preview(engine, many(2)).batch_id)
    change = xlsx(
        table(
            [
                {
                    "Activity ID": "A-000",
                    "City": "Evanston",
                    "Physician learners": 5,
                    "Other learners": 1,
                    "Status": "Closed",
                }
            ]
        )
    )
    batch = preview(engine, change).batch_id
    result = apply(engine, batch)
    assert result.summary.updated == 1 and result.summary.closed == 1
    mine = [(a, action) for a, action, b in audit(engine) if b == batch]
    assert mine == [("A-000", "update"), ("A-000", "counts"), ("A-000", "close")]


def test_a_second_apply_changes_nothing_and_says_it_was_applied(engine: Engine) -> None:
    batch = preview(engine, many(3)).batch_id
    apply(engine, batch)
    with pytest.raises(
        ApplyRefused, match=f"This batch \\({batch}\\) was already applied by @U0ALICE"
    ):
        apply(engine, batch)
    assert len(ids(engine)) == 3


def test_two_applies_at_once_apply_once(engine: Engine) -> None:
    batch = preview(engine, many(30)).batch_id
    outcomes: list[str] = []

    def click() -> None:
        try:
            apply(engine, batch)
            outcomes.append("applied")
        except ApplyRefused:
            outcomes.append("refused")

    clicks = [threading.Thread(target=click) for _ in range(2)]
    for t in clicks:
        t.start()
    for t in clicks:
        t.join(60)
    assert sorted(outcomes) == ["applied", "refused"]
    assert len(ids(engine)) == 30
    assert len([1 for _, action, _ in audit(engine) if action == "create"]) == 30


def test_apply_checks_again_and_says_what_changed_since_the_preview(engine: Engine) -> None:
    apply(engine, preview(engine, many(1)).batch_id)
    batch = preview(engine, xlsx([["Activity ID", "City"], ["A-000", "Evanston"]])).batch_id
    with session_scope(engine) as session:  # a colleague makes the same change meanwhile
        update_activity(
            session=session,
            team_id=TEAM,
            actor=ALICE,
            activity_id="A-000",
            raw={"city": "Evanston"},
            now=NOW,
        )
    result = apply(engine, batch)
    assert result.since_preview == ["row 2 (A-000): previewed as an update, now unchanged"]
    assert result.summary.updated == 0


def test_a_plan_previewed_when_outcomes_were_kept_as_dicts_still_applies(
    engine: Engine,
) -> None:
    # A deployment during a preview: the plan was stored by the code before this one.
    apply(engine, preview(engine, many(1)).batch_id)
    batch = preview(engine, xlsx([["Activity ID", "City"], ["A-000", "Evanston"]])).batch_id
    with session_scope(engine) as session:
        plan = session.get(BatchPlan, batch)
        assert plan is not None and plan.summary is not None
        assert plan.summary["rows"] == [["Activities", 2, "update", False, False]]
        keys = ("sheet", "row", "action", "counts", "close")
        old = [dict(zip(keys, r, strict=True)) for r in plan.summary["rows"]]
        plan.summary = {**plan.summary, "rows": old}
        update_activity(
            session=session, team_id=TEAM, actor=ALICE, activity_id="A-000",
            raw={"city": "Evanston"}, now=NOW,
        )  # fmt: skip
    result = apply(engine, batch)
    assert result.since_preview == ["row 2 (A-000): previewed as an update, now unchanged"]


def test_a_change_meanwhile_to_a_row_previewed_unchanged_is_seen_at_apply(
    engine: Engine,
) -> None:
    apply(engine, preview(engine, many(3)).batch_id)
    again = preview(engine, many(3))  # the same file: nothing to do
    assert again.summary.unchanged == 3 and not again.changes_anything
    with session_scope(engine) as session:  # a colleague edits one of them meanwhile
        update_activity(
            session=session,
            team_id=TEAM,
            actor=ALICE,
            activity_id="A-001",
            raw={"city": "Evanston"},
            now=NOW,
        )
    result = apply(engine, again.batch_id)
    assert result.since_preview == ["row 3 (A-001): previewed as unchanged, now an update"]
    assert (result.summary.updated, result.summary.unchanged) == (1, 2)
    stored = load(engine, "A-001")
    assert stored is not None and stored.city == "Chicago"  # as the file says


def test_every_kind_of_change_moves_the_data_mark_and_reading_does_not(engine: Engine) -> None:
    # Apply trusts a preview's "unchanged" only while the mark stands still.
    from storage.activities import close_activity, create_activity, reopen_activity
    from storage.batch.plan import data_mark
    from storage.counts import record_counts
    from tests.conftest import TODAY

    def mark() -> str:
        with Session(engine) as session:
            return data_mark(session, TEAM)

    marks = [mark()]
    batch = preview(engine, many(1)).batch_id
    assert mark() == marks[-1]  # a preview writes nothing
    apply(engine, batch)
    marks.append(mark())
    undone = preview(engine, many(1, "U")).batch_id
    apply(engine, undone)
    marks.append(mark())
    changes = [
        lambda s: undo_batch(session=s, team_id=TEAM, batch_id=undone, actor=ADMIN, now=NOW),
        lambda s: create_activity(
            session=s,
            team_id=TEAM,
            actor=ALICE,
            raw={
                "activity_id": "B-1",
                "title": "Tumor board",
                "format": "rss",
                "start_date": "2025-01-07",
                "end_date": "2025-12-16",
            },
            now=NOW,
        ),
        lambda s: update_activity(
            session=s, team_id=TEAM, actor=ALICE, activity_id="A-000", raw={"city": "X"}, now=NOW
        ),
        lambda s: update_activity(
            session=s, team_id=TEAM, actor=ALICE, activity_id="A-000", raw={"city": "Y"}, now=NOW
        ),
        lambda s: record_counts(
            session=s,
            team_id=TEAM,
            actor=ALICE,
            activity_id="A-000",
            counts={"physician": "12", "other": "0"},
            as_of=None,
            now=NOW,
            today=TODAY,
        ),
        lambda s: close_activity(
            session=s, team_id=TEAM, actor=ALICE, activity_id="A-000", now=NOW, today=TODAY
        ),
        lambda s: reopen_activity(
            session=s, team_id=TEAM, actor=ADMIN, activity_id="A-000", now=NOW
        ),
    ]
    for change in changes:
        with session_scope(engine) as session:
            change(session)
        marks.append(mark())
    assert len(set(marks)) == len(marks), marks
    with Session(engine) as session:  # another workspace's changes are not this one's
        assert data_mark(session, "T0OTHER") == "0:0"


def _checked_at_apply(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The activity IDs an Apply checks again, a row at a time (spied on the real planner)."""
    from storage.batch import apply as applying

    seen: list[str] = []
    real = applying.plan_row

    def spy(row, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(row.activity_id)
        return real(row, **kwargs)

    monkeypatch.setattr(applying, "plan_row", spy)
    return seen


def test_a_reupload_with_nothing_written_since_checks_only_rows_that_change(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    apply(engine, preview(engine, many(3)).batch_id)
    before = audit(engine)
    records = [grand_rounds(f"A-{i:03d}") for i in range(3)]
    records[2]["City"] = "Evanston"
    batch = preview(engine, xlsx(table(records))).batch_id
    checked = _checked_at_apply(monkeypatch)
    result = apply(engine, batch)
    assert checked == ["A-002"]  # the two rows previewed unchanged were not read again
    assert (result.summary.unchanged, result.summary.updated) == (2, 1)
    assert audit(engine)[len(before) :] == [("A-002", "update", batch)]


def test_the_same_file_again_is_applied_without_reading_its_rows(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    apply(engine, preview(engine, many(3)).batch_id)
    before = audit(engine)
    batch = preview(engine, many(3)).batch_id
    checked = _checked_at_apply(monkeypatch)
    result = apply(engine, batch)
    assert checked == []
    assert result.summary == Tally(unchanged=3)
    assert audit(engine) == before


def test_an_activity_on_two_sheets_is_checked_again_whole(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The counts sheet's row is compared with what the first sheet leaves: both are rechecked.
    apply(engine, preview(engine, many(1)).batch_id)
    two_sheets = {
        "Activities": table([grand_rounds("A-000")]),
        "Counts": [["Activity ID", "Physician learners"], ["A-000", 5]],
    }
    batch = preview(engine, xlsx(two_sheets)).batch_id
    checked = _checked_at_apply(monkeypatch)
    result = apply(engine, batch)
    assert checked == ["A-000", "A-000"]
    assert result.summary.counts == 1


def test_a_preview_expires_after_seven_days(engine: Engine) -> None:
    batch = preview(engine, many(1)).batch_id
    with pytest.raises(ApplyRefused, match="This preview expired on 2026-12-02"):
        apply(engine, batch, now=NOW + timedelta(days=7, minutes=1))
    assert ids(engine) == []
    apply(engine, batch, now=NOW + timedelta(days=6))  # still good before that
    assert ids(engine) == ["A-000"]


def test_only_the_uploader_or_an_admin_may_apply(engine: Engine) -> None:
    batch = preview(engine, many(1)).batch_id
    with pytest.raises(NotPermitted, match="Only @U0ALICE, who shared this file, or an admin"):
        apply(engine, batch, actor=BOB)
    apply(engine, batch, actor=ADMIN)
    assert ids(engine) == ["A-000"]
    # An admin applied it, but what the file added is Alice's, as the preview said.
    stored = load(engine, "A-000")
    assert stored is not None and stored.owner_user_id == "U0ALICE"


def test_an_admins_click_applies_what_the_preview_said_no_more(engine: Engine) -> None:
    apply(engine, preview(engine, many(1), actor=BOB).batch_id, actor=BOB)  # Bob's A-000
    change = xlsx(table([{"Activity ID": "A-000", "City": "Evanston"}]))
    alices = preview(engine, change)  # Alice may not change Bob's activity: an error row
    assert alices.summary.errors == 1
    result = apply(engine, alices.batch_id, actor=ADMIN)
    assert result.summary.updated == 0 and result.summary.errors == 1
    stored = load(engine, "A-000")
    assert stored is not None and stored.city == "Chicago"


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_a_process_killed_mid_apply_leaves_the_database_as_before(engine: Engine) -> None:
    apply(engine, preview(engine, many(1, "OLD")).batch_id)
    before = audit(engine)
    batch = preview(engine, many(40)).batch_id
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.storage.batch.crash_apply", _url(engine), TEAM, batch],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("halfway"), (line, process.stderr.read() if process.stderr else "")
    finally:
        process.kill()
        process.wait(30)
    assert ids(engine) == ["OLD-000"]  # none of the 20 rows written before the kill
    assert audit(engine) == before
    with Session(engine) as session:
        plan = session.get(BatchPlan, batch)
        assert plan is not None and plan.status == "previewed"
    apply(engine, batch)  # and it can still be applied
    assert len(ids(engine)) == 41


def test_undo_takes_back_additions_updates_counts_and_closes(engine: Engine) -> None:
    apply(engine, preview(engine, many(1)).batch_id)
    change = xlsx(
        table(
            [
                {
                    "Activity ID": "A-000",
                    "City": "Evanston",
                    "Physician learners": 5,
                    "Other learners": 1,
                    "Status": "Closed",
                },
                grand_rounds("NEW-1"),
            ]
        )
    )
    batch = preview(engine, change).batch_id
    apply(engine, batch)
    with pytest.raises(NotPermitted, match="Only admins"), session_scope(engine) as session:
        undo_batch(session=session, team_id=TEAM, batch_id=batch, actor=ALICE, now=NOW)
    with session_scope(engine) as session:  # the ID as a person might type it
        done = undo_batch(
            session=session, team_id=TEAM, batch_id=f" {batch.lower()}", actor=ADMIN, now=NOW
        )
    assert (done.removed, done.restored) == (["NEW-1"], ["A-000"])
    restored = load(engine, "A-000")
    assert restored is not None and restored.city == "Chicago" and restored.closed_at is None
    assert counts(engine, "A-000") == [] and ids(engine) == ["A-000"]


def test_undo_refuses_naming_the_activities_changed_since(engine: Engine) -> None:
    batch = preview(engine, many(3)).batch_id
    apply(engine, batch)
    with session_scope(engine) as session:
        update_activity(
            session=session,
            team_id=TEAM,
            actor=Actor(user_id="U0BOB", is_admin=True),
            activity_id="A-001",
            raw={"city": "Evanston"},
            now=NOW,
        )
    with (
        pytest.raises(ChangedSince, match="changed after it was applied: `A-001`"),
        session_scope(engine) as session,
    ):
        undo_batch(session=session, team_id=TEAM, batch_id=batch, actor=ADMIN, now=NOW)
    assert len(ids(engine)) == 3


def test_undo_refuses_when_an_earlier_value_cannot_be_put_back(engine: Engine) -> None:
    # "ENG" was stored when country codes were read more loosely; today it is refused.
    apply(engine, preview(engine, many(1)).batch_id)
    with session_scope(engine) as session:
        session.execute(
            sa.update(Activity)
            .where(Activity.activity_id == "A-000")
            .values(country="ENG", state=None)
        )
    change = xlsx(table([{"Activity ID": "A-000", "Country": "GBR"}]))
    batch = preview(engine, change).batch_id
    assert apply(engine, batch).summary.updated == 1
    with (
        pytest.raises(CannotRestore, match=r"earlier value of `A-000` can't be put back"),
        session_scope(engine) as session,
    ):
        undo_batch(session=session, team_id=TEAM, batch_id=batch, actor=ADMIN, now=NOW)
    stored = load(engine, "A-000")
    assert stored is not None and stored.country == "GBR"
    with Session(engine) as session:
        assert session.get(BatchPlan, batch).status == "applied"  # type: ignore[union-attr]


def test_large_files_report_progress_while_checked_and_applied(engine: Engine) -> None:
    # The thread message shows these, so a coordinator with thousands of rows sees it moving.
    from storage.batch.apply import apply_plan
    from storage.batch.preview import preview_file
    from storage.batch.store import claim_file
    from tests.conftest import TODAY

    name = "big.xlsx"
    claim = claim_file(
        engine=engine, team_id=TEAM, user_id=ALICE.user_id, file_id=None, file_name=name, now=NOW
    )
    said: list[str] = []
    preview_file(
        engine=engine,
        plan_id=claim.plan_id,
        team_id=TEAM,
        actor=ALICE,
        data=many(2001, "P"),
        file_name=name,
        today=TODAY,
        progress=said.append,
    )
    assert said == [
        "Read 2,001 rows of big.xlsx; checking them…",
        "Checked 2,000 of 2,001 rows of big.xlsx…",
    ]
    steps: list[tuple[int, int]] = []
    with session_scope(engine) as session:
        apply_plan(
            session=session,
            team_id=TEAM,
            plan_id=claim.plan_id,
            actor=ALICE,
            now=NOW,
            today=TODAY,
            progress=lambda done, total: steps.append((done, total)),
        )
    assert steps[0] == (200, 2001) and steps[-1] == (2000, 2001) and len(steps) == 10


def test_a_count_that_did_not_change_adds_no_second_history_line(engine: Engine) -> None:
    first = {"Physician learners": 40, "Other learners": 12, "Counts as of": "2025-12-16"}
    apply(engine, preview(engine, xlsx(table([grand_rounds("GR-1", **first)]))).batch_id)
    again = preview(engine, xlsx(table([grand_rounds("GR-1", **(first | {"Other learners": 15}))])))
    assert again.summary.counts == 1
    apply(engine, again.batch_id)
    assert sorted(counts(engine, "GR-1")) == [
        ("other", 12, "2025-12-16"),
        ("other", 15, "2025-12-16"),
        ("physician", 40, "2025-12-16"),
    ]
    same = preview(engine, xlsx(table([grand_rounds("GR-1", **(first | {"Other learners": 15}))])))
    assert same.summary.counts == 0 and same.summary.unchanged == 1


def analyses(engine: Engine) -> dict[str, object]:
    """Per table, a mark that moves each time it is analyzed (PostgreSQL) or its statistics
    change (SQLite), once the analyses an Apply started in the background are done."""
    table_stats.wait(timeout=60)
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            rows = connection.exec_driver_sql(
                "SELECT relname, analyze_count FROM pg_stat_user_tables"
            ).all()
            return {name: count for name, count in rows}
        if not sa.inspect(connection).has_table("sqlite_stat1"):
            return {}
        marks: dict[str, object] = {}
        for table, index, stat in connection.exec_driver_sql("SELECT * FROM sqlite_stat1"):
            marks[table] = (*marks.get(table, ()), (index, stat))  # type: ignore[misc]
        return marks


def moved(before: dict[str, object], after: dict[str, object]) -> set[str]:
    return {name for name, mark in after.items() if before.get(name) != mark}


def test_an_apply_of_many_rows_brings_the_planner_statistics_up_to_date(engine: Engine) -> None:
    # Until then PostgreSQL plans a page of 100,000 activities as if the table were empty.
    before = analyses(engine)
    apply(engine, preview(engine, many(20)).batch_id)
    assert moved(before, analyses(engine)) == set()  # a few rows change nothing much
    counted = {"Physician learners": 40, "Other learners": 2}
    big = xlsx(table([grand_rounds(f"B-{i:04d}", **counted) for i in range(1_001)]))
    apply(engine, preview(engine, big).batch_id)
    assert {"activity", "learner_count", "audit_event"} <= moved(before, analyses(engine))


def test_an_apply_small_beside_the_workspace_leaves_its_statistics_be(engine: Engine) -> None:
    # As autovacuum does: a tenth of the rows changed makes statistics stale, less does not.
    stored = [
        {"team_id": TEAM, "activity_id": f"S-{n:05d}", "title": "Stored", "format": "rss",
         "start_date": NOW.date(), "end_date": NOW.date(), "created_at": NOW,
         "created_by": "U1", "updated_at": NOW, "updated_by": "U1", "version": 1}
        for n in range(10_100)
    ]  # fmt: skip
    with engine.begin() as connection:
        connection.execute(sa.insert(Activity.__table__), stored)
        table_stats.analyze(connection, ["activity"])
    before = analyses(engine)
    apply(engine, preview(engine, many(1_001, "B")).batch_id)
    assert "activity" not in moved(before, analyses(engine))
    assert "audit_event" in moved(before, analyses(engine))  # from none to 1,001 rows
