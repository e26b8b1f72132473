"""Previewing and applying files against the real database (SQLite, and PostgreSQL if set)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage.activities import Actor
from storage.batch.apply import Applied, apply_plan
from storage.batch.preview import Preview, preview_file
from storage.batch.store import claim_file
from storage.db import session_scope
from storage.models import Activity, AuditEvent, LearnerCount
from storage.sheets.read import Limits
from tests.conftest import NOW, TODAY

TEAM = "T0BATCH"
ALICE = Actor(user_id="U0ALICE")
BOB = Actor(user_id="U0BOB")
ADMIN = Actor(user_id="U0ADMIN", is_admin=True)


def preview(
    engine: Engine,
    data: bytes,
    name: str = "activities.xlsx",
    *,
    actor: Actor = ALICE,
    file_id: str | None = None,
    now: datetime = NOW,
    limits: Limits | None = None,
) -> Preview:
    claim = claim_file(
        engine=engine,
        team_id=TEAM,
        user_id=actor.user_id,
        file_id=file_id,
        file_name=name,
        now=now,
    )
    return preview_file(
        engine=engine,
        plan_id=claim.plan_id,
        team_id=TEAM,
        actor=actor,
        data=data,
        file_name=name,
        today=TODAY,
        limits=limits,
    )


def apply(engine: Engine, batch_id: str, *, actor: Actor = ALICE, now: datetime = NOW) -> Applied:
    with session_scope(engine) as session:
        return apply_plan(
            session=session, team_id=TEAM, plan_id=batch_id, actor=actor, now=now, today=TODAY
        )


def load(engine: Engine, activity_id: str) -> Activity | None:
    with Session(engine) as session:
        return session.exec(
            select(Activity).where(Activity.team_id == TEAM, Activity.activity_id == activity_id)
        ).first()


def ids(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return sorted(session.exec(select(Activity.activity_id)).all())


def counts(engine: Engine, activity_id: str) -> list[tuple[str, int, str]]:
    with Session(engine) as session:
        rows = session.exec(
            select(LearnerCount)
            .join(Activity, col(Activity.id) == LearnerCount.activity_pk)
            .where(Activity.activity_id == activity_id)
            .order_by(col(LearnerCount.id))
        ).all()
    return [(r.category, r.count, r.as_of.isoformat()) for r in rows]


def audit(engine: Engine) -> list[tuple[str, str, str | None]]:
    with Session(engine) as session:
        rows = session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
    return [(r.activity_id, r.action, r.batch_id) for r in rows]
