"""The Program Summary: its financial figures for one data year, kept per workspace."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlmodel import Session, select

from storage.errors import Problem, ValidationFailed
from storage.models import ProgramSummary
from storage.pars import rules
from storage.pars.fields import FieldError, parse_date, parse_money, refuse_control_characters

SUMMARY_FIELDS: dict[str, str] = {
    "period_start": "12-month period from",
    "period_end": "12-month period to",
    "advertising_income": "Advertising and exhibit income",
    "registration_fees": "Registration fees (incl. subscription and publication fees)",
    "government_grants": "Government monetary grants",
    "private_donations": "Private monetary donations (incl. foundations)",
}
AMOUNTS = ("advertising_income", "registration_fees", "government_grants", "private_donations")


def get_summary(*, session: Session, team_id: str, year: int) -> ProgramSummary | None:
    return session.exec(
        select(ProgramSummary).where(
            ProgramSummary.team_id == team_id, ProgramSummary.data_year == year
        )
    ).first()


def _parse_summary(raw: Mapping[str, str | None], today: date) -> dict[str, date | Decimal]:
    values: dict[str, date | Decimal] = {}
    problems: list[Problem] = []
    years = rules.accepted_years(today)
    for name, label in SUMMARY_FIELDS.items():
        text = (raw.get(name) or "").strip()
        if not text:
            problems.append(Problem(name, f"{label}: required (0 when there was none)"))
            continue
        try:
            refuse_control_characters(text)
            values[name] = parse_money(text) if name in AMOUNTS else parse_date(text)
        except FieldError as error:
            problems.append(Problem(name, f"{label}: {error}"))
            continue
        value = values[name]
        if isinstance(value, date) and value.year not in years:
            # Refused before the 12-month rule computes a year past it (9999-12-31 has none).
            del values[name]
            problems.append(
                Problem(
                    name,
                    f"{label}: {value} is outside the years pars-bot accepts: give a date from "
                    f"{years.start} to {years.stop - 1}",
                )
            )
    start, end = values.get("period_start"), values.get("period_end")
    if isinstance(start, date) and isinstance(end, date):
        if end < start:
            problems.append(Problem("period_end", "The period ends before it starts"))
        elif end >= rules.add_years(start, 1):
            problems.append(
                Problem("period_end", "The period is longer than 12 months; PARS asks for 12")
            )
    if problems:
        raise ValidationFailed(problems)
    return values


def save_summary(
    *,
    session: Session,
    team_id: str,
    year: int,
    raw: Mapping[str, str | None],
    user_id: str,
    now: datetime,
) -> ProgramSummary:
    """Store the Program Summary of a data year from text by field name (all required)."""
    values = _parse_summary(raw, now.date())
    row = get_summary(session=session, team_id=team_id, year=year) or ProgramSummary(
        team_id=team_id, data_year=year, updated_by=user_id, updated_at=now, **values
    )
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_by, row.updated_at = user_id, now.astimezone(UTC)
    session.add(row)
    session.flush()
    return row
