"""Who the Slack IDs are: each member's real name, as their Slack profile last gave it."""

from __future__ import annotations

from collections.abc import Collection

from sqlmodel import Session, col, select, update

from storage.models import Member

NAME_LENGTH = 255  # member.real_name


def clipped(real_name: str | None) -> str | None:
    """A name as the member table keeps it: None for none, at most the column's length."""
    name = (real_name or "").strip()
    return name[:NAME_LENGTH] or None


def rename(*, session: Session, team_id: str, user_id: str, real_name: str | None) -> bool:
    """Someone's Slack profile changed: keep their new name if the bot knows them (a
    workspace's other people are not stored). True when a member was renamed."""
    name = clipped(real_name)
    if name is None:
        return False
    result = session.execute(
        update(Member)
        .where(col(Member.team_id) == team_id, col(Member.user_id) == user_id)
        .where(col(Member.real_name).is_distinct_from(name))
        .values(real_name=name)
    )
    return bool(result.rowcount)


def names(*, session: Session, team_id: str, user_ids: Collection[str]) -> dict[str, str]:
    """The real names known of `user_ids`; someone without one is absent."""
    if not user_ids:
        return {}
    rows = session.exec(
        select(Member.user_id, Member.real_name).where(
            Member.team_id == team_id,
            col(Member.user_id).in_(sorted(user_ids)),
            col(Member.real_name).is_not(None),
        )
    )
    return {user_id: name for user_id, name in rows if name}
