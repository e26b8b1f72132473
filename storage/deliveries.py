"""The delivery log: each reminder is claimed under a unique key before it is sent.

A claim is its own committed transaction, so a second process (or a second pass) that plans
the same reminder finds the key taken and sends nothing. A send that Slack refused is marked
failed, and the next pass may claim it again; a claim whose sender died is left alone, since
sending a reminder twice is worse than missing one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from storage.db import as_utc, stored_utc
from storage.models import Delivery

CLAIMED, SENT, FAILED = "claimed", "sent", "failed"


@dataclass(frozen=True)
class DeliveryKey:
    team_id: str
    kind: str
    recipient: str
    subject: str
    period: str


def _where(key: DeliveryKey) -> list[sa.ColumnElement[bool]]:
    return [
        col(Delivery.team_id) == key.team_id,
        col(Delivery.kind) == key.kind,
        col(Delivery.recipient) == key.recipient,
        col(Delivery.subject) == key.subject,
        col(Delivery.period) == key.period,
    ]


def claim(*, session: Session, key: DeliveryKey, now: datetime) -> bool:
    """Take the reminder for sending; False when another pass has it or has sent it."""
    row = Delivery(
        team_id=key.team_id,
        kind=key.kind,
        recipient=key.recipient,
        subject=key.subject,
        period=key.period,
        status=CLAIMED,
        claimed_at=as_utc(now),
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
        return True
    except sa.exc.IntegrityError:
        pass  # the savepoint's rollback took the row back out of the session
    # Taken before: only a failed send may be claimed again, and only by one process.
    retried = session.execute(
        sa.update(Delivery)
        .where(*_where(key), col(Delivery.status) == FAILED)
        .values(status=CLAIMED, claimed_at=as_utc(now), attempts=Delivery.attempts + 1, error=None)
    )
    return bool(retried.rowcount)  # type: ignore[attr-defined]


def record_sent(
    *, session: Session, key: DeliveryKey, now: datetime, channel: str | None, ts: str | None
) -> None:
    session.execute(
        sa.update(Delivery)
        .where(*_where(key))
        .values(status=SENT, sent_at=as_utc(now), channel=channel, ts=ts)
    )


def record_failed(*, session: Session, key: DeliveryKey, error: str) -> None:
    session.execute(
        sa.update(Delivery).where(*_where(key)).values(status=FAILED, error=error[:200])
    )


@dataclass(frozen=True)
class Logged:
    """What the log says of one reminder."""

    status: str
    claimed_at: datetime
    sent_at: datetime | None
    error: str | None


def entries(
    *, session: Session, team_id: str, keys: Iterable[DeliveryKey]
) -> dict[DeliveryKey, Logged]:
    """What the log says of each key (absent keys were never claimed)."""
    wanted = set(keys)
    periods = {k.period for k in wanted}
    if not wanted:
        return {}
    rows = session.exec(
        select(Delivery).where(Delivery.team_id == team_id, col(Delivery.period).in_(periods))
    ).all()
    found = {
        DeliveryKey(r.team_id, r.kind, r.recipient, r.subject, r.period): Logged(
            r.status,
            stored_utc(r.claimed_at),
            stored_utc(r.sent_at) if r.sent_at else None,
            r.error,
        )
        for r in rows
    }
    return {k: found[k] for k in wanted if k in found}


def log(*, session: Session, team_id: str) -> list[Delivery]:
    return list(
        session.exec(
            select(Delivery).where(Delivery.team_id == team_id).order_by(col(Delivery.id))
        ).all()
    )
