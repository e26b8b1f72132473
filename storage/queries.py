"""Reading many activities at once: pages of lists, learner counts on file in bulk, and the
columns the rules read (for reminders).

A workspace may hold 100,000 activities; nothing here loads one row per query or decides in
Python what an index can decide in the database.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from storage.models import Activity, LearnerCount
from storage.pars import rules

LIST_VIEWS = ("open", "ready", "closed", "unclosed", "mine", "all")
# A list counts this many rows at most, then says "more than": a page costs the same however
# many activities match.
COUNT_LIMIT = 1_000

# Where a page starts or ends in list order (by end date, then ID): the next page is read
# from there, so turning a page costs the same on page 500 as on page 2.
PageKey = tuple[date, str]


@dataclass(frozen=True)
class ActivityPage:
    rows: list[tuple[Activity, rules.Status]]
    # How many activities the list holds: exact up to the count limit; above it, the limit
    # plus one, and `more_than` is the limit.
    total: int
    page: int
    # The pages `total` makes; when the count stopped early, the pages known so far.
    pages: int
    has_previous: bool = False
    has_next: bool = False
    more_than: int | None = None


def page_key(activity: Activity) -> PageKey:
    return (activity.end_date, activity.activity_id)


def list_activities(
    *,
    session: Session,
    team_id: str,
    today: date,
    views: Sequence[str] = ("open",),
    year: int | None = None,
    format_code: str | None = None,
    owner_user_id: str | None = None,
    page: int = 1,
    per_page: int = 20,
    after: PageKey | None = None,
    before: PageKey | None = None,
    count_limit: int | None = COUNT_LIMIT,
) -> ActivityPage:
    """Activities of a workspace filtered the way `/pars list` names them, one page at a time.

    `year` keeps activities that ran during that year (for enduring materials spanning years).
    Besides the list views, `running` keeps open activities whose end date has not passed.
    A page is read from the key of the last row of the page before it (`after`) or the first
    row of the page after it (`before`); without either, by its number (`page=N` typed).
    """
    listed = _list_filter(team_id, today, views, year, format_code, owner_user_id)
    where = listed.where()
    total = _count(session, where, count_limit)
    more_than = count_limit if count_limit is not None and total > count_limit else None
    known_pages = None if more_than is not None else max(1, -(-total // per_page))
    found: _Found | None = None
    if after is not None:
        found = _after(session, listed.where(after=after), per_page)
    elif before is not None and page > 1:
        found = _before(session, listed.where(before=before), per_page)
        page = page if found is not None else 1
    if found is None and after is not None:  # the rows past the key are gone
        found = _last(session, where, per_page, total if more_than is None else None)
        page = known_pages or page
    if found is None:  # by number
        found, page = _numbered(session, where, page, per_page, known_pages)
    page = max(page, 2) if found.has_previous else 1
    pages = known_pages if known_pages is not None else page + found.has_next
    rows = [
        (a, rules.derive_status(a, closed=a.closed_at is not None, today=today)) for a in found.rows
    ]
    return ActivityPage(
        rows,
        total,
        page,
        max(pages, page + found.has_next),  # rows added since the count
        has_previous=found.has_previous,
        has_next=found.has_next,
        more_than=more_than,
    )


def closable_keys(
    *,
    session: Session,
    team_id: str,
    today: date,
    views: Sequence[str] = ("ready",),
    year: int | None = None,
    format_code: str | None = None,
    user_id: str,
    is_admin: bool,
    limit: int | None = None,
) -> list[tuple[int, str]]:
    """Row key and ID of the activities of a list (`views` holding "ready") that this person
    may close, in list order, the first `limit` of them: an admin any, anyone else their own
    and those with no owner, as storage.pars.validation.refusal decides for one. One indexed
    query, keys only."""
    where = _list_filter(team_id, today, views, year, format_code, user_id).where()
    owner = col(Activity.owner_user_id)
    # Not one OR: each owner condition reads its own range of the owner index, in list order,
    # and the two are merged; an OR reads every ready row when the planner has no statistics.
    ranges = [where] if is_admin else [[*where, owner == user_id], [*where, owner.is_(None)]]
    found: list[tuple[date, str, int]] = []
    for conditions in ranges:
        query = select(Activity.end_date, Activity.activity_id, Activity.id)
        query = query.where(*conditions).order_by(*_ORDER)
        if limit is not None:
            query = query.limit(limit)
        found += [(end, aid, pk) for end, aid, pk in session.exec(query).all() if pk is not None]
    found.sort()
    return [(pk, aid) for _end, aid, pk in found[:limit]]


@dataclass(frozen=True)
class _Filter:
    """A list's conditions, with its bounds on the end date apart: a page turned from a key
    leaves out the bound the key already implies, since SQLite starts an index range from one
    bound only, and would otherwise read from the start of the year to the key."""

    rest: list[sa.ColumnElement[bool]]
    end_from: date | None = None  # end_date >= this
    end_before: date | None = None  # end_date < this

    def where(
        self, after: PageKey | None = None, before: PageKey | None = None
    ) -> list[sa.ColumnElement[bool]]:
        where = list(self.rest)
        if self.end_from is not None and not (after is not None and after[0] >= self.end_from):
            where.append(col(Activity.end_date) >= self.end_from)
        if self.end_before is not None and not (before is not None and before[0] < self.end_before):
            where.append(col(Activity.end_date) < self.end_before)
        if after is not None:
            where.append(_list_key() > sa.tuple_(*after))
        if before is not None:
            where.append(_list_key() < sa.tuple_(*before))
        return where


def _list_filter(
    team_id: str,
    today: date,
    views: Sequence[str],
    year: int | None,
    format_code: str | None,
    owner_user_id: str | None,
) -> _Filter:
    """The list's conditions, written as the list indexes of storage/models.py expect them."""
    where = [col(Activity.team_id) == team_id]
    starts: list[date] = []
    chosen = set(views)
    if "closed" in chosen:
        where.append(col(Activity.closed_at).is_not(None))
    elif chosen & {"open", "ready", "unclosed", "running"}:
        where.append(col(Activity.closed_at).is_(None))
    if "running" in chosen:
        starts.append(today)
    if "ready" in chosen:
        where.append(col(Activity.active_fields_complete) == sa.true())
    if "mine" in chosen and owner_user_id:
        where.append(col(Activity.owner_user_id) == owner_user_id)
    if year is not None:
        where.append(col(Activity.start_date) <= date(year, 12, 31))
        starts.append(date(year, 1, 1))
    if format_code:
        where.append(col(Activity.format) == format_code)
    return _Filter(
        where,
        end_from=max(starts) if starts else None,
        end_before=today if chosen & {"ready", "unclosed"} else None,
    )


def _count(session: Session, where: list[sa.ColumnElement[bool]], limit: int | None) -> int:
    """How many rows match, counting no further than `limit` + 1."""
    matching = select(sa.literal(1)).select_from(Activity).where(*where)
    if limit is not None:
        matching = matching.limit(limit + 1)
    return session.exec(select(func.count()).select_from(matching.subquery())).one()


@dataclass
class _Found:
    rows: list[Activity]
    has_previous: bool
    has_next: bool


def _list_key() -> sa.Tuple:
    return sa.tuple_(col(Activity.end_date), col(Activity.activity_id))


_ORDER = (col(Activity.end_date), col(Activity.activity_id))
_BACKWARDS = (col(Activity.end_date).desc(), col(Activity.activity_id).desc())


def _after(session: Session, where: list[sa.ColumnElement[bool]], per_page: int) -> _Found | None:
    query = select(Activity).where(*where).order_by(*_ORDER)
    rows = list(session.exec(query.limit(per_page + 1)).all())
    if not rows:
        return None
    return _Found(rows[:per_page], has_previous=True, has_next=len(rows) > per_page)


def _before(session: Session, where: list[sa.ColumnElement[bool]], per_page: int) -> _Found | None:
    query = select(Activity).where(*where).order_by(*_BACKWARDS)
    rows = list(session.exec(query.limit(per_page + 1)).all())
    if len(rows) < per_page:
        return None  # fewer than a page before it: the first page, read afresh
    return _Found(rows[:per_page][::-1], has_previous=len(rows) > per_page, has_next=True)


def _last(
    session: Session, where: list[sa.ColumnElement[bool]], per_page: int, total: int | None
) -> _Found:
    """The last page, read backwards from the end of the list: as many rows as the count
    leaves on it, or a page's worth when the count stopped early."""
    shown = per_page if not total else (total - 1) % per_page + 1
    query = select(Activity).where(*where).order_by(*_BACKWARDS).limit(shown + 1)
    rows = list(session.exec(query).all())
    return _Found(rows[:shown][::-1], has_previous=len(rows) > shown, has_next=False)


def _numbered(
    session: Session,
    where: list[sa.ColumnElement[bool]],
    page: int,
    per_page: int,
    known_pages: int | None,
) -> tuple[_Found, int]:
    """The page by its number, kept within the pages there are: for `page=N` typed."""
    if known_pages is not None:
        page = min(page, known_pages)
    page = max(page, 1)
    query = select(Activity).where(*where).order_by(*_ORDER).limit(per_page + 1)
    rows = list(session.exec(query.offset((page - 1) * per_page)).all())
    if not rows and page > 1:
        # Past the end of a list too long to count: count it all once, for its last page.
        last = max(1, -(-_count(session, where, None) // per_page))
        return _numbered(session, where, last, per_page, last)
    found = _Found(rows[:per_page], has_previous=page > 1, has_next=len(rows) > per_page)
    return found, page


def counts_on_file(
    *, session: Session, team_id: str, activity_pks: Collection[int] | None = None
) -> dict[int, dict[str, date]]:
    """Per activity, each learner category on file with the as-of date of its newest count:
    one grouped query for the whole workspace, or for the activities named."""
    query = (
        select(LearnerCount.activity_pk, LearnerCount.category, func.max(LearnerCount.as_of))
        .where(LearnerCount.team_id == team_id)
        .group_by(col(LearnerCount.activity_pk), col(LearnerCount.category))
    )
    if activity_pks is not None:
        query = query.where(col(LearnerCount.activity_pk).in_(list(activity_pks)))
    found: dict[int, dict[str, date]] = {}
    for pk, category, as_of in session.exec(query).all():
        found.setdefault(pk, {})[category] = as_of
    return found


_TABLE = Activity.__table__
# What the rules and a reminder read. Not the bookkeeping columns, and of the description only
# whether it is filled in: reading 100,000 long texts to test them for blankness costs seconds.
STATE_COLUMNS = [
    c
    for c in _TABLE.c
    if c.name
    not in {"team_id", "description", "created_at", "created_by", "updated_at", "updated_by"}
] + [
    sa.case(
        (sa.func.coalesce(_TABLE.c.description, "") == "", None), else_=sa.literal("yes")
    ).label("description")
]
