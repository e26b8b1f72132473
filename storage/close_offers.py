"""What a "Close all N ready" button offered, kept until it is clicked.

A ready list writes one offer: the activities it showed that the person may close. The click
claims it once and closes those (each checked again against the rules then), so a click never
closes an activity that was not shown, and names those that are no longer ready.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from storage import queries
from storage.db import stored_utc
from storage.errors import NotPermitted, ParsError, person
from storage.models import Activity, CloseOffer
from storage.pars.validation import Actor

# A list older than this is not acted on: run it again. Offers this old are removed when a
# newer one is written, so the table holds about a day of lists.
OFFER_HOURS = 24
# One offer holds at most this many (the first in list order): a ready list costs the same
# however many are ready, and one click closes them in seconds. A list past it offers the
# first ones, and says so.
OFFER_LIMIT = 1_000
# Row keys asked for in one statement, well under SQLite's limit of parameters.
_CHUNK = 1000


@dataclass(frozen=True)
class Offer:
    id: str
    count: int
    # The list holds more than OFFER_LIMIT that the person may close: these are the first.
    capped: bool


@dataclass(frozen=True)
class Offered:
    """The activities an offer named, by their IDs now; those removed since by the ID shown."""

    current_ids: list[str]
    removed_ids: list[str]
    pks: frozenset[int]
    capped: bool


class OfferExpired(ParsError):
    def __init__(self) -> None:
        super().__init__(
            f"This list is more than {OFFER_HOURS} hours old, or was not made by pars-bot, so "
            "nothing was closed. Run `/pars list ready` again."
        )


class OfferUsed(ParsError):
    def __init__(self) -> None:
        super().__init__(
            "This Close all was already clicked, so nothing more was closed. Run "
            "`/pars list ready` to see what is still ready."
        )


def offer_close_all(
    *,
    session: Session,
    team_id: str,
    actor: Actor,
    today: date,
    now: datetime,
    views: Sequence[str],
    year: int | None = None,
    format_code: str | None = None,
) -> Offer | None:
    """Keep the ready activities of this list that the actor may close; None when there are
    none."""
    keys = queries.closable_keys(
        session=session,
        team_id=team_id,
        today=today,
        views=views,
        year=year,
        format_code=format_code,
        user_id=actor.user_id,
        is_admin=actor.is_admin,
        limit=OFFER_LIMIT + 1,
    )
    if not keys:
        return None
    capped = len(keys) > OFFER_LIMIT
    keys = keys[:OFFER_LIMIT]
    session.execute(
        sa.delete(CloseOffer).where(
            col(CloseOffer.team_id) == team_id,
            col(CloseOffer.created_at) < now - timedelta(hours=OFFER_HOURS),
        )
    )
    offer = CloseOffer(
        id=secrets.token_urlsafe(16),
        team_id=team_id,
        user_id=actor.user_id,
        created_at=now,
        activities=[[pk, activity_id] for pk, activity_id in keys],
        capped=capped,
    )
    session.add(offer)
    session.flush()
    return Offer(offer.id, len(keys), capped)


def claim_offer(
    *, session: Session, team_id: str, offer_id: str, actor: Actor, now: datetime
) -> Offered:
    """The activities of an offer, claimed by this click: once, by the person shown it."""
    offer = session.get(CloseOffer, offer_id) if offer_id else None
    if (
        offer is None
        or offer.team_id != team_id
        or stored_utc(offer.created_at) < now - timedelta(hours=OFFER_HOURS)
    ):
        raise OfferExpired()
    if offer.user_id != actor.user_id:
        raise NotPermitted(
            f"This list was shown to {person(offer.user_id)}, so nothing was closed. Run "
            "`/pars list ready` to get your own.",
            [offer.user_id],
        )
    # One statement decides which of two simultaneous clicks is the first.
    claimed = session.execute(
        sa.update(CloseOffer)
        .where(col(CloseOffer.id) == offer.id, col(CloseOffer.used_at).is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:
        raise OfferUsed()
    shown = {int(pk): str(activity_id) for pk, activity_id in offer.activities}
    now_named: dict[int, str] = {}
    keys = list(shown)
    for start in range(0, len(keys), _CHUNK):
        now_named |= dict(
            session.exec(
                select(Activity.id, Activity.activity_id).where(
                    Activity.team_id == team_id, col(Activity.id).in_(keys[start : start + _CHUNK])
                )
            ).all()
        )
    return Offered(
        current_ids=[now_named[pk] for pk in shown if pk in now_named],
        removed_ids=[aid for pk, aid in shown.items() if pk not in now_named],
        pks=frozenset(shown),
        capped=offer.capped,
    )


def ready_since(
    *,
    session: Session,
    team_id: str,
    actor: Actor,
    today: date,
    offered: Offered,
    views: Sequence[str],
    year: int | None = None,
    format_code: str | None = None,
) -> list[str]:
    """Activities of the same list the actor may close that the offer did not hold: they
    became ready (or theirs) after the list was shown, or were past OFFER_LIMIT, so the click
    left them alone. At most OFFER_LIMIT of them: as many as are read, not the whole list."""
    keys = queries.closable_keys(
        session=session,
        team_id=team_id,
        today=today,
        views=views,
        year=year,
        format_code=format_code,
        user_id=actor.user_id,
        is_admin=actor.is_admin,
        limit=len(offered.pks) + OFFER_LIMIT,
    )
    return [activity_id for pk, activity_id in keys if pk not in offered.pks][:OFFER_LIMIT]
