"""The activity service on a real database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from storage import activities as svc
from storage import counts as learner_counts
from storage import queries
from storage.activities import Actor
from storage.errors import (
    ActivityClosed,
    ActivityNotFound,
    CloseRefused,
    CountDecreaseNeedsConfirmation,
    DuplicateActivityId,
    LowerCount,
    NotPermitted,
    ParsError,
    StaleEdit,
    ValidationFailed,
)
from storage.models import Activity, AuditEvent, LearnerCount
from storage.pars.rules import Need, Status
from tests.conftest import NOW, TODAY

TEAM = "T0TEAMA"
TEAM_B = "T0TEAMB"
JANE = Actor("U0JANE")
BOB = Actor("U0BOB")
ADMIN = Actor("U0ADMIN", is_admin=True)
LATER = NOW + timedelta(hours=2)

# A weekly series that ended a week before TODAY: a Draft until more is filled in.
GRAND_ROUNDS: dict[str, str] = {
    "title": "Medicine Grand Rounds",
    "format": "rss",
    "start_date": "2026-01-07",
    "end_date": "2026-11-18",
}
# Everything PARS needs to close it, except the learner counts.
COMPLETE: dict[str, str] = GRAND_ROUNDS | {
    "delivery_method": "in-person",
    "city": "Chicago",
    "state": "IL",
    "country": "USA",
    "credits": "1",
    "description": "Weekly case conference",
    "providership": "direct",
    "cme_finder": "no",
    "outcome_measures": "knowledge, competence",
    "commercial_support": "no",
}


def create(
    session: Session,
    raw: dict[str, str] | None = None,
    *,
    team: str = TEAM,
    actor: Actor = JANE,
    **fields: str,
) -> Activity:
    return svc.create_activity(
        session=session, team_id=team, actor=actor, raw=(raw or GRAND_ROUNDS) | fields, now=NOW
    )


def update(
    session: Session,
    target: str,
    *,
    team: str = TEAM,
    actor: Actor = JANE,
    now: datetime = LATER,
    expected_version: int | None = None,
    **fields: str,
) -> svc.Update:
    return svc.update_activity(
        session=session,
        team_id=team,
        actor=actor,
        activity_id=target,
        raw=fields,
        now=now,
        expected_version=expected_version,
    )


def record(
    session: Session,
    target: str,
    *,
    team: str = TEAM,
    actor: Actor = JANE,
    as_of: str | None = None,
    confirm_lower: bool = False,
    now: datetime = LATER,
    **counts: str,
) -> learner_counts.CountsRecorded:
    return learner_counts.record_counts(
        session=session,
        team_id=team,
        actor=actor,
        activity_id=target,
        counts=counts,
        as_of=as_of,
        now=now,
        today=TODAY,
        confirm_lower=confirm_lower,
    )


def close(session: Session, target: str, *, team: str = TEAM, actor: Actor = JANE) -> Activity:
    return svc.close_activity(
        session=session,
        team_id=team,
        actor=actor,
        activity_id=target,
        now=LATER,
        today=TODAY,
    )


def closable(session: Session, activity_id: str = "GR-2026", **fields: str) -> Activity:
    activity = create(session, COMPLETE, activity_id=activity_id, **fields)
    record(session, activity.activity_id, physician="120", other="35")
    return activity


def snapshot(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, as the database holds them inside this transaction."""
    session.flush()
    return {
        table.name: [
            tuple(row)
            for row in session.execute(sa.select(table).order_by(*table.primary_key.columns))
        ]
        for table in SQLModel.metadata.sorted_tables
    }


def audit_rows(session: Session, activity: Activity) -> list[AuditEvent]:
    return list(
        session.exec(
            select(AuditEvent)
            .where(AuditEvent.activity_pk == activity.id)
            .order_by(col(AuditEvent.id))
        ).all()
    )


def utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; what is stored there is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def reload(engine: Engine, team: str, activity_id: str) -> Activity:
    """The activity as a fresh connection sees it: only what was committed."""
    with Session(engine) as fresh:
        activity = svc.get_activity(session=fresh, team_id=team, activity_id=activity_id)
        fresh.expunge(activity)
        return activity


# --- create ----------------------------------------------------------------------------------


def test_create_without_an_id_numbers_by_start_year(session: Session, engine: Engine) -> None:
    first = create(session)
    second = create(session, title="Surgery Grand Rounds")
    earlier = create(session, start_date="2025-02-01", end_date="2025-12-31")
    session.commit()
    third = create(session, title="Pediatrics Grand Rounds")
    session.commit()
    assert [first.activity_id, second.activity_id, earlier.activity_id, third.activity_id] == [
        "2026-0001",
        "2026-0002",
        "2025-0001",
        "2026-0003",
    ]
    assert reload(engine, TEAM, "2026-0002").title == "Surgery Grand Rounds"


def test_auto_ids_continue_after_the_highest_number_taken(session: Session) -> None:
    create(session, activity_id="2026-0041")
    create(session, activity_id="2026-GR")  # not a running number
    assert create(session).activity_id == "2026-0042"


def test_create_with_an_id_keeps_it_and_stores_every_field(
    session: Session, engine: Engine
) -> None:
    create(session, COMPLETE, activity_id="GR-2026", finder_fee="")
    session.commit()
    stored = reload(engine, TEAM, "GR-2026")
    assert stored.title == "Medicine Grand Rounds"
    assert stored.format == "rss"
    assert (stored.start_date, stored.end_date) == (date(2026, 1, 7), date(2026, 11, 18))
    assert (stored.delivery_method, stored.city, stored.state, stored.country) == (
        ["in-person"],
        "Chicago",
        "IL",
        "USA",
    )
    assert stored.credits == Decimal("1.00")
    assert stored.cme_finder is False
    assert stored.outcome_measures == ["knowledge", "competence"]
    assert stored.commercial_support is False
    assert stored.owner_user_id == JANE.user_id
    assert (stored.created_by, stored.updated_by) == (JANE.user_id, JANE.user_id)
    assert utc(stored.created_at) == NOW
    assert stored.version == 1
    assert stored.closed_at is None


def test_create_is_audited_with_who_when_and_values(session: Session) -> None:
    activity = create(session, activity_id="GR-2026", credits="1.5")
    session.commit()
    [event] = audit_rows(session, activity)
    assert (event.action, event.user_id, event.team_id, event.activity_id) == (
        "create",
        JANE.user_id,
        TEAM,
        "GR-2026",
    )
    assert utc(event.at) == NOW
    assert event.changes["title"] == {"before": "", "after": "Medicine Grand Rounds"}
    assert event.changes["credits"] == {"before": "", "after": "1.5"}
    assert event.changes["start_date"] == {"before": "", "after": "2026-01-07"}
    assert "city" not in event.changes  # nothing to say about fields left empty


def test_create_with_another_owner(session: Session) -> None:
    activity = create(session, owner_user_id="U0BOB")
    assert activity.owner_user_id == BOB.user_id
    assert activity.created_by == JANE.user_id


@pytest.mark.parametrize("again", ["GR-2026", "gr-2026", " GR-2026 "])
def test_duplicate_id_is_refused(session: Session, again: str) -> None:
    create(session, activity_id="GR-2026")
    session.commit()
    before = snapshot(session)
    with pytest.raises(DuplicateActivityId) as refused:
        create(session, activity_id=again, title="Another series")
    assert "/pars edit" in refused.value.message
    assert snapshot(session) == before


def test_same_id_in_another_team_is_allowed(session: Session, engine: Engine) -> None:
    create(session, activity_id="GR-2026")
    create(session, activity_id="GR-2026", team=TEAM_B, title="Their Grand Rounds")
    assert create(session, team=TEAM_B).activity_id == "2026-0001"
    assert create(session).activity_id == "2026-0001"
    session.commit()
    assert reload(engine, TEAM, "GR-2026").title == "Medicine Grand Rounds"
    assert reload(engine, TEAM_B, "GR-2026").title == "Their Grand Rounds"


def test_the_database_itself_refuses_a_duplicate_id(session: Session) -> None:
    create(session, activity_id="GR-2026")
    session.commit()
    clone = Activity(
        team_id=TEAM,
        activity_id="GR-2026",
        title="x",
        format="rss",
        start_date=date(2026, 1, 1),
        end_date=date(2026, 2, 1),
        created_at=NOW,
        created_by="U1",
        updated_at=NOW,
        updated_by="U1",
    )
    session.add(clone)
    with pytest.raises(sa.exc.IntegrityError):
        session.flush()
    session.rollback()


def test_find_activity_ignores_case_only_when_unambiguous(session: Session) -> None:
    create(session, activity_id="GR-2026")
    assert svc.get_activity(session=session, team_id=TEAM, activity_id="gr-2026").activity_id == (
        "GR-2026"
    )
    with pytest.raises(ActivityNotFound) as missing:
        svc.get_activity(session=session, team_id=TEAM, activity_id="GR-2027")
    assert "`GR-2027`" in missing.value.message


def test_create_reports_every_problem_and_writes_nothing(session: Session) -> None:
    create(session, activity_id="KEEP")
    session.commit()
    before = snapshot(session)
    with pytest.raises(ValidationFailed) as failed:
        create(
            session,
            {
                "title": "",
                "format": "enduring",
                "delivery_method": "in-person",
                "start_date": "2026-01-07",
                "end_date": "2029-06-30",
                "credits": "0.3",
                "finder_url": "example.org",
            },
        )
    assert [p.field for p in failed.value.problems] == [
        "credits",
        "finder_url",
        "title",
        "end_date",
        "delivery_method",
    ]
    assert failed.value.message.startswith("Nothing was saved:")
    assert "at most 3 years" in failed.value.message
    assert snapshot(session) == before


def test_an_unreadable_date_is_reported_once(session: Session) -> None:
    with pytest.raises(ValidationFailed) as failed:
        create(session, end_date="31/31/2026")
    [problem] = failed.value.problems
    assert problem.field == "end_date"
    assert "not a real date" in problem.message  # not also "End date is required"


def test_create_takes_a_legacy_code(session: Session) -> None:
    activity = create(session, format="IL")
    assert (activity.format, activity.delivery_method) == ("live-course", ["live-streamed"])


# --- team scoping ----------------------------------------------------------------------------


def test_another_team_cannot_see_edit_count_close_or_reopen(session: Session) -> None:
    closable(session)
    close(session, "GR-2026")
    create(session, activity_id="OPEN-1")
    session.commit()
    before = snapshot(session)
    admin_b = Actor("U0ADMINB", is_admin=True)
    assert svc.find_activity(session=session, team_id=TEAM_B, activity_id="OPEN-1") is None
    with pytest.raises(ActivityNotFound):
        svc.get_activity(session=session, team_id=TEAM_B, activity_id="OPEN-1")
    with pytest.raises(ActivityNotFound):
        update(session, "OPEN-1", team=TEAM_B, actor=admin_b, title="Hijacked")
    with pytest.raises(ActivityNotFound):
        record(session, "OPEN-1", team=TEAM_B, actor=admin_b, physician="1", other="1")
    with pytest.raises(ActivityNotFound):
        close(session, "OPEN-1", team=TEAM_B, actor=admin_b)
    with pytest.raises(ActivityNotFound):
        svc.reopen_activity(
            session=session, team_id=TEAM_B, actor=admin_b, activity_id="GR-2026", now=LATER
        )
    page = queries.list_activities(session=session, team_id=TEAM_B, today=TODAY, views=["all"])
    assert (page.rows, page.total) == ([], 0)
    assert snapshot(session) == before


def test_listing_shows_only_the_own_team(session: Session) -> None:
    create(session, activity_id="A-1")
    create(session, activity_id="B-1", team=TEAM_B)
    page = queries.list_activities(session=session, team_id=TEAM, today=TODAY, views=["all"])
    assert [a.activity_id for a, _ in page.rows] == ["A-1"]


# --- update ----------------------------------------------------------------------------------


def test_update_returns_the_diff_and_audits_it(session: Session, engine: Engine) -> None:
    create(session, COMPLETE, activity_id="GR-2026")
    session.commit()
    result = update(
        session,
        "GR-2026",
        actor=ADMIN,
        title="Internal Medicine Grand Rounds",
        credits="1.5",
        city="Chicago",
    )
    session.commit()
    assert result.changes == {
        "title": {"before": "Medicine Grand Rounds", "after": "Internal Medicine Grand Rounds"},
        "credits": {"before": "1", "after": "1.5"},
    }
    stored = reload(engine, TEAM, "GR-2026")
    assert stored.title == "Internal Medicine Grand Rounds"
    assert stored.credits == Decimal("1.50")
    assert stored.version == 2
    assert stored.updated_by == ADMIN.user_id
    assert utc(stored.updated_at) == LATER
    assert stored.created_by == JANE.user_id
    create_event, update_event = audit_rows(session, result.activity)
    assert create_event.action == "create"
    assert (update_event.action, update_event.user_id, update_event.version) == (
        "update",
        ADMIN.user_id,
        2,
    )
    assert utc(update_event.at) == LATER
    assert update_event.changes == result.changes


def test_an_update_that_changes_nothing_writes_nothing(session: Session) -> None:
    create(session, COMPLETE, activity_id="GR-2026")
    session.commit()
    before = snapshot(session)
    result = update(
        session,
        "GR-2026",
        title="Medicine  Grand Rounds",
        credits="1.00",
        start_date="1/7/2026",
        outcome_measures="Learner knowledge; competence",
    )
    assert result.changes == {}
    assert snapshot(session) == before


def test_empty_text_clears_a_field(session: Session, engine: Engine) -> None:
    create(session, COMPLETE, activity_id="GR-2026")
    result = update(session, "GR-2026", credits="", outcome_measures="")
    session.commit()
    assert result.changes == {
        "credits": {"before": "1", "after": ""},
        "outcome_measures": {"before": "knowledge; competence", "after": ""},
    }
    stored = reload(engine, TEAM, "GR-2026")
    assert stored.credits is None
    assert stored.outcome_measures is None


def test_clearing_a_required_field_is_refused(session: Session) -> None:
    create(session, activity_id="GR-2026")
    session.commit()
    before = snapshot(session)
    with pytest.raises(ValidationFailed) as failed:
        update(session, "GR-2026", title="", end_date="")
    assert [p.field for p in failed.value.problems] == ["title", "end_date"]
    assert "Title is required" in failed.value.message
    assert snapshot(session) == before


def test_clearing_the_id_is_refused_as_a_validation_problem(session: Session) -> None:
    create(session, activity_id="GR-2026")
    session.commit()
    before = snapshot(session)
    with pytest.raises(ValidationFailed) as failed:
        update(session, "GR-2026", activity_id="")
    assert [p.field for p in failed.value.problems] == ["activity_id"]
    assert "Activity ID cannot be emptied" in failed.value.message
    assert snapshot(session) == before


def test_renaming_the_id(session: Session, engine: Engine) -> None:
    create(session, activity_id="GR-2026")
    create(session, activity_id="SR-2026")
    result = update(session, "GR-2026", activity_id="IMGR-2026")
    session.commit()
    assert result.changes == {"activity_id": {"before": "GR-2026", "after": "IMGR-2026"}}
    assert reload(engine, TEAM, "IMGR-2026").title == "Medicine Grand Rounds"
    with pytest.raises(DuplicateActivityId):
        update(session, "IMGR-2026", activity_id="SR-2026")


def test_update_with_a_bad_value_writes_nothing(session: Session) -> None:
    create(session, COMPLETE, activity_id="GR-2026")
    session.commit()
    before = snapshot(session)
    with pytest.raises(ValidationFailed) as failed:
        update(session, "GR-2026", title="New title", credits="1.1", end_date="2027-06-30")
    assert [p.field for p in failed.value.problems] == ["credits", "end_date"]
    assert "may span at most 1 year" in failed.value.message
    assert snapshot(session) == before


def test_changing_to_a_format_without_delivery_clears_it(session: Session) -> None:
    create(session, COMPLETE, activity_id="GR-2026")
    result = update(session, "GR-2026", format="enduring")
    assert result.activity.delivery_method is None
    assert result.changes["delivery_method"] == {"before": "in-person", "after": ""}


def test_delivery_method_on_a_format_without_one_is_refused(session: Session) -> None:
    create(session, activity_id="EM-1", format="enduring", end_date="2027-12-31")
    with pytest.raises(ValidationFailed) as failed:
        update(session, "EM-1", delivery_method="in-person")
    assert failed.value.problems[0].message == (
        "Delivery method applies only to live courses and RSS, not to an enduring material"
    )


def test_state_outside_the_usa_is_refused(session: Session) -> None:
    create(session, COMPLETE, activity_id="GR-2026")
    with pytest.raises(ValidationFailed) as failed:
        update(session, "GR-2026", city="Toronto", country="CAN")
    assert [p.field for p in failed.value.problems] == ["state"]
    result = update(session, "GR-2026", city="Toronto", country="CAN", state="")
    assert (result.activity.country, result.activity.state) == ("CAN", None)


# --- stale edits -----------------------------------------------------------------------------


def test_stale_edit_names_who_changed_what(session: Session, engine: Engine) -> None:
    opened = create(session, COMPLETE, activity_id="GR-2026")
    session.commit()
    seen = opened.version
    update(session, "GR-2026", actor=ADMIN, title="IM Grand Rounds", credits="2")
    session.commit()
    update(session, "GR-2026", actor=Actor("U0CAROL", is_admin=True), description="New desc")
    session.commit()
    before = snapshot(session)
    with pytest.raises(StaleEdit) as stale:
        update(session, "GR-2026", expected_version=seen, city="Evanston")
    assert stale.value.changed_by == "U0CAROL"
    assert stale.value.fields == ["Title", "AMA PRA Category 1 credits", "Description"]
    assert "@U0CAROL changed Title, AMA PRA Category 1 credits, Description of `GR-2026`" in (
        stale.value.message
    )
    assert stale.value.people == ("U0CAROL",)
    assert snapshot(session) == before
    assert reload(engine, TEAM, "GR-2026").city == "Chicago"


def test_an_edit_from_the_current_version_goes_through(session: Session) -> None:
    opened = create(session, COMPLETE, activity_id="GR-2026")
    update(session, "GR-2026", title="IM Grand Rounds")
    result = update(session, "GR-2026", expected_version=opened.version, city="Evanston")
    assert result.activity.city == "Evanston"
    assert result.activity.version == 3


def test_stale_edit_wording_when_nothing_is_known_of_the_change() -> None:
    message = StaleEdit("GR-2026", None, []).message
    assert message.startswith("Someone changed `GR-2026` after you opened it.")


@pytest.mark.parametrize("expected_version", [None, 1])
def test_concurrent_updates_in_two_sessions_do_not_overwrite(
    engine: Engine, expected_version: int | None
) -> None:
    with Session(engine) as setup:
        create(setup, COMPLETE, activity_id="GR-2026")
        setup.commit()
    with (
        Session(engine, expire_on_commit=False) as jane,
        Session(engine, expire_on_commit=False) as bob,
    ):
        loaded = svc.get_activity(session=jane, team_id=TEAM, activity_id="GR-2026")
        assert loaded.version == 1  # Jane opened the form at version 1
        update(bob, "GR-2026", actor=ADMIN, title="Bob's title", credits="3")
        bob.commit()
        with pytest.raises(StaleEdit) as stale:
            update(jane, "GR-2026", expected_version=expected_version, title="Jane's title")
        assert stale.value.changed_by == ADMIN.user_id
        assert stale.value.fields == ["Title", "AMA PRA Category 1 credits"]
        jane.rollback()
    stored = reload(engine, TEAM, "GR-2026")
    assert (stored.title, stored.credits, stored.version) == ("Bob's title", Decimal("3.00"), 2)
    with Session(engine) as check:
        events = check.exec(select(AuditEvent).where(AuditEvent.action == "update")).all()
        assert [e.user_id for e in events] == [ADMIN.user_id]


# --- permissions -----------------------------------------------------------------------------


def test_only_the_owner_or_an_admin_may_change(session: Session) -> None:
    create(session, COMPLETE, activity_id="GR-2026")
    session.commit()
    before = snapshot(session)
    with pytest.raises(NotPermitted) as refused:
        update(session, "GR-2026", actor=BOB, title="Bob's")
    assert "belongs to @U0JANE;" in refused.value.message
    assert refused.value.people == ("U0JANE",)
    with pytest.raises(NotPermitted):
        record(session, "GR-2026", actor=BOB, physician="10", other="1")
    with pytest.raises(NotPermitted):
        close(session, "GR-2026", actor=BOB)
    assert snapshot(session) == before
    assert update(session, "GR-2026", actor=ADMIN, title="Admin's").activity.title == "Admin's"
    assert update(session, "GR-2026", actor=JANE, title="Jane's").activity.title == "Jane's"


def test_reassigning_the_owner_hands_over_the_activity(session: Session) -> None:
    create(session, activity_id="GR-2026")
    update(session, "GR-2026", owner_user_id="U0BOB")
    assert update(session, "GR-2026", actor=BOB, credits="1").activity.credits == Decimal("1.00")
    with pytest.raises(NotPermitted):
        update(session, "GR-2026", actor=JANE, credits="2")


def test_only_an_admin_may_reopen(session: Session, engine: Engine) -> None:
    closable(session)
    close(session, "GR-2026")
    session.commit()
    with pytest.raises(NotPermitted) as refused:
        svc.reopen_activity(
            session=session, team_id=TEAM, actor=JANE, activity_id="GR-2026", now=LATER
        )
    assert "Only admins" in refused.value.message
    reopened = svc.reopen_activity(
        session=session, team_id=TEAM, actor=ADMIN, activity_id="GR-2026", now=LATER
    )
    session.commit()
    assert svc.status_of(reopened, today=TODAY) is Status.READY_TO_CLOSE
    stored = reload(engine, TEAM, "GR-2026")
    assert (stored.closed_at, stored.closed_by) == (None, None)
    assert [e.action for e in audit_rows(session, reopened)][-2:] == ["close", "reopen"]
    assert audit_rows(session, reopened)[-1].user_id == ADMIN.user_id
    # ...and the owner can edit it again.
    assert update(session, "GR-2026", description="Revised").activity.description == "Revised"


def test_reopening_an_open_activity_is_refused(session: Session) -> None:
    create(session, activity_id="GR-2026")
    with pytest.raises(ParsError, match="is not closed"):
        svc.reopen_activity(
            session=session, team_id=TEAM, actor=ADMIN, activity_id="GR-2026", now=LATER
        )


# --- close -----------------------------------------------------------------------------------


@pytest.mark.parametrize("end", [TODAY, TODAY + timedelta(days=20)])
def test_close_is_refused_until_the_end_date_has_passed(session: Session, end: date) -> None:
    create(
        session,
        COMPLETE,
        activity_id="LC-1",
        format="live-course",
        start_date=end.isoformat(),
        end_date=end.isoformat(),
    )
    session.commit()
    before = snapshot(session)
    with pytest.raises(CloseRefused) as refused:
        close(session, "LC-1")
    assert f"ends on {end.isoformat()}" in refused.value.message
    assert "only after its end date has passed" in refused.value.message
    assert snapshot(session) == before


def test_close_refused_lists_exactly_what_is_missing(session: Session) -> None:
    activity = create(session, activity_id="GR-2026")
    session.commit()
    before = snapshot(session)
    with pytest.raises(CloseRefused) as refused:
        close(session, "GR-2026")
    assert refused.value.missing == [
        "delivery_method",
        "credits",
        "description",
        "providership",
        "cme_finder",
        "outcome_measures",
        "commercial_support",
        "learners_physician",
        "learners_other",
    ]
    assert refused.value.message == (
        "`GR-2026` can't be closed yet. PARS still needs for *Active*: Delivery method, "
        "AMA PRA Category 1 credits, Description, Providership, Listed in CME Passport; "
        "for *Closed*: Outcome measures, Commercial support, Physician learners, Other learners."
    )
    assert snapshot(session) == before
    assert activity.closed_at is None


def test_close_refused_names_conditional_fields(session: Session) -> None:
    create(
        session,
        COMPLETE,
        activity_id="GR-2026",
        providership="joint",
        commercial_support="yes",
        moc="yes",
        cme_finder="yes",
        state="",
    )
    record(session, "GR-2026", physician="50")
    with pytest.raises(CloseRefused) as refused:
        close(session, "GR-2026")
    assert refused.value.missing == [
        "state",
        "finder_fee",
        "finder_registration",
        "finder_url",
        "joint_providers",
        "supporters",
        "learners_other",
        "moc_boards",
        "moc_attested",
    ]


def test_close_succeeds_when_complete(session: Session, engine: Engine) -> None:
    activity = closable(session)
    closed = close(session, "GR-2026")
    session.commit()
    assert svc.status_of(closed, today=TODAY) is Status.CLOSED
    stored = reload(engine, TEAM, "GR-2026")
    assert utc(stored.closed_at) == LATER
    assert stored.closed_by == JANE.user_id
    event = audit_rows(session, activity)[-1]
    assert (event.action, event.user_id) == ("close", JANE.user_id)
    assert event.changes == {"status": {"before": "Ready to Close", "after": "Closed"}}


def test_zero_learners_are_enough_to_close(session: Session) -> None:
    closable(session)
    record(session, "GR-2026", physician="0", other="0")
    assert close(session, "GR-2026").closed_at is not None


def test_a_closed_activity_cannot_be_edited_counted_or_closed_again(session: Session) -> None:
    closable(session)
    close(session, "GR-2026")
    session.commit()
    before = snapshot(session)
    with pytest.raises(ActivityClosed) as refused:
        update(session, "GR-2026", title="Too late")
    assert "/pars reopen GR-2026" in refused.value.message
    with pytest.raises(ActivityClosed):
        update(session, "GR-2026", actor=ADMIN, title="Even for an admin")
    with pytest.raises(ActivityClosed):
        record(session, "GR-2026", physician="200", other="40")
    with pytest.raises(CloseRefused, match="already closed"):
        close(session, "GR-2026")
    assert snapshot(session) == before


def test_still_needs_names_each_field_with_the_status_it_blocks(session: Session) -> None:
    draft = create(session, activity_id="GR-2026")
    needs = svc.still_needs(session=session, activity=draft)
    active = ["delivery_method", "credits", "description", "providership", "cme_finder"]
    closing = ["outcome_measures", "commercial_support", "learners_physician", "learners_other"]
    assert needs == [Need(f, Status.ACTIVE) for f in active] + [
        Need(f, Status.CLOSED) for f in closing
    ]
    running = create(
        session,
        COMPLETE,
        activity_id="LC-1",
        format="live-course",
        start_date="2026-12-01",
        end_date="2026-12-02",
    )
    assert svc.status_of(running, today=TODAY) is Status.ACTIVE
    assert svc.still_needs(session=session, activity=running) == [
        Need("learners_physician", Status.CLOSED),
        Need("learners_other", Status.CLOSED),
    ]


# --- learner counts --------------------------------------------------------------------------


ENDURING = {
    "title": "Heart Failure Online Module",
    "format": "enduring",
    "start_date": "2024-03-01",
    "end_date": "2027-02-28",
}


@pytest.mark.parametrize(
    ("raw", "as_of"),
    [
        (ENDURING, date(2025, 12, 31)),  # last 31 December
        (ENDURING | {"start_date": "2023-01-01", "end_date": "2025-06-30"}, date(2025, 6, 30)),
        (ENDURING | {"start_date": "2026-02-01", "end_date": "2027-12-31"}, TODAY),
        (GRAND_ROUNDS, date(2026, 11, 18)),  # ended: its end date
        (GRAND_ROUNDS | {"end_date": "2026-12-16"}, TODAY),  # still running: today
    ],
)
def test_default_as_of(session: Session, raw: dict[str, str], as_of: date) -> None:
    activity = create(session, raw, activity_id="X-1")
    assert svc.default_as_of(activity, TODAY) == as_of
    recorded = record(session, "X-1", physician="10", other="2")
    assert recorded.as_of == as_of
    rows = learner_counts.count_history(session=session, activity=activity)
    assert {row.as_of for row in rows} == {as_of}


def test_counts_keep_their_history(session: Session, engine: Engine) -> None:
    activity = create(session, ENDURING, activity_id="EM-1")
    first = record(
        session,
        "EM-1",
        as_of="2024-12-31",
        physician="100",
        other="40",
        now=NOW - timedelta(days=300),
    )
    assert first.previous == {}
    second = record(session, "EM-1", actor=ADMIN, physician="250", other="90")
    session.commit()
    assert second.as_of == date(2025, 12, 31)
    assert second.previous == {"physician": 100, "other": 40}
    current = learner_counts.current_counts(session=session, activity=activity)
    assert {c: row.count for c, row in current.items()} == {"physician": 250, "other": 90}
    with Session(engine) as fresh:
        stored = svc.get_activity(session=fresh, team_id=TEAM, activity_id="EM-1")
        history = learner_counts.count_history(session=fresh, activity=stored)
        assert [(r.category, r.count, r.as_of, r.recorded_by) for r in history] == [
            ("other", 90, date(2025, 12, 31), ADMIN.user_id),
            ("physician", 250, date(2025, 12, 31), ADMIN.user_id),
            ("other", 40, date(2024, 12, 31), JANE.user_id),
            ("physician", 100, date(2024, 12, 31), JANE.user_id),
        ]
        assert utc(history[0].recorded_at) == LATER
    counts_event = audit_rows(session, activity)[-1]
    assert (counts_event.action, counts_event.user_id) == ("counts", ADMIN.user_id)
    assert counts_event.changes == {
        "learners_physician": {"before": "100", "after": "250"},
        "learners_other": {"before": "40", "after": "90"},
        "as_of": {"before": "", "after": "2025-12-31"},
    }


def test_a_lower_enduring_count_needs_confirmation(session: Session) -> None:
    create(session, ENDURING, activity_id="EM-1")
    record(session, "EM-1", physician="250", other="90")
    session.commit()
    before = snapshot(session)
    with pytest.raises(CountDecreaseNeedsConfirmation) as asked:
        record(session, "EM-1", physician="25", other="95")
    assert asked.value.decreases == [LowerCount("Physician learners", 250, 25)]
    assert "Physician learners 250 → 25" in asked.value.message
    assert "Nothing was saved" in asked.value.message
    assert snapshot(session) == before
    confirmed = record(session, "EM-1", physician="25", other="95", confirm_lower=True)
    assert confirmed.counts == {"physician": 25, "other": 95}
    activity = confirmed.activity
    current = learner_counts.current_counts(session=session, activity=activity)
    assert {c: row.count for c, row in current.items()} == {"physician": 25, "other": 95}


def test_a_confirmation_is_void_once_other_counts_were_recorded(session: Session) -> None:
    create(session, ENDURING, activity_id="EM-1")
    record(session, "EM-1", physician="250", other="90")
    with pytest.raises(CountDecreaseNeedsConfirmation) as asked:
        record(session, "EM-1", physician="25", other="95")
    seen = asked.value.last_count_id
    assert seen is not None
    record(session, "EM-1", physician="260", other="90", actor=ADMIN)  # a colleague, meanwhile
    session.commit()
    before = snapshot(session)
    with pytest.raises(ParsError, match="changed since you were asked"):
        learner_counts.record_counts(
            session=session,
            team_id=TEAM,
            actor=JANE,
            activity_id="EM-1",
            counts={"physician": "25"},
            as_of=None,
            now=LATER,
            today=TODAY,
            confirm_lower=True,
            seen_count_id=seen,
        )
    session.rollback()
    assert snapshot(session) == before


def test_correcting_an_older_years_count_is_not_a_drop(session: Session) -> None:
    create(session, ENDURING, activity_id="EM-1")
    record(session, "EM-1", as_of="2024-12-31", physician="100", other="40")
    record(session, "EM-1", as_of="2025-12-31", physician="250", other="90")
    # 2024's figure was 120, not 100: higher than 2024's, lower than 2025's, no question asked.
    fixed = record(session, "EM-1", as_of="2024-12-31", physician="120", other="40")
    assert fixed.counts == {"physician": 120, "other": 40}
    with pytest.raises(CountDecreaseNeedsConfirmation):
        record(session, "EM-1", as_of="2024-12-31", physician="90", other="40")


def test_the_owner_cannot_be_emptied(session: Session) -> None:
    create(session, activity_id="GR-2026")
    session.commit()
    with pytest.raises(ValidationFailed) as refused:
        update(session, "GR-2026", owner_user_id="")
    assert [p.field for p in refused.value.problems] == ["owner_user_id"]
    assert svc.get_activity(session=session, team_id=TEAM, activity_id="GR-2026").owner_user_id == (
        JANE.user_id
    )


def test_a_lower_count_is_fine_for_other_formats(session: Session) -> None:
    activity = create(session, activity_id="GR-2026")
    record(session, "GR-2026", physician="1040", other="200")
    record(session, "GR-2026", physician="1004", other="200")
    current = learner_counts.current_counts(session=session, activity=activity)
    assert current["physician"].count == 1004


@pytest.mark.parametrize(
    ("counts", "as_of", "field", "fragment"),
    [
        ({"physician": "many"}, None, "learners_physician", '"many" is not a whole number'),
        ({"physician": "-5"}, None, "learners_physician", "not a whole number of 0 or more"),
        ({"other": "12.5"}, None, "learners_other", "not a whole number"),
        ({"physician": "10"}, "2025-12-31", "as_of", "before the start date 2026-01-07"),
        ({"physician": "10"}, "2026-12-01", "as_of", "is after the end date 2026-11-18"),
        ({"physician": "10"}, "12/32/2026", "as_of", "not a real date"),
        ({}, None, "learners", "Give at least one count"),
    ],
)
def test_counts_validation_writes_nothing(
    session: Session, counts: dict[str, str], as_of: str | None, field: str, fragment: str
) -> None:
    create(session, activity_id="GR-2026")
    record(session, "GR-2026", physician="40", other="4")
    session.commit()
    before = snapshot(session)
    with pytest.raises(ValidationFailed) as failed:
        record(session, "GR-2026", as_of=as_of, **counts)
    [problem] = failed.value.problems
    assert problem.field == field
    assert fragment in problem.message
    assert snapshot(session) == before


def test_counts_accept_thousands_separators_and_both_date_forms(session: Session) -> None:
    create(session, activity_id="GR-2026")
    recorded = record(session, "GR-2026", as_of="6/30/2026", physician="1,040", other=" 0 ")
    assert recorded.counts == {"physician": 1040, "other": 0}
    assert recorded.as_of == date(2026, 6, 30)


# --- listing ---------------------------------------------------------------------------------


@pytest.fixture
def listed(session: Session) -> Session:
    """Six activities of team A in every state, and one of team B."""
    create(session, COMPLETE, activity_id="READY")  # ended 2026-11-18, complete: Ready to Close
    create(session, activity_id="DRAFT", actor=BOB, end_date="2026-10-01")  # ended, a Draft
    create(
        session,
        COMPLETE,
        activity_id="RUNNING",
        format="live-course",
        start_date="2026-12-09",
        end_date="2026-12-10",
    )  # Active
    closable(session, "CLOSED", start_date="2026-01-01", end_date="2026-06-30")
    close(session, "CLOSED")
    create(session, ENDURING, activity_id="MODULE")  # Draft, 2024-2027
    create(
        session, activity_id="OLD", format="C", start_date="2025-05-01", end_date="2025-05-02"
    )  # 2025, a Draft
    create(session, COMPLETE, activity_id="THEIRS", team=TEAM_B)
    session.commit()
    return session


def listing(session: Session, *views: str, **filters: Any) -> list[str]:
    page = queries.list_activities(
        session=session, team_id=TEAM, today=TODAY, views=views or ("open",), **filters
    )
    return [a.activity_id for a, _ in page.rows]


def test_list_views(listed: Session) -> None:
    assert listing(listed, "open") == ["OLD", "DRAFT", "READY", "RUNNING", "MODULE"]
    assert listing(listed, "ready") == ["READY"]
    assert listing(listed, "unclosed") == ["OLD", "DRAFT", "READY"]
    assert listing(listed, "closed") == ["CLOSED"]
    assert listing(listed, "all") == ["OLD", "CLOSED", "DRAFT", "READY", "RUNNING", "MODULE"]


def test_list_rows_carry_their_status(listed: Session) -> None:
    page = queries.list_activities(session=listed, team_id=TEAM, today=TODAY, views=["all"])
    assert {a.activity_id: s for a, s in page.rows} == {
        "OLD": Status.DRAFT,
        "CLOSED": Status.CLOSED,
        "DRAFT": Status.DRAFT,
        "READY": Status.READY_TO_CLOSE,
        "RUNNING": Status.ACTIVE,
        "MODULE": Status.DRAFT,
    }


def test_list_mine(listed: Session) -> None:
    assert listing(listed, "mine", owner_user_id=BOB.user_id) == ["DRAFT"]
    assert listing(listed, "mine", "unclosed", owner_user_id=JANE.user_id) == ["OLD", "READY"]


def test_list_by_year_keeps_activities_running_in_that_year(listed: Session) -> None:
    assert listing(listed, "all", year=2025) == ["OLD", "MODULE"]
    assert listing(listed, "all", year=2026) == ["CLOSED", "DRAFT", "READY", "RUNNING", "MODULE"]
    assert listing(listed, "all", year=2027) == ["MODULE"]
    assert listing(listed, "all", year=2023) == []


def test_list_by_format(listed: Session) -> None:
    assert listing(listed, "all", format_code="rss") == ["CLOSED", "DRAFT", "READY"]
    assert listing(listed, "open", format_code="live-course") == ["OLD", "RUNNING"]
    assert listing(listed, "all", format_code="enduring", year=2027) == ["MODULE"]


def test_list_pages(session: Session) -> None:
    for day in range(1, 26):
        create(session, end_date=f"2026-10-{day:02d}", title=f"Session {day}")
    session.commit()
    pages = [
        queries.list_activities(session=session, team_id=TEAM, today=TODAY, page=n, per_page=10)
        for n in (1, 2, 3)
    ]
    assert [(p.page, p.pages, p.total, len(p.rows)) for p in pages] == [
        (1, 3, 25, 10),
        (2, 3, 25, 10),
        (3, 3, 25, 5),
    ]
    ends = [a.end_date.day for p in pages for a, _ in p.rows]
    assert ends == list(range(1, 26))
    beyond = queries.list_activities(
        session=session, team_id=TEAM, today=TODAY, page=9, per_page=10
    )
    assert (beyond.page, [a.end_date.day for a, _ in beyond.rows]) == (3, [21, 22, 23, 24, 25])
    before = queries.list_activities(
        session=session, team_id=TEAM, today=TODAY, page=0, per_page=10
    )
    assert before.page == 1


def test_an_empty_list_has_one_empty_page(session: Session) -> None:
    page = queries.list_activities(session=session, team_id=TEAM, today=TODAY)
    assert (page.rows, page.total, page.page, page.pages) == ([], 0, 1, 1)


def test_learner_counts_belong_to_the_team(session: Session) -> None:
    create(session, activity_id="GR-2026")
    record(session, "GR-2026", physician="5", other="1")
    rows = session.exec(select(LearnerCount)).all()
    assert {r.team_id for r in rows} == {TEAM}
