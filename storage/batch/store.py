"""The life of a batch plan in the database: claimed, previewed, applied or cancelled.

A plan row is claimed per Slack file before anything is downloaded, so a file that Slack
delivers twice (retries, or both the message and the file_shared event) is previewed once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import defer
from sqlmodel import Session, select

from storage.db import stored_utc
from storage.errors import NotPermitted, ParsError, person
from storage.models import BatchPlan

PREVIEW_DAYS = 7
READING, PREVIEWED, APPLIED, CANCELLED, REFUSED, UNDONE = (
    "reading",
    "previewed",
    "applied",
    "cancelled",
    "refused",
    "undone",
)
# A blank template shared to be filled: nothing to apply, its buttons fill it.
TEMPLATE = "template"
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_batch_id() -> str:
    """Short enough to type in `/pars undo-batch B-7K3M9QX2`, unguessable enough."""
    return "B-" + "".join(secrets.choice(_ALPHABET) for _ in range(8))


@dataclass(frozen=True)
class Claim:
    plan_id: str
    fresh: bool


def claim_file(
    *,
    engine: Engine,
    team_id: str,
    user_id: str,
    file_id: str | None,
    file_name: str,
    now: datetime,
    channel_id: str | None = None,
    thread_ts: str | None = None,
) -> Claim:
    """A new plan row for this file, or the existing one (fresh=False) if already claimed."""
    plan_id = new_batch_id()
    try:
        with Session(engine) as session:
            session.add(
                BatchPlan(
                    id=plan_id,
                    team_id=team_id,
                    user_id=user_id,
                    file_id=file_id,
                    file_name=file_name[:300],
                    status=READING,
                    channel_id=channel_id,
                    thread_ts=thread_ts,
                    created_at=now,
                    expires_at=now + timedelta(days=PREVIEW_DAYS),
                )
            )
            session.commit()
    except sa.exc.IntegrityError:
        with Session(engine) as session:
            existing = session.exec(
                select(BatchPlan).where(BatchPlan.team_id == team_id, BatchPlan.file_id == file_id)
            ).one()
            if not _shared_anew(existing, now, thread_ts) or not _set_aside(
                session, existing, file_id
            ):
                return Claim(existing.id, fresh=False)
        return claim_file(
            engine=engine, team_id=team_id, user_id=user_id, file_id=file_id,
            file_name=file_name, now=now, channel_id=channel_id, thread_ts=thread_ts,
        )  # fmt: skip
    return Claim(plan_id, fresh=True)


# A preview still being read after this long was left by a process that died.
READING_GIVEN_UP = timedelta(hours=1)


def _shared_anew(plan: BatchPlan, now: datetime, share_ts: str | None) -> bool:
    """Is this a new share of a file whose earlier preview is over, so a new one starts?

    Slack delivers every share twice (the message and file_shared) and retries for minutes:
    those come with the same message (or none), and count once. A share in another message
    after Cancel or an undo starts afresh, as the bot's messages invite; so does any share
    once a preview expired or was abandoned. A refused file would only be refused again.
    """
    if plan.status in (CANCELLED, UNDONE, TEMPLATE):
        return share_ts is not None and share_ts != plan.thread_ts
    if plan.status == PREVIEWED:
        return stored_utc(plan.expires_at) < now
    return plan.status == READING and stored_utc(plan.created_at) + READING_GIVEN_UP < now


def _set_aside(session: Session, plan: BatchPlan, file_id: str | None) -> bool:
    """Free the file's ID for a new claim, keeping the old plan (and its audit) as it was.
    False when another process has just done it."""
    moved = session.execute(
        sa.update(BatchPlan)
        .where(BatchPlan.id == plan.id, BatchPlan.file_id == file_id)
        .values(file_id=f"{file_id}/{plan.id}"[:64])
    )
    session.commit()
    return bool(moved.rowcount)  # type: ignore[attr-defined]


def get_plan(
    session: Session, *, team_id: str, plan_id: str, fresh: bool = False, rows: bool = True
) -> BatchPlan:
    """The plan; `fresh` reads it from the database even if this session holds it already;
    without `rows`, its rows as read are loaded only when asked for (they may be 10,000)."""
    plan = session.get(
        BatchPlan,
        plan_id.strip().upper(),  # typed as b-7k3m9qx2, say
        populate_existing=fresh,
        options=None if rows else [defer(BatchPlan.packed_rows)],  # type: ignore[arg-type]
    )
    if plan is None or plan.team_id != team_id:
        raise ParsError(
            f"No batch has the ID `{plan_id.strip()}`. The batch ID is in the message that "
            "answered the upload."
        )
    return plan


def update_plan(engine: Engine, plan_id: str, **values: Any) -> None:
    with Session(engine) as session:
        # Not the rows kept already (100,000 rows: 200 MB parsed), unless they are replaced.
        plan = session.get(BatchPlan, plan_id, options=[defer(BatchPlan.packed_rows)])  # type: ignore[arg-type]
        if plan is None:
            return
        for name, value in values.items():
            setattr(plan, name, value)
        session.add(plan)
        session.commit()


def ensure_may_apply(plan: BatchPlan, user_id: str, is_admin: bool) -> None:
    if is_admin or plan.user_id == user_id:
        return
    raise NotPermitted(
        f"Only {person(plan.user_id)}, who shared this file, or an admin can apply or cancel it.",
        [plan.user_id],
    )


def status_refusal(plan: BatchPlan, now: datetime) -> str | None:
    """Why this plan can no longer be applied, or None when it still can."""
    if plan.status == APPLIED:
        when = f" on {stored_utc(plan.applied_at):%Y-%m-%d %H:%M} UTC" if plan.applied_at else ""
        who = f" by {person(plan.applied_by)}" if plan.applied_by else ""
        return f"This batch ({plan.id}) was already applied{who}{when}; nothing more was changed."
    if plan.status == CANCELLED:
        return f"This batch ({plan.id}) was cancelled; share the file again to start over."
    if plan.status == UNDONE:
        return f"This batch ({plan.id}) was applied and then undone; share the file again."
    if plan.status != PREVIEWED:
        return f"This batch ({plan.id}) has no preview to apply; share the file again."
    if stored_utc(plan.expires_at) < now:
        return (
            f"This preview expired on {stored_utc(plan.expires_at):%Y-%m-%d} (previews last "
            f"{PREVIEW_DAYS} days) and nothing was changed. Share the file again for a fresh one."
        )
    return None


def cancel_plan(
    *, engine: Engine, team_id: str, plan_id: str, user_id: str, is_admin: bool, now: datetime
) -> BatchPlan:
    with Session(engine, expire_on_commit=False) as session:
        plan = get_plan(session, team_id=team_id, plan_id=plan_id)
        ensure_may_apply(plan, user_id, is_admin)
        claimed = session.execute(
            sa.update(BatchPlan)
            .where(BatchPlan.id == plan.id, BatchPlan.status == PREVIEWED)
            .values(status=CANCELLED, result={"cancelled_by": user_id})
        ).rowcount
        session.commit()
        session.refresh(plan)
        if not claimed and plan.status != CANCELLED:
            raise ParsError(status_refusal(plan, now) or "This batch can't be cancelled now.")
        return plan
