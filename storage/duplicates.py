"""Probable duplicates: two activities with the same title (ignoring case, spaces and
punctuation) and the same start date are probably one activity entered twice (typed once, then
uploaded from the office's sheet), and PARS would count it twice.

Nothing is refused: adds, edits and previews warn, naming the other activity, and the export
lists them. Titles are compared by `title_key`, stored on every activity (`activity.title_key`,
indexed with the team and the start date), so finding the other one is an index lookup.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from storage.models import Activity

# Keys asked for in one statement: well under every driver's limit on bound parameters.
CHUNK = 500


def title_key(title: str | None) -> str:
    """A title as duplicates are compared: letters and digits only, case-folded (accents and
    full-width forms folded too), so "Grand Rounds: Cardiology" matches "grand rounds -
    cardiology"."""
    if not title:
        return ""
    folded = unicodedata.normalize("NFKD", title).casefold()
    return "".join(filter(str.isalnum, folded))


@dataclass(frozen=True)
class Other:
    """The activity a new or changed one probably duplicates."""

    id: int
    activity_id: str
    title: str
    start_date: date

    def describe(self) -> str:
        """Plain words naming it, for messages and sheets (callers escape as they need)."""
        return f"{self.activity_id} ({self.title}, starting {self.start_date})"


Key = tuple[str, date]


def key_of(title: str | None, start: date | None) -> Key | None:
    """The duplicate key of a title and start date; None when either is missing (or the title
    has no letter or digit, which would match every other such title)."""
    folded = title_key(title)
    if not folded or start is None:
        return None
    return folded, start


# Built once: a statement naming 500 keys cost more to build than to run.
_TABLE = Activity.__table__
_LIKE = (
    select(
        _TABLE.c.id, _TABLE.c.activity_id, _TABLE.c.title, _TABLE.c.start_date, _TABLE.c.title_key
    )
    .where(_TABLE.c.team_id == sa.bindparam("team_id"))
    .where(_TABLE.c.title_key.in_(sa.bindparam("keys", expanding=True)))
)


def others_like(
    *, session: Session, team_id: str, keys: Iterable[Key], exclude: Collection[int] = ()
) -> dict[Key, list[Other]]:
    """The stored activities of the workspace having each key, by key, oldest first.

    One indexed statement per CHUNK titles (ix_activity_team_title_key_start), so a preview of
    10,000 rows asks about 20 times, whatever the size of the workspace.
    """
    wanted = {k for k in keys if k is not None}
    found: dict[Key, list[Other]] = defaultdict(list)
    titles = sorted({k[0] for k in wanted})
    for start in range(0, len(titles), CHUNK):
        rows = session.connection().execute(
            _LIKE, {"team_id": team_id, "keys": titles[start : start + CHUNK]}
        )
        # No ORDER BY: SQLite would walk the team's rows by key to sort them, not the index.
        for row in sorted(rows, key=lambda r: r.id):
            key = (row.title_key, row.start_date)
            if key in wanted and row.id not in exclude:
                found[key].append(Other(row.id, row.activity_id, row.title, row.start_date))
    return dict(found)


def others_of(*, session: Session, activity: Activity) -> list[Other]:
    """The other stored activities this one probably duplicates."""
    key = key_of(activity.title, activity.start_date)
    if key is None:
        return []
    exclude = [activity.id] if activity.id is not None else []
    return others_like(session=session, team_id=activity.team_id, keys=[key], exclude=exclude).get(
        key, []
    )


def warning(others: Iterable[Other]) -> str:
    """What an add, edit or preview says (plain text: the caller escapes for Slack)."""
    return warning_text([o.describe() for o in others])


def warning_text(named_others: Iterable[str]) -> str:
    named = ", ".join(named_others)
    return (
        f"Probably the same activity as {named}: same title and start date. PARS would count "
        "it twice; if it is one activity, remove one of them."
    )


def groups_of(rows: Iterable[Any]) -> list[list[Any]]:
    """Groups of two or more of `rows` (anything with a title and a start date) sharing a key,
    in the order first seen: the export's list of probable duplicates."""
    groups: dict[Key, list[Any]] = defaultdict(list)
    for row in rows:
        key = key_of(row.title, row.start_date)
        if key is not None:
            groups[key].append(row)
    return [g for g in groups.values() if len(g) > 1]
