"""A workspace's settings in the database: its time zone, digest channel and the deadlines an
admin set in place of ACCME's."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from storage.db import as_utc, stored_utc
from storage.errors import ParsError
from storage.models import (
    Activity,
    BatchPlan,
    Member,
    ReportingDeadline,
    WorkspaceSettings,
)
from storage.pars import rules
from storage.pars.calendar import Deadline, deadline_for, default_deadline, known_zone


def configured_deadlines(*, session: Session, team_id: str) -> dict[int, Deadline]:
    rows = session.exec(select(ReportingDeadline).where(ReportingDeadline.team_id == team_id))
    return {
        r.data_year: Deadline(r.data_year, stored_utc(r.due_at), True, r.timezone, r.set_by)
        for r in rows.all()
    }


def get_deadline(*, session: Session, team_id: str, year: int) -> Deadline:
    return deadline_for(year, configured_deadlines(session=session, team_id=team_id))


def set_deadline(
    *,
    session: Session,
    team_id: str,
    user_id: str,
    due_at: datetime,
    year: int | None,
    now: datetime,
) -> Deadline:
    """Set the deadline of a data year (by default the year before the deadline's year)."""
    data_year = year if year is not None else due_at.year - 1
    years = rules.accepted_years(now.date())
    if data_year not in years:
        which = (
            f"not of {data_year}"
            if year is not None
            else (f"{due_at.date().isoformat()} would be that of {data_year}")
        )
        raise ParsError(
            f"pars-bot keeps deadlines of data years {years.start} to {years.stop - 1}; {which}."
        )
    if due_at.year != data_year + 1:
        raise ParsError(
            f"A deadline for data year {data_year} falls in {data_year + 1}; "
            f"{due_at:%Y-%m-%d} does not."
        )
    row = session.exec(
        select(ReportingDeadline).where(
            ReportingDeadline.team_id == team_id, ReportingDeadline.data_year == data_year
        )
    ).first() or ReportingDeadline(
        team_id=team_id, data_year=data_year, due_at=due_at, timezone="", set_by=user_id, set_at=now
    )
    zone = str(due_at.tzinfo)
    row.due_at, row.timezone, row.set_by, row.set_at = as_utc(due_at), zone, user_id, as_utc(now)
    session.add(row)
    session.flush()
    return Deadline(data_year, due_at, True, zone, user_id)


def reset_deadline(*, session: Session, team_id: str, year: int) -> Deadline:
    session.execute(
        sa.delete(ReportingDeadline).where(
            col(ReportingDeadline.team_id) == team_id, col(ReportingDeadline.data_year) == year
        )
    )
    return Deadline(year, default_deadline(year), False)


def workspace_settings(*, session: Session, team_id: str) -> WorkspaceSettings | None:
    return session.get(WorkspaceSettings, team_id)


def workspace_zone(*, session: Session, team_id: str, default: ZoneInfo) -> ZoneInfo:
    """The zone an admin set, else `default`; also `default` when the stored name is no IANA
    zone (earlier versions took `localtime`, which another host may not have)."""
    found = workspace_settings(session=session, team_id=team_id)
    zone = known_zone(found.timezone) if found and found.timezone else None
    return zone or default


def update_settings(
    *, session: Session, team_id: str, user_id: str, now: datetime, **changes: str | None
) -> WorkspaceSettings:
    """Change `timezone` and/or `digest_channel` (None clears it)."""
    row = workspace_settings(session=session, team_id=team_id) or WorkspaceSettings(
        team_id=team_id, updated_by=user_id, updated_at=now
    )
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_by, row.updated_at = user_id, as_utc(now)
    session.add(row)
    session.flush()
    return row


def known_teams(*, session: Session) -> list[str]:
    """Every workspace the database holds something of: activities, people, batches, settings."""
    found = session.execute(
        sa.union(
            select(Activity.team_id).distinct(),
            select(Member.team_id).distinct(),
            select(BatchPlan.team_id).distinct(),
            select(WorkspaceSettings.team_id),
        )
    ).scalars()
    return sorted(set(found))
