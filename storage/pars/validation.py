"""The one validator: the stored activity (or none) and the raw text of a change in, every
problem out, at once, as (field, message). Pure: it reads no database and writes nothing, so a
spreadsheet preview can check thousands of rows and the commands can check one the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from storage.errors import LowerCount, Problem, person
from storage.models import Activity, LearnerCount
from storage.pars import rules
from storage.pars.fields import (
    BY_NAME,
    ENTRY_ONE,
    ENTRY_ONE_PARTS,
    FIELDS,
    FieldError,
    implied_delivery,
    label,
    parse_count,
    parse_date,
    parse_values,
    refuse_control_characters,
    render_moc_boards,
)
from storage.pars.needs import needs_text

FIELD_NAMES = tuple(f.name for f in FIELDS)

# Problem codes the service turns into their own errors (and Slack into their own replies).
CLOSED, NOT_PERMITTED, DUPLICATE_ID = "closed", "not-permitted", "duplicate-id"

# A "no" (or "direct") in the first field makes the others meaningless: giving both in one
# change is a contradiction; answering "no" alone clears what depended on the "yes".
DEPENDENTS: dict[str, tuple[Callable[[Any], bool], tuple[str, ...]]] = {
    "cme_finder": (lambda v: v is False, ("finder_fee", "finder_registration", "finder_url")),
    "commercial_support": (lambda v: v is False, ("supporters",)),
    "providership": (lambda v: v == "direct", ("joint_providers",)),
    "moc": (lambda v: v is False, ("moc_boards", "moc_attested")),
}


@dataclass(frozen=True)
class Actor:
    """Who is making a change, and whether PARS_ADMINS lists them."""

    user_id: str
    is_admin: bool = False


@dataclass(slots=True)  # made for every row of a file: frozen would cost a third more
class CheckedActivity:
    """What a change would set (parsed, only what differs from the stored activity; for an
    add, the whole record) and what is wrong with it."""

    values: dict[str, Any]
    problems: list[Problem]
    # Fields the change empties because another answer made them meaningless.
    cleared: tuple[str, ...] = ()


def record_of(activity: Activity | None) -> dict[str, Any]:
    if activity is None:
        return dict.fromkeys(FIELD_NAMES)
    return {name: getattr(activity, name) for name in FIELD_NAMES}


def refusal(stored: Activity, actor: Actor) -> Problem | None:
    """Why this actor may not change this activity at all, if they may not."""
    aid = stored.activity_id
    if stored.closed_at is not None:
        return Problem(
            "activity_id",
            f"`{aid}` is closed, so it can no longer be changed. "
            f"An admin can reopen it with `/pars reopen {aid}`.",
            CLOSED,
        )
    if actor.is_admin or stored.owner_user_id in (None, actor.user_id):
        return None
    return Problem(
        "owner_user_id",
        f"`{aid}` belongs to {person(stored.owner_user_id)}; only they or an admin can change "
        f"it. Ask them, or an admin, to reassign it with `/pars edit {aid} owner=@you`.",
        NOT_PERMITTED,
        (stored.owner_user_id,),
    )


def check_activity(
    *,
    stored: Activity | None,
    raw: Mapping[str, str],
    actor: Actor,
    today: date,
    id_holder: Callable[[str], int | None],
) -> CheckedActivity:
    """Every problem of adding (`stored` None) or changing an activity with `raw`.

    `raw` is text by field name; empty text clears a field, a field left out keeps its value.
    `id_holder` answers which activity of the workspace holds an ID (any case), if any.
    """
    if stored is not None and (refused := refusal(stored, actor)) is not None:
        return CheckedActivity({}, [refused])
    raw, problems = with_entry_one(raw, getattr(stored, "moc_boards", None))
    values, parse_problems = parse_values(raw)
    problems += parse_problems
    problems += _outside_accepted_years(values, stored, today)
    cleared: tuple[str, ...] = ()
    if stored is None:
        # An add sets every value given, and there is nothing to clear; a field it leaves
        # out reads as None (`record.get`), as an empty record would give.
        changed = record = values
        if not changed.get("owner_user_id"):
            changed["owner_user_id"] = actor.user_id
    else:
        before = record_of(stored)
        changed = {k: v for k, v in values.items() if before[k] != v}
        problems += _emptied(changed)
        cleared = _clear_dependents(before, changed, raw)
        record = before | changed
    unreadable = {p.field for p in problems} if problems else set()
    found = check_record(record, changed)
    problems += [p for p in found if p.field not in unreadable] if unreadable else found
    problems += _contradictions(record, raw, unreadable)
    new_id = changed.get("activity_id")
    if new_id:
        holder = id_holder(new_id)
        if holder is not None and (stored is None or holder != stored.id):
            problems.append(
                Problem(
                    "activity_id",
                    f"An activity with the ID `{new_id}` already exists. Use "
                    f"`/pars edit {new_id} ...` to change it, or choose another ID.",
                    DUPLICATE_ID,
                )
            )
    return CheckedActivity(changed, problems, cleared)


_ENTRY_ONE_SPECS = {spec.name: spec for spec in ENTRY_ONE}


def with_entry_one(
    raw: Mapping[str, str], stored: list[dict[str, Any]] | None
) -> tuple[Mapping[str, str], list[Problem]]:
    """`raw` with the one-board keys of the bot until now (moc-board, moc-credit-type,
    moc-credits) read as an edit of the first board entry of `stored`: the whole list as
    moc_boards text, which the field's parser then checks. An empty board removes entry 1."""
    given = {name: str(raw[name] or "") for name in ENTRY_ONE_PARTS if name in raw}
    if not given:
        return raw, []
    rest = {k: v for k, v in raw.items() if k not in ENTRY_ONE_PARTS}
    if str(raw.get("moc_boards") or "").strip():
        return rest, [
            Problem(
                "moc_boards",
                f"{' and '.join(_ENTRY_ONE_SPECS[n].label for n in given)} and MOC boards are "
                "both given: give every board in MOC boards "
                f"(e.g. `{BY_NAME['moc_boards'].example}`)",
            )
        ]
    entries = [dict(e) for e in stored or []]
    first: dict[str, Any] = (
        entries[0] if entries else {"board": None, "points": None, "credit_types": []}
    )
    for name, text in given.items():
        spec = _ENTRY_ONE_SPECS[name]
        try:
            value = spec.parse(refuse_control_characters(text)) if text.strip() else None
        except FieldError as exc:
            return rest, [Problem("moc_boards", f"{spec.label}: {exc} (e.g. `{spec.example}`)")]
        part = ENTRY_ONE_PARTS[name]
        # The types as typed: the list's parser splits and spells them for the board.
        first[part] = ([value] if value else []) if part == "credit_types" else value
    if not first.get("board"):
        if "moc_board" in given and not given["moc_board"].strip():
            entries = entries[1:]  # moc-board= empties the first entry
        elif any(first.get(p) for p in ("points", "credit_types")):
            return rest, [
                Problem(
                    "moc_boards",
                    "MOC points and credit types belong to a board: give `moc-board=ABIM` too, "
                    f"or every board at once (e.g. `{BY_NAME['moc_boards'].example}`)",
                )
            ]
    elif not entries:
        entries = [first]
    return {**rest, "moc_boards": render_moc_boards(entries)}, []


def _emptied(changed: Mapping[str, Any]) -> list[Problem]:
    problems = []
    if "owner_user_id" in changed and not changed["owner_user_id"]:
        problems.append(
            Problem("owner_user_id", "Owner cannot be emptied; give the person now responsible")
        )
    if "activity_id" in changed and not changed["activity_id"]:
        problems.append(
            Problem(
                "activity_id",
                "Activity ID cannot be emptied; give another one "
                f"(e.g. `{BY_NAME['activity_id'].example}`)",
            )
        )
    return problems


def _clear_dependents(
    before: Mapping[str, Any], changed: dict[str, Any], raw: Mapping[str, str]
) -> tuple[str, ...]:
    """Empty what a changed answer made meaningless, unless the same change gives it."""
    cleared: list[str] = []
    if "format" in changed:
        fmt = rules.FORMATS.get(changed["format"] or "")
        drops = fmt is not None and not fmt.has_delivery_method
        if drops and before["delivery_method"] and "delivery_method" not in raw:
            changed["delivery_method"] = None
            cleared.append("delivery_method")
    for gate, (closes, dependents) in DEPENDENTS.items():
        if gate in changed and closes(changed[gate]):
            for name in dependents:
                if before[name] not in (None, []) and name not in raw:
                    changed[name] = None
                    cleared.append(name)
    return tuple(cleared)


def _given(raw: Mapping[str, str], name: str) -> bool:
    return bool(str(raw.get(name) or "").strip())


def _contradictions(
    record: Mapping[str, Any], raw: Mapping[str, str], unreadable: set[str]
) -> list[Problem]:
    """Two values of one change that cannot both be true; each message names both."""
    problems: list[Problem] = []
    for gate, (closes, dependents) in DEPENDENTS.items():
        if gate in unreadable or not closes(record.get(gate)):
            continue
        for name in dependents:
            if record.get(name) not in (None, []) and name not in unreadable:
                problems.append(
                    Problem(
                        name,
                        f"{label(name)} is given, but {label(gate)} is "
                        f"{_answer(gate, record.get(gate))}: give "
                        f"`{BY_NAME[gate].key}={_opposite(gate)}` or leave "
                        f"{label(name)} empty",
                    )
                )
    implied = implied_delivery(str(raw.get("format") or ""))
    if (
        implied
        and _given(raw, "delivery_method")
        and "delivery_method" not in unreadable
        and record.get("delivery_method") != [implied]
    ):
        code = str(raw["format"]).strip().upper()
        said = " and ".join(
            rules.DELIVERY_METHODS.get(m, m) for m in record.get("delivery_method") or []
        )
        problems.append(
            Problem(
                "delivery_method",
                f"Activity type {code} means {rules.DELIVERY_METHODS[implied].lower()}, but "
                f"Delivery method says {said.lower()}",
            )
        )
    return problems


def _answer(gate: str, value: Any) -> str:
    return "direct" if gate == "providership" else ("yes" if value else "no")


def _opposite(gate: str) -> str:
    return "joint" if gate == "providership" else "yes"


def check_record(record: Mapping[str, Any], changed: Collection[str]) -> list[Problem]:
    """Checks across fields of a whole record (after merging a change into what was stored).

    Only rules that make a record wrong belong here; fields still to be filled in are not
    problems but what `rules.missing_for_*` reports.
    """
    problems: list[Problem] = []
    for name in rules.missing_for_draft(RecordView(record)):
        problems.append(
            Problem(name, f"{label(name)} is required (e.g. `{BY_NAME[name].example}`)")
        )
    start, end, fmt = record.get("start_date"), record.get("end_date"), record.get("format")
    if start and end:
        if end < start:
            problems.append(Problem("end_date", f"End date {end} is before the start date {start}"))
        elif fmt in rules.FORMATS and end > rules.latest_end(fmt, start):
            spec = rules.FORMATS[fmt]
            years = "3 years" if spec.max_span_years == 3 else "1 year"
            extra = " (split a longer series into one activity per year)" if fmt == "rss" else ""
            problems.append(
                Problem(
                    "end_date",
                    f"{_sentence(rules.format_noun(fmt))} may span at most {years}: "
                    f"starting {start}, it may end on "
                    f"{rules.latest_end(fmt, start)} at the latest, not {end}{extra}",
                )
            )
    if (
        record.get("delivery_method")
        and fmt in rules.FORMATS
        and not rules.FORMATS[fmt].has_delivery_method
        and "delivery_method" in changed
    ):
        problems.append(
            Problem(
                "delivery_method",
                f"Delivery method applies only to live courses and RSS, not to "
                f"{rules.format_noun(fmt)}",
            )
        )
    if record.get("rems_id") and not record.get("rems_program"):
        problems.append(
            Problem(
                "rems_id",
                "REMS identifier is given without its REMS program: give "
                + " or ".join(f"`rems={code}`" for code in rules.REMS_PROGRAMS)
                + ", or leave the identifier empty (`rems-id=`)",
            )
        )
    if record.get("state") and (record.get("country") or rules.US) != rules.US:
        problems.append(
            Problem(
                "state", f"State applies only to activities in the USA, not {record.get('country')}"
            )
        )
    return problems


DATE_FIELDS = ("start_date", "end_date")


def _outside_accepted_years(
    values: dict[str, Any], stored: Activity | None, today: date
) -> list[Problem]:
    """A date given outside the accepted years, as a problem of its field, taken out of the
    change before any rule computes with it. A date already stored is left alone."""
    years = rules.accepted_years(today)
    problems = []
    boards = values.get("moc_boards") or []
    claims = [e["claim_date"] for e in boards if e.get("claim_date")] if boards else []
    outside = [c for c in claims if int(c[:4]) not in years] if claims else []
    if outside and boards != getattr(stored, "moc_boards", None):
        del values["moc_boards"]
        problems.append(
            Problem(
                "moc_boards",
                f"{label('moc_boards')}: claim date {outside[0]} is outside the years pars-bot "
                "accepts: give a date "
                f"from {years.start} to {years.stop - 1}",
            )
        )
    for name in DATE_FIELDS:
        value = values.get(name)
        if value is None or value.year in years or getattr(stored, name, None) == value:
            continue
        del values[name]
        problems.append(
            Problem(
                name,
                f"{label(name)} {value} is outside the years pars-bot accepts: give a date "
                f"from {years.start} to {years.stop - 1}",
            )
        )
    return problems


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


class RecordView:
    """Attribute access over a mapping, so the rules read plain dicts and stored rows alike.

    The mapping itself is the instance's attributes (not copied, not wrapped): the rules read
    a dozen attributes of every row of a 10,000-row file, and a __getattr__ per read cost more
    than the checks. A name the record lacks still reads as None.
    """

    def __init__(self, record: Mapping[str, Any]) -> None:
        self.__dict__ = record if type(record) is dict else dict(record)

    def __getattr__(self, name: str) -> Any:
        return None


# An activity's columns that a record lacks read as None from the class: asked through
# __getattr__, each cost a failed lookup and its AttributeError first (the rules ask a record
# of an add for MOC, joint providers, its closing time... several times a row).
for _column in (c.name for c in Activity.__table__.columns):
    setattr(RecordView, _column, None)


# --- learner counts ----------------------------------------------------------------------------


@dataclass(slots=True)
class CheckedCounts:
    counts: dict[str, int]
    as_of: date | None
    problems: list[Problem]
    # Cumulative counts this would contradict (lower than an earlier date's, or higher than a
    # later date's): asked about before anything is recorded.
    lower: list[LowerCount] = field(default_factory=list)


def default_as_of(activity: Activity, today: date) -> date:
    """The date counts are as of when none is given.

    Enduring materials are counted cumulatively as of each 31 December, and once they have
    ended, as of their end date (the final count). Other formats: as of the end date, or today
    while the activity is still running.
    """
    if activity.format == rules.ENDURING:
        if rules.has_ended(activity, today):
            return activity.end_date
        dec31 = rules.last_december_31(today)
        if dec31 >= activity.start_date:
            return dec31
    return min(activity.end_date, today)


# Each count's text read to its number, as each row of a sheet asks; a text that is wrong is
# read (and said to be) again on every row.
_COUNTS_READ: dict[str, int] = {}
_COUNTS_LIMIT = 4096


def check_counts(
    *,
    stored: Activity,
    counts: Mapping[str, str],
    as_of: str | None,
    actor: Actor,
    today: date,
    history: Sequence[LearnerCount],
) -> CheckedCounts:
    """Every problem of recording `counts` (text by learner category) as of a date."""
    if (refused := refusal(stored, actor)) is not None:
        return CheckedCounts({}, None, [refused])
    problems: list[Problem] = []
    parsed: dict[str, int] = {}
    for category, text in counts.items():
        if (number := _COUNTS_READ.get(text)) is not None:
            parsed[category] = number
            continue
        try:
            parsed[category] = number = parse_count(refuse_control_characters(text))
        except FieldError as exc:
            name = rules.LEARNER_CATEGORIES[category]
            problems.append(Problem(f"learners_{category}", f"{name}: {exc}"))
            continue
        if len(_COUNTS_READ) >= _COUNTS_LIMIT:
            _COUNTS_READ.clear()
        _COUNTS_READ[text] = number
    if not counts:
        problems.append(Problem("learners", "Give at least one count: physicians=N or others=N"))
    when: date | None = default_as_of(stored, today)
    if as_of is not None and as_of.strip():
        try:
            when = parse_date(refuse_control_characters(as_of))
        except FieldError as exc:
            problems.append(Problem("as_of", f"As-of date: {exc}"))
            when = None
    if when is not None:
        problems += _as_of_problems(stored, when, today)
    if problems or when is None:
        return CheckedCounts(parsed, when, problems)
    lower = _contradicted(stored, parsed, when, history) if stored.format == rules.ENDURING else []
    return CheckedCounts(parsed, when, [], lower)


def _as_of_problems(stored: Activity, when: date, today: date) -> list[Problem]:
    if when < stored.start_date:
        return [Problem("as_of", f"As-of date {when} is before the start date {stored.start_date}")]
    if when > stored.end_date:
        return [
            Problem(
                "as_of",
                f"As-of date {when} is after the end date {stored.end_date}: counting stops "
                f"when the activity ends, so give as-of={stored.end_date} or earlier",
            )
        ]
    if when > today:
        return [Problem("as_of", f"As-of date {when} is in the future")]
    return []


def _contradicted(
    stored: Activity, parsed: Mapping[str, int], when: date, history: Sequence[LearnerCount]
) -> list[LowerCount]:
    """Cumulative counts only grow: compare with the figures on file as of other dates."""
    ordered = sorted(history, key=lambda r: (r.as_of, r.recorded_at, r.id or 0))
    earlier: dict[str, int] = {}
    later: dict[str, int] = {}
    for row in ordered:
        if row.as_of <= when:
            earlier[row.category] = row.count  # the newest figure up to that date
        elif row.category not in later:
            later[row.category] = row.count  # the first figure after it
    lower = []
    for category, number in parsed.items():
        name = rules.LEARNER_CATEGORIES[category]
        if category in earlier and number < earlier[category]:
            lower.append(LowerCount(name, earlier[category], number))
        elif category in later and number > later[category]:
            lower.append(LowerCount(name, number, later[category], later=True))
    return lower


# --- closing -----------------------------------------------------------------------------------


def check_close(
    *, stored: Activity, actor: Actor, today: date, counted: Mapping[str, date]
) -> list[Problem]:
    """Why the activity cannot be closed yet: every reason at once.

    `counted` gives, per learner category on file, the as-of date of its current count.
    """
    aid = stored.activity_id
    if stored.closed_at is not None:
        return [Problem("status", f"`{aid}` is already closed.", CLOSED)]
    if (refused := refusal(stored, actor)) is not None:
        return [refused]
    problems: list[Problem] = []
    if not rules.has_ended(stored, today):
        problems.append(
            Problem(
                "end_date",
                f"`{aid}` ends on {stored.end_date}; an activity can be closed only after its "
                "end date has passed",
            )
        )
    needs = rules.still_needs(stored, closed=False, counted=set(counted))
    if needs:
        problems.append(
            Problem(
                "status",
                needs_text(needs),
                "missing:" + ",".join(n.field for n in needs),
            )
        )
    if stored.format == rules.ENDURING:
        stale = [c for c, as_of in counted.items() if as_of < stored.end_date]
        if stale:
            problems.append(
                Problem(
                    "as_of",
                    f"An enduring material closes with its final cumulative counts, as of its "
                    f"end date {stored.end_date}; "
                    + ", ".join(
                        f"{rules.LEARNER_CATEGORIES[c].lower()} are as of {counted[c]}"
                        for c in stale
                    )
                    + (
                        f". Record them with `/pars counts {aid} physicians=N others=N` "
                        f"(as of {stored.end_date} by default)"
                        if rules.has_ended(stored, today)
                        # Counts as of a future date are refused: advise only what works.
                        else f". Record them once {stored.end_date} has passed"
                    ),
                    "final-count",
                )
            )
    return problems
