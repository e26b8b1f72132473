"""The tables. Every row belongs to one Slack workspace (team_id) and every query filters on it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

# The version column doubles as SQLAlchemy's optimistic-lock column: an UPDATE that finds
# another version than the one it read changes nothing and raises, so two concurrent
# edits can never silently overwrite each other.
_activity_version = Column("version", sa.Integer, nullable=False, default=1)

# Partial indexes of open and of closed activities. A query uses one when its WHERE holds the
# same condition, written the same way: `closed_at IS NULL` / `IS NOT NULL`.
_OPEN = {
    "sqlite_where": sa.text("closed_at IS NULL"),
    "postgresql_where": sa.text("closed_at IS NULL"),
}
_CLOSED = {
    "sqlite_where": sa.text("closed_at IS NOT NULL"),
    "postgresql_where": sa.text("closed_at IS NOT NULL"),
}


class Activity(SQLModel, table=True):
    __tablename__ = "activity"
    __table_args__ = (
        sa.UniqueConstraint("team_id", "activity_id", name="uq_activity_team_activity_id"),
        # Every query names the workspace, so every index starts with team_id; each one costs
        # every write (an Apply of 10,000 rows) and every ANALYZE, so there are no others.
        # One person's activities by end date: App Home, `list mine`, reminders per owner.
        sa.Index(
            "ix_activity_team_owner_end", "team_id", "owner_user_id", "end_date", "activity_id"
        ),
        # Each list reads its page from an index in list order (end date, then ID), and
        # counts no further than it must (storage/queries.py): a page costs the same at 10,000
        # activities as at 1,000,000. Open work and closed work each have their own, so that
        # neither is read past the other; "ready" has the flag the service keeps. Reminders
        # and the checklist read open work by end date from the same ones.
        # closed_at last: the checklist counts a year's ended and still-open ones from it.
        sa.Index("ix_activity_team_end", "team_id", "end_date", "activity_id", "closed_at"),
        # start_date last: `year=` keeps those that started by the year's end, read from here.
        sa.Index(
            "ix_activity_open_end", "team_id", "end_date", "activity_id", "start_date", **_OPEN
        ),
        sa.Index(
            "ix_activity_ready_end",
            "team_id",
            "active_fields_complete",
            "end_date",
            "activity_id",
            **_OPEN,
        ),
        sa.Index("ix_activity_closed_end", "team_id", "end_date", "activity_id", **_CLOSED),
        # `format=` (`list all format=journal`), and of open work (`list unclosed
        # format=journal`): open rows are the newest, and a format's open ones would
        # otherwise be found past all its closed ones.
        sa.Index("ix_activity_team_format_end", "team_id", "format", "end_date", "activity_id"),
        sa.Index(
            "ix_activity_format_open_end",
            "team_id",
            "format",
            "end_date",
            "activity_id",
            **_OPEN,
        ),
        sa.Index(
            "ix_activity_owner_open_end",
            "team_id",
            "owner_user_id",
            "end_date",
            "activity_id",
            **_OPEN,
        ),
        # `list ready mine`, and the owner's part of Close all: one owner's ready ones in list
        # order, not every open one of theirs that ended, read to find the ready among them.
        sa.Index(
            "ix_activity_owner_ready_end",
            "team_id",
            "owner_user_id",
            "active_fields_complete",
            "end_date",
            "activity_id",
            **_OPEN,
        ),
        # "gr-2025" finds "GR-2025" without scanning the workspace.
        sa.Index("ix_activity_team_folded_id", "team_id", sa.text("lower(activity_id)")),
        # Probable duplicates (same folded title, same start): storage/duplicates.py.
        sa.Index("ix_activity_team_title_key_start", "team_id", "title_key", "start_date"),
    )
    __mapper_args__ = {"version_id_col": _activity_version}

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    activity_id: str = Field(max_length=64)
    title: str = Field(max_length=500)
    # The title folded as duplicates compare it (duplicates.title_key), kept by the service.
    title_key: str = Field(
        default="", max_length=500, sa_column_kwargs={"server_default": sa.text("''")}
    )
    format: str = Field(max_length=32)
    # A set of rules.DELIVERY_METHODS codes, in the table's order.
    delivery_method: list[str] | None = Field(default=None, sa_column=Column(JSON))
    start_date: date
    end_date: date
    city: str | None = Field(default=None, max_length=100)
    state: str | None = Field(default=None, max_length=2)
    country: str | None = Field(default=None, max_length=3)
    credits: Decimal | None = Field(default=None, max_digits=7, decimal_places=2)
    description: str | None = Field(default=None, sa_type=sa.Text)
    providership: str | None = Field(default=None, max_length=16)
    joint_providers: list[str] | None = Field(default=None, sa_column=Column(JSON))
    cme_finder: bool | None = None
    # CME Passport (formerly CME Finder): whether there is a fee, rules.PASSPORT_FEES.
    finder_fee: str | None = Field(default=None, max_length=16)
    finder_registration: str | None = Field(default=None, max_length=200)
    finder_url: str | None = Field(default=None, max_length=1000)
    outcome_measures: list[str] | None = Field(default=None, sa_column=Column(JSON))
    commercial_support: bool | None = None
    supporters: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON))
    moc: bool | None = None
    # One entry per certifying board: {"board", "points" (text, 0.25 steps), "credit_types"
    # (list), "claim_date" (ISO text or None)}; fields.parse_moc_boards makes them.
    moc_boards: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON))
    # The provider's attestation of compliance with the boards' MOC requirements, once per
    # activity.
    moc_attested: bool | None = None
    # Optional: a REMS program (rules.REMS_PROGRAMS) and its identifier, MIPS, and commendation
    # tags (rules.COMMENDATION_CRITERIA codes, in the menu's order).
    rems_program: str | None = Field(default=None, max_length=32)
    rems_id: str | None = Field(default=None, max_length=100)
    mips: bool | None = None
    commendation_tags: list[str] | None = Field(default=None, sa_column=Column(JSON))
    owner_user_id: str | None = Field(default=None, max_length=32)
    # What migration 0007 guessed when it converted the activity to today's PARS record,
    # by field name: shown by `/pars show` until the field is given again.
    conversion_notes: dict[str, str] | None = Field(default=None, sa_column=Column(JSON))
    # The ID PARS assigns once the activity is there (PARS.md, Batch files): kept, shown, exported.
    accme_activity_id: str | None = Field(default=None, max_length=32)
    # Kept by the service on every write (rules.missing_for_active is empty), so listing what
    # is ready to close is one indexed query, not a check of every ended activity in Python.
    active_fields_complete: bool = Field(
        default=False, sa_column_kwargs={"server_default": sa.false()}
    )
    closed_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    closed_by: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    created_by: str = Field(max_length=32)
    updated_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    updated_by: str = Field(max_length=32)
    version: int = Field(default=1, sa_column=_activity_version)


class LearnerCount(SQLModel, table=True):
    """One recorded count of one learner category; the newest per category is current.

    A small table keyed by category rather than two columns, so that Joint Accreditation's
    per-profession counts fit later without a new schema.
    """

    __tablename__ = "learner_count"

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    activity_pk: int = Field(foreign_key="activity.id", index=True, ondelete="CASCADE")
    category: str = Field(max_length=32)
    count: int
    as_of: date
    recorded_by: str = Field(max_length=32)
    recorded_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class AuditEvent(SQLModel, table=True):
    """Who changed what, when: one row per change of one activity."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    activity_pk: int | None = Field(
        default=None, foreign_key="activity.id", index=True, ondelete="SET NULL"
    )
    activity_id: str = Field(max_length=64)
    action: str = Field(max_length=32)
    user_id: str = Field(max_length=32)
    at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    # {field: {"before": text, "after": text}}, as the user would type the values.
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    batch_id: str | None = Field(default=None, max_length=64, index=True)
    # The activity's version after this change, so a refused stale edit can say what changed.
    version: int | None = None


# -- The annual reporting cycle ---------------------------------------------------------------


class WorkspaceSettings(SQLModel, table=True):
    """What admins set with `/pars config`; a workspace without a row uses the defaults."""

    __tablename__ = "workspace_settings"

    team_id: str = Field(primary_key=True, max_length=32)
    timezone: str | None = Field(default=None, max_length=64)
    digest_channel: str | None = Field(default=None, max_length=32)
    updated_by: str = Field(max_length=32)
    updated_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class ReportingDeadline(SQLModel, table=True):
    """A deadline set for one data year, replacing ACCME's default (e.g. a state accreditor's)."""

    __tablename__ = "reporting_deadline"
    __table_args__ = (
        sa.UniqueConstraint("team_id", "data_year", name="uq_reporting_deadline_team_year"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    data_year: int
    due_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    # The zone it was given in: its calendar date there is "the day of the deadline".
    timezone: str = Field(max_length=64)
    set_by: str = Field(max_length=32)
    set_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class ChecklistMark(SQLModel, table=True):
    """A checklist step done in PARS itself (agreement, Program Summary, contact information)."""

    __tablename__ = "checklist_mark"
    __table_args__ = (
        sa.UniqueConstraint("team_id", "data_year", "step", name="uq_checklist_mark_team_year"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    data_year: int
    step: str = Field(max_length=32)
    done_by: str = Field(max_length=32)
    done_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class ProgramSummary(SQLModel, table=True):
    """The Program Summary's financial figures for one data year."""

    __tablename__ = "program_summary"
    __table_args__ = (
        sa.UniqueConstraint("team_id", "data_year", name="uq_program_summary_team_year"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    data_year: int
    period_start: date
    period_end: date
    advertising_income: Decimal = Field(max_digits=14, decimal_places=2)
    registration_fees: Decimal = Field(max_digits=14, decimal_places=2)
    government_grants: Decimal = Field(max_digits=14, decimal_places=2)
    private_donations: Decimal = Field(max_digits=14, decimal_places=2)
    updated_by: str = Field(max_length=32)
    updated_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class Member(SQLModel, table=True):
    """Someone who has used the bot: subscribed to reminders unless they turned them off.

    The Slack profile (time zone, guest, deleted) is a copy refreshed by the scheduler, so
    that planning reminders needs no call to Slack.
    """

    __tablename__ = "member"

    team_id: str = Field(primary_key=True, max_length=32)
    user_id: str = Field(primary_key=True, max_length=32)
    # False for an activity owner the bot only knows from `owner=`: no countdown for them.
    used_bot: bool = True
    reminders: bool = True
    first_seen: datetime = Field(sa_type=sa.DateTime(timezone=True))
    tz: str | None = Field(default=None, max_length=64)
    is_guest: bool = False
    is_deleted: bool = False
    profile_checked_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    # Their real name in Slack, shown for their ID where people read it (the export's Owner).
    real_name: str | None = Field(default=None, max_length=255)


class Snooze(SQLModel, table=True):
    """An activity's reminders are quiet up to and including `until`."""

    __tablename__ = "snooze"

    activity_pk: int = Field(primary_key=True, foreign_key="activity.id", ondelete="CASCADE")
    team_id: str = Field(max_length=32, index=True)
    until: date
    snoozed_by: str = Field(max_length=32)
    snoozed_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class Delivery(SQLModel, table=True):
    """The delivery log: a reminder is claimed here (unique key) before it is sent."""

    __tablename__ = "delivery"
    __table_args__ = (
        sa.UniqueConstraint(
            "team_id", "kind", "recipient", "subject", "period", name="uq_delivery_key"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    kind: str = Field(max_length=32)
    recipient: str = Field(max_length=32)
    subject: str = Field(max_length=64)
    period: str = Field(max_length=32)
    # claimed -> sent, or claimed -> failed -> claimed again on a later pass.
    status: str = Field(max_length=16)
    attempts: int = 1
    claimed_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    sent_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    error: str | None = Field(default=None, max_length=200)
    channel: str | None = Field(default=None, max_length=32)
    ts: str | None = Field(default=None, max_length=32)


class BatchPlan(SQLModel, table=True):
    """One spreadsheet read for batch work: its rows, the preview, and what Apply did.

    Kept in the database, not in a process, so that Apply works from any process and after a
    restart. Its ID is the batch ID of every audit row the Apply writes. One row per Slack file
    (team_id, file_id), so that a file Slack delivers twice is previewed once.
    """

    __tablename__ = "batch_plan"
    __table_args__ = (sa.UniqueConstraint("team_id", "file_id", name="uq_batch_plan_team_file"),)

    id: str = Field(primary_key=True, max_length=64)
    team_id: str = Field(max_length=32, index=True)
    user_id: str = Field(max_length=32)
    file_id: str | None = Field(default=None, max_length=64)
    file_name: str = Field(max_length=300)
    content_sha256: str | None = Field(default=None, max_length=64)
    # reading -> previewed -> applied | cancelled; or refused (the file could not be used),
    # and undone after an applied batch is taken back.
    status: str = Field(max_length=16)
    channel_id: str | None = Field(default=None, max_length=32)
    thread_ts: str | None = Field(default=None, max_length=32)
    message_ts: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    expires_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    # The rows as read (text by column target, blank cells left out), checked again at Apply:
    # one JSON object a line, compressed (storage.batch.packed), never one 55 MB JSON value.
    packed_rows: bytes | None = Field(default=None, sa_column=Column(sa.LargeBinary))
    # What the preview said: counts by outcome, and each row's outcome.
    summary: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    # The workspace's audit trail when the preview read it (storage.batch.plan.data_mark):
    # the same at Apply means no activity or count has changed since.
    data_mark: str | None = Field(default=None, max_length=64)
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    applied_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    applied_by: str | None = Field(default=None, max_length=32)


class CloseOffer(SQLModel, table=True):
    """What one "Close all N ready" button offered: the ready activities a person was shown.

    The button carries this row's ID, not the activities (a button's value holds 2,000
    characters, a list of ready activities may be hundreds), so that a click closes what was
    confirmed and names what is no longer ready, rather than whatever is ready by then.
    """

    __tablename__ = "close_offer"
    __table_args__ = (sa.Index("ix_close_offer_team_created", "team_id", "created_at"),)

    id: str = Field(primary_key=True, max_length=32)
    team_id: str = Field(max_length=32)
    user_id: str = Field(max_length=32)
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    # [[activity row key, activity ID as shown], ...] in list order.
    activities: list[list[Any]] = Field(sa_column=Column(JSON, nullable=False))
    # Set by the first click: a second click (or a double click) closes nothing more.
    used_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    # The list held more than these (close_offers.OFFER_LIMIT): the click's answer says that
    # those left open were past the limit, not that they became ready since.
    capped: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
