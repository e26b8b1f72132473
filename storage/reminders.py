"""What reminders are planned from: members and their preferences, snoozes, and one snapshot
of a workspace's open work, loaded with a few grouped queries however many activities."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col, select

from storage import checklist, members, queries, settings
from storage.activities import get_activity
from storage.checklist import Checklist
from storage.collector import collector_paused
from storage.db import as_utc
from storage.errors import ParsError
from storage.models import Activity, Member, Snooze
from storage.pars import calendar, rules

SNOOZE_DAYS = 3
# A Slack profile copied into `member` is asked again after this long.
PROFILE_FRESH = timedelta(hours=20)


# -- members ---------------------------------------------------------------------------------


def _insert(session: Session, model: type[SQLModel]) -> Any:
    dialect = session.get_bind().dialect.name
    table = model.__table__  # type: ignore[attr-defined]
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


def note_member(
    *, session: Session, team_id: str, user_id: str, now: datetime, real_name: str | None = None
) -> None:
    """Someone used the bot: subscribe them to the countdown (once; an opt-out stays), and
    keep their real name when Slack just told it."""
    name = members.clipped(real_name)
    statement = _insert(session, Member).values(
        team_id=team_id,
        user_id=user_id,
        used_bot=True,
        reminders=True,
        first_seen=as_utc(now),
        is_guest=False,
        is_deleted=False,
        real_name=name,
    )
    changed = col(Member.used_bot).is_(False)
    values: dict[str, Any] = {"used_bot": True}
    if name is not None:
        values["real_name"] = name
        changed = changed | col(Member.real_name).is_distinct_from(name)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["team_id", "user_id"], set_=values, where=changed
        )
    )


def get_member(*, session: Session, team_id: str, user_id: str) -> Member | None:
    return session.get(Member, (team_id, user_id))


def set_reminders(
    *, session: Session, team_id: str, user_id: str, on: bool, now: datetime
) -> Member:
    note_member(session=session, team_id=team_id, user_id=user_id, now=now)
    member = session.get(Member, (team_id, user_id), populate_existing=True)
    assert member is not None
    member.reminders = on
    session.add(member)
    session.flush()
    return member


def save_profile(
    *,
    session: Session,
    team_id: str,
    user_id: str,
    tz: str | None,
    is_guest: bool,
    is_deleted: bool,
    now: datetime,
    real_name: str | None = None,
) -> None:
    """Keep a copy of someone's Slack profile (an owner who never used the bot gets a row)."""
    values: dict[str, Any] = {
        "tz": tz,
        "is_guest": is_guest,
        "is_deleted": is_deleted,
        "profile_checked_at": as_utc(now),
    }
    name = members.clipped(real_name)
    if name is not None:  # a profile without one keeps the name known
        values["real_name"] = name
    statement = _insert(session, Member).values(
        team_id=team_id,
        user_id=user_id,
        used_bot=False,
        reminders=True,
        first_seen=as_utc(now),
        **values,
    )
    session.execute(
        statement.on_conflict_do_update(index_elements=["team_id", "user_id"], set_=values)
    )


# -- snoozes ---------------------------------------------------------------------------------


def snooze(
    *, session: Session, team_id: str, activity_id: str, user_id: str, today: date, now: datetime
) -> tuple[Activity, date]:
    """Quiet an activity's reminders for the next SNOOZE_DAYS days; they resume after."""
    activity = get_activity(session=session, team_id=team_id, activity_id=activity_id)
    if activity.closed_at is not None:
        raise ParsError(f"`{activity.activity_id}` is closed, so it has no reminders to snooze.")
    until = today + timedelta(days=SNOOZE_DAYS)
    values = {"until": until, "snoozed_by": user_id, "snoozed_at": as_utc(now)}
    statement = _insert(session, Snooze).values(activity_pk=activity.id, team_id=team_id, **values)
    session.execute(statement.on_conflict_do_update(index_elements=["activity_pk"], set_=values))
    return activity, until


# -- the snapshot ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    user_id: str
    tz: str | None
    used_bot: bool
    reminders: bool
    reachable: bool  # not a guest, not deleted or deactivated
    checked_at: datetime | None


@dataclass(frozen=True)
class OpenWork:
    """An unclosed activity a reminder may name."""

    pk: int
    activity_id: str
    title: str
    format: str
    owner: str | None
    start: date
    end: date
    status: rules.Status
    missing: tuple[rules.Need, ...]  # what closing still needs (rules.still_needs)
    snoozed_until: date | None

    @property
    def needs_counts(self) -> bool:
        return any(m.field.startswith("learners_") for m in self.missing)


@dataclass(frozen=True)
class Snapshot:
    team_id: str
    zone: str  # the workspace's time zone
    digest_channel: str | None
    deadlines: dict[int, calendar.Deadline]  # the configured ones; others are ACCME's default
    people: dict[str, Person]
    ended: list[OpenWork]  # unclosed, ended before the latest local date anywhere
    dec31: dict[int, list[OpenWork]] = field(default_factory=dict)  # year -> open enduring
    checklist: Checklist | None = None

    def deadline(self, year: int) -> calendar.Deadline:
        return calendar.deadline_for(year, self.deadlines)


def _open_work(
    rows: Iterable[Any],
    counted: Mapping[int, Collection[str]],
    snoozes: dict[int, date],
    today: date,
) -> list[OpenWork]:
    work = []
    for row in rows:
        status, missing = rules.status_and_needs(
            row, closed=False, counted=counted.get(row.id, ()), today=today
        )
        work.append(
            OpenWork(
                pk=row.id,
                activity_id=row.activity_id,
                title=row.title,
                format=row.format,
                owner=row.owner_user_id,
                start=row.start_date,
                end=row.end_date,
                status=status,
                missing=tuple(missing),
                snoozed_until=snoozes.get(row.id),
            )
        )
    return work


def _rows(session: Session, query: sa.Select[Any]) -> Sequence[Any]:
    # Plain rows of the columns the rules read (not 100,000 descriptions): storage.queries'.
    return session.connection().execute(query).all()


_STATE = select(*queries.STATE_COLUMNS)


def load_snapshot(
    *, session: Session, team_id: str, default_zone: str, instant: datetime
) -> Snapshot:
    """Everything a reminder pass at `instant` plans from, for one workspace."""
    zone = settings.workspace_zone(session=session, team_id=team_id, default=ZoneInfo(default_zone))
    workspace = settings.workspace_settings(session=session, team_id=team_id)
    today = instant.astimezone(zone).date()
    # Local dates run from UTC-12 to UTC+14: one day either side of UTC's covers everyone.
    utc_day = instant.astimezone(ZoneInfo("UTC")).date()
    horizon = utc_day + timedelta(days=1)
    snoozes = {
        s.activity_pk: s.until
        for s in session.exec(
            select(Snooze).where(Snooze.team_id == team_id, Snooze.until >= utc_day - timedelta(1))
        ).all()
    }
    ended_where = [
        col(Activity.team_id) == team_id,
        col(Activity.closed_at).is_(None),
        col(Activity.end_date) < horizon,
    ]
    with collector_paused():  # tens of thousands of rows: see storage/collector.py
        # Categories on file in one grouped query for the workspace, as everywhere status is.
        counted = queries.counts_on_file(session=session, team_id=team_id)
        ended = _open_work(_rows(session, _STATE.where(*ended_where)), counted, snoozes, today)
        dec31: dict[int, list[OpenWork]] = {}
        # Enduring materials' Dec 31 counts are asked for in January only.
        local_days = (utc_day + timedelta(days=k) for k in (-1, 0, 1))
        for year in {d.year - 1 for d in local_days if d.month == 1}:
            where = [
                *checklist.enduring_on_dec31(team_id, year),
                checklist.missing_dec31_counts(year),
            ]
            rows = _rows(session, _STATE.where(*where))
            dec31[year] = _open_work(rows, counted, snoozes, today)
    configured = settings.configured_deadlines(session=session, team_id=team_id)
    year = calendar.reporting_year(today, configured)
    return Snapshot(
        team_id=team_id,
        zone=str(zone.key),
        digest_channel=workspace.digest_channel if workspace else None,
        deadlines=configured,
        people=load_people(session=session, team_id=team_id),
        ended=ended,
        dec31=dec31,
        checklist=checklist.compute_checklist(session=session, team_id=team_id, year=year),
    )


@dataclass(frozen=True)
class Needs:
    """What App Home shows one person: the first `limit` of each list, and how many in all."""

    ended: list[OpenWork]
    dec31: list[OpenWork]
    ended_total: int
    dec31_total: int


def needs_of(
    *, session: Session, team_id: str, user_id: str, today: date, limit: int = 10
) -> Needs:
    """One person's activities that ended and are not closed, and their open enduring
    materials still without counts as of the last Dec 31 (App Home)."""
    mine = col(Activity.owner_user_id) == user_id
    snoozes: dict[int, date] = {}
    ended_where = [
        mine,
        col(Activity.team_id) == team_id,
        col(Activity.closed_at).is_(None),
        col(Activity.end_date) < today,
    ]
    query = _STATE.order_by(col(Activity.end_date), col(Activity.activity_id))
    rows = _rows(session, query.where(*ended_where).limit(limit))
    year = today.year - 1
    dec31_where = [
        mine,
        *checklist.enduring_on_dec31(team_id, year),
        checklist.missing_dec31_counts(year),
        col(Activity.end_date) >= today,  # ended ones are in the first list
    ]
    found = _rows(session, query.where(*dec31_where).limit(limit))
    counted = queries.counts_on_file(
        session=session, team_id=team_id, activity_pks=[r.id for r in [*rows, *found]]
    )
    return Needs(
        ended=_open_work(rows, counted, snoozes, today),
        dec31=_open_work(found, counted, snoozes, today),
        ended_total=_count(session, ended_where) if len(rows) == limit else len(rows),
        dec31_total=_count(session, dec31_where) if len(found) == limit else len(found),
    )


def _count(session: Session, where: list[sa.ColumnElement[bool]]) -> int:
    return session.exec(select(sa.func.count()).select_from(Activity).where(*where)).one()


def load_people(*, session: Session, team_id: str) -> dict[str, Person]:
    return {
        m.user_id: Person(
            user_id=m.user_id,
            tz=m.tz,
            used_bot=m.used_bot,
            reminders=m.reminders,
            reachable=not (m.is_guest or m.is_deleted),
            checked_at=m.profile_checked_at,
        )
        for m in session.exec(select(Member).where(Member.team_id == team_id)).all()
    }
