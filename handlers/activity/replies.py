"""Replies that need the store: what was saved and what is missing, closing several at once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from handlers.activity import closing
from handlers.activity import messages as blocks
from handlers.slack.messages import Message
from handlers.slack.mrkdwn import error_text, escape
from storage import activities as service
from storage import close_offers, duplicates
from storage import counts as learner_counts
from storage.db import session_scope
from storage.errors import ActivityNotFound, CloseRefused, NotPermitted, StaleEdit
from storage.models import Activity
from storage.pars.fields import input_notes


def saved_message(
    *,
    session: Session,
    activity: Activity,
    today: date,
    verb: str,
    changes: dict[str, dict[str, str]] | None = None,
    note: str = "",
) -> Message:
    others = duplicates.others_of(session=session, activity=activity)
    return blocks.saved(
        verb,
        activity,
        status=service.status_of(activity, today=today),
        needs=service.still_needs(session=session, activity=activity),
        changes=changes,
        note=note,
        duplicate_of=others,
    )


def save_activity(
    *,
    engine: Engine,
    team_id: str,
    actor: service.Actor,
    raw: dict[str, str],
    now: datetime,
    today: date,
    activity_id: str | None = None,
    activity_pk: int | None = None,
    expected_version: int | None = None,
) -> Message:
    """Add an activity (no ID or row given) or change one, and say what was saved.

    The one path from a command's or a form's text to the store and back to the user.
    """
    with session_scope(engine) as session:
        if activity_id is None and activity_pk is None:
            activity = service.create_activity(
                session=session, team_id=team_id, actor=actor, raw=raw, now=now, today=today
            )
            note = (
                ""
                if raw.get("activity_id")
                else f"The bot assigned the ID `{activity.activity_id}`."
            )
            note = "\n".join(filter(None, [note, *(escape(n) for n in input_notes(raw))]))
            return saved_message(
                session=session, activity=activity, today=today, verb="Added", note=note
            )
        if activity_id is None:
            assert activity_pk is not None
            target = service.get_activity_by_pk(session=session, team_id=team_id, pk=activity_pk)
            activity_id = target.activity_id
        update = service.update_activity(
            session=session,
            team_id=team_id,
            actor=actor,
            activity_id=activity_id,
            raw=raw,
            now=now,
            today=today,
            expected_version=expected_version,
        )
        return saved_message(
            session=session,
            activity=update.activity,
            today=today,
            verb="Updated" if update.changes else "No change to",
            changes=update.changes,
            note="\n".join(escape(n) for n in input_notes(raw)),
        )


def card_message(
    *,
    session: Session,
    activity: Activity,
    today: date,
    timezone: ZoneInfo,
    share: bool = False,
) -> Message:
    return blocks.activity_card(
        activity,
        status=service.status_of(activity, today=today),
        needs=service.still_needs(session=session, activity=activity),
        counts=learner_counts.current_counts(session=session, activity=activity),
        history=learner_counts.count_history(session=session, activity=activity),
        timezone=timezone,
        interactive=not share,
    )


def close_many(
    *,
    engine: Engine,
    team_id: str,
    actor: service.Actor,
    activity_ids: Sequence[str],
    now: datetime,
    today: date,
) -> Message:
    """Close each activity that may be closed and report each, as PARS's batch close does."""
    with session_scope(engine) as session:
        outcomes = _close_in(
            session,
            team_id=team_id,
            actor=actor,
            activity_ids=activity_ids,
            now=now,
            today=today,
        )
    return closing.close_results(outcomes)


def close_all(
    *,
    engine: Engine,
    team_id: str,
    actor: service.Actor,
    offer_id: str,
    views: Sequence[str],
    year: int | None,
    format_code: str | None,
    now: datetime,
    today: date,
) -> Message:
    """Close what a Close all button offered, each checked against the rules as it is now.

    Closed one by one as Close selected closes (one refused does not hold back the others);
    ready activities the list did not show are left open and named.
    """
    # The claim and the closes commit together: a click whose closes fail (the database
    # locked or gone) leaves the button as it was, to be clicked again.
    with session_scope(engine) as session:
        offered = close_offers.claim_offer(
            session=session, team_id=team_id, offer_id=offer_id, actor=actor, now=now
        )
        outcomes = _close_in(
            session,
            team_id=team_id,
            actor=actor,
            activity_ids=offered.current_ids,
            now=now,
            today=today,
        )
    with session_scope(engine) as session:
        newer = close_offers.ready_since(
            session=session,
            team_id=team_id,
            actor=actor,
            today=today,
            offered=offered,
            views=views,
            year=year,
            format_code=format_code,
        )
    return closing.close_all_results(
        outcomes, removed=offered.removed_ids, newer=newer, capped=offered.capped
    )


def _close_in(
    session: Session,
    *,
    team_id: str,
    actor: service.Actor,
    activity_ids: Sequence[str],
    now: datetime,
    today: date,
) -> list[closing.CloseOutcome]:
    """Close each one that may be closed, in the caller's transaction: a refusal writes nothing
    (the service checks before it writes, and undoes a write that conflicts), so one refused
    does not hold back the others, and hundreds cost one commit, not hundreds."""
    outcomes: list[closing.CloseOutcome] = []
    for activity_id in dict.fromkeys(activity_ids):
        try:
            activity = service.close_activity(
                session=session,
                team_id=team_id,
                actor=actor,
                activity_id=activity_id,
                now=now,
                today=today,
            )
            message = f"Closed {blocks.named(activity)}."
            outcomes.append(closing.CloseOutcome(activity.activity_id, True, message, False))
        except CloseRefused as refused:
            outcomes.append(
                closing.CloseOutcome(
                    refused.activity_id,
                    False,
                    _with_counts_hint(refused),
                    bool(refused.missing),
                )
            )
        except (ActivityNotFound, NotPermitted, StaleEdit) as error:
            outcomes.append(closing.CloseOutcome(activity_id, False, error_text(error), False))
    return outcomes


def _with_counts_hint(refused: CloseRefused) -> str:
    message = error_text(refused)
    if any(m.startswith("learners_") for m in refused.missing):
        return (
            f"{message} Record counts with "
            f"`/pars counts {escape(refused.activity_id)} physicians=N others=N`."
        )
    return message
