"""The PARS rules: formats, statuses, required fields, span limits.

Every value the PARS documentation leaves uncertain lives in one table here, so that a
correction is a one-line change (see shared/PARS.md).
"""

from __future__ import annotations

import enum
import functools
import operator
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol


class Status(enum.StrEnum):
    DRAFT = "Draft"
    ACTIVE = "Active"
    READY_TO_CLOSE = "Ready to Close"
    CLOSED = "Closed"


@dataclass(frozen=True)
class Format:
    code: str
    label: str
    max_span_years: int
    has_delivery_method: bool


FORMATS: dict[str, Format] = {
    f.code: f
    for f in (
        Format("live-course", "Live course", 1, True),
        Format("rss", "Regularly scheduled series", 1, True),
        Format("enduring", "Enduring material", 3, False),
        Format("journal", "Journal CME", 1, False),
        Format("manuscript-review", "Manuscript review", 1, False),
        Format("test-item-writing", "Test-item writing", 1, False),
        Format("committee-learning", "Committee learning", 1, False),
        Format("pi", "Performance/quality improvement", 1, False),
        Format("isl", "Internet searching and learning", 1, False),
        Format("lft", "Learning from teaching", 1, False),
        Format("other", "Other/blended learning", 1, False),
    )
}

ENDURING = "enduring"


def format_label(code: str | None) -> str:
    """A format's PARS name; an unknown code (or none) as it is."""
    fmt = FORMATS.get(code or "")
    return fmt.label if fmt else (code or "")


def format_noun(code: str) -> str:
    """A format as a sentence names one: "an enduring material", "a journal CME activity"."""
    label = FORMATS[code].label
    noun = label[0].lower() + label[1:]
    if not noun.endswith(("course", "series", "material")):
        noun += " activity"
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


# Delivery methods of live courses and RSS: a set. ACCME's FAQ: learners in the room and remote
# learners in real time make one activity with both methods; there is no "hybrid" value, so
# "hybrid" is read as shorthand for both. Further methods: see UNCONFIRMED.
DELIVERY_METHODS: dict[str, str] = {"in-person": "In-Person", "live-streamed": "Live-Streamed"}
HYBRID = ("in-person", "live-streamed")
IN_PERSON = "in-person"


# Older PARS "activity types", still found in providers' spreadsheets: code -> (format, delivery).
LEGACY_ACTIVITY_TYPES: dict[str, tuple[str, str | None]] = {
    "C": ("live-course", "in-person"),
    "IL": ("live-course", "live-streamed"),
    "RSS": ("rss", None),
    "EM": ("enduring", None),
    "IEM": ("enduring", None),
    "JN": ("journal", None),
    "MR": ("manuscript-review", None),
    "TIW": ("test-item-writing", None),
    "CML": ("committee-learning", None),
    "PI": ("pi", None),
    "ISL": ("isl", None),
    "LFT": ("lft", None),
}

# Other spellings staff type for a format (lower-case, compared after folding punctuation).
FORMAT_ALIASES: dict[str, str] = {
    "live": "live-course",
    "course": "live-course",
    "regularly scheduled series": "rss",
    "regularly-scheduled-series": "rss",
    "enduring material": "enduring",
    "enduring-material": "enduring",
    "journal cme": "journal",
    "journal-cme": "journal",
    "performance improvement": "pi",
    "quality improvement": "pi",
    "pi-cme": "pi",
    "internet searching": "isl",
    "learning from teaching": "lft",
    "other/blended": "other",
    "blended": "other",
}

PROVIDERSHIP: dict[str, str] = {"direct": "Directly provided", "joint": "Jointly provided"}

# PARS's outcome measures (ACCME's FAQ); each may be measured objectively, subjectively or both
# (stored as "knowledge:objective", "knowledge:objective+subjective"; no kind: "knowledge").
OUTCOME_MEASURES: dict[str, str] = {
    "knowledge": "Learner Knowledge",
    "competence": "Learner Competence",
    "performance": "Learner Performance",
    "patient-health": "Patient Health",
    "community-health": "Community Health",
}
OUTCOME_KINDS: dict[str, str] = {"objective": "Objective", "subjective": "Subjective"}
# The bot's names until now, still read on every path in (and converted by migration 0007).
OUTCOME_ALIASES: dict[str, str] = {
    "patient-outcomes": "patient-health",
    "patient": "patient-health",
    "community": "community-health",
    "population-health": "community-health",
    "community-population-health": "community-health",
}


# CME Passport (formerly CME Finder): PARS asks whether there is a fee, not how much.
PASSPORT_FEES: dict[str, str] = {"yes": "Yes", "free": "No, it's free", "variable": "Variable"}
PASSPORT_REGISTRATION: dict[str, str] = {"open": "Open to all", "limited": "Limited"}

SUPPORT_KINDS: dict[str, str] = {"monetary": "Monetary", "in-kind": "In-kind"}

# The certifying boards PARS registers MOC for (PARS.md, Today's activity record): at most one
# entry per board, each with MOC points, one or more credit types and an optional claim date.
MOC_BOARDS: dict[str, str] = {
    "ABA": "American Board of Anesthesiology",
    "ABIM": "American Board of Internal Medicine",
    "ABOHNS": "American Board of Otolaryngology - Head and Neck Surgery",
    "ABOS": "American Board of Orthopaedic Surgery",
    "ABP": "American Board of Pediatrics",
    "ABPath": "American Board of Pathology",
    "ABS": "American Board of Surgery",
    "ABTS": "American Board of Thoracic Surgery",
}
# The parts of one board's entry, as `still_needs` names a missing one ("moc_boards:ABIM:points").
MOC_PART_LABELS: dict[str, str] = {"points": "MOC points", "credit_types": "MOC credit types"}

# Optional (PARS.md): a REMS program with its identifier, MIPS, and commendation tags.
REMS_PROGRAMS: dict[str, str] = {
    "opioid-analgesic": "Opioid Analgesic",
    "mycophenolate": "Mycophenolate",
}
# The criteria of ACCME's Menu for Accreditation with Commendation, by number, in the menu's
# order. Which of them PARS offers as tags of an activity is unconfirmed (see UNCONFIRMED).
COMMENDATION_CRITERIA: dict[str, str] = {
    "C1": "Engages Teams",
    "C2": "Engages Patients/Public",
    "C3": "Engages Students",
    "C4": "Advances Data Use",
    "C5": "Addresses Population Health",
    "C6": "Collaborates Effectively",
    "C7": "Optimizes Communication Skills",
    "C8": "Optimizes Technical/Procedural Skills",
    "C9": "Creates Individualized Learning Plans",
    "C10": "Utilizes Support Strategies",
    "C11": "Engages in Research/Scholarship",
    "C12": "Supports CPD for CME Team",
    "C13": "Demonstrates Creativity/Innovation",
    "C14": "Improves Performance",
    "C15": "Improves Healthcare Quality",
    "C16": "Improves Patient/Community Health",
}

LEARNER_CATEGORIES: dict[str, str] = {"physician": "Physician learners", "other": "Other learners"}

# fmt: off
US_STATES = frozenset({
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL",
    "IN", "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE",
    "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD",
    "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "AS", "GU", "MP", "PR", "VI",
})
# fmt: on
US = "USA"

CREDIT_STEP = Decimal("0.25")
MAX_CREDITS = Decimal("1000")
# Sanity bounds, far above any real activity, so a slipped key is caught with a message.
MAX_LEARNERS = 10_000_000
MAX_MONEY = Decimal("10000000")
# Dates outside these years are typos (2205 for 2025), not activities; they are refused before
# any rule computes with them (a span from 9999-12-31 would end past the calendar's end).
EARLIEST_YEAR = 2000
YEARS_AHEAD = 5


def accepted_years(today: date) -> range:
    """The years the bot takes for an activity's dates, a data year or a deadline."""
    return range(EARLIEST_YEAR, today.year + YEARS_AHEAD + 1)


class ActivityLike(Protocol):
    """What the rules read of an activity: a stored one or one about to be stored."""

    title: str | None
    format: str | None
    delivery_method: list[str] | None
    start_date: date | None
    end_date: date | None
    city: str | None
    state: str | None
    country: str | None
    credits: Decimal | None
    description: str | None
    providership: str | None
    joint_providers: list[str] | None
    cme_finder: bool | None
    finder_fee: Decimal | None
    finder_registration: str | None
    finder_url: str | None
    outcome_measures: list[str] | None
    commercial_support: bool | None
    supporters: list[dict[str, Any]] | None
    moc: bool | None
    moc_boards: list[dict[str, Any]] | None
    moc_attested: bool | None


def _blank(value: object) -> bool:
    # None, "" or []; a 0 or a False is an answer. (Asked in this order because it runs for
    # every field of every row of a spreadsheet.)
    return value is None or (not value and isinstance(value, str | list))


DRAFT_FIELDS = ("title", "format", "start_date", "end_date")
_PLACE_FIELDS = ("city", "country")
_CORE_FIELDS = ("credits", "description", "providership")
_FINDER_FIELDS = ("finder_fee", "finder_registration", "finder_url")
# Each group's values at once: a group all of whose values are true has none blank, and the
# rules ask this of every row of a spreadsheet, where nearly every group is complete.
_DRAFT_VALUES, _PLACE_VALUES, _CORE_VALUES, _FINDER_VALUES = (
    operator.attrgetter(*names)
    for names in (DRAFT_FIELDS, _PLACE_FIELDS, _CORE_FIELDS, _FINDER_FIELDS)
)


def missing_for_draft(a: ActivityLike) -> list[str]:
    if all(_DRAFT_VALUES(a)):
        return []
    return [f for f in DRAFT_FIELDS if _blank(getattr(a, f))]


def missing_for_active(a: ActivityLike) -> list[str]:
    """Fields PARS needs before an activity is Active (and so before Ready to Close)."""
    missing = missing_for_draft(a)
    fmt = FORMATS.get(a.format or "")
    if fmt and fmt.has_delivery_method:
        if _blank(a.delivery_method):
            missing.append("delivery_method")
        elif IN_PERSON in a.delivery_method:
            if not all(_PLACE_VALUES(a)):
                missing += [f for f in _PLACE_FIELDS if _blank(getattr(a, f))]
            if (a.country or US) == US and _blank(a.state):
                missing.append("state")
    if not all(_CORE_VALUES(a)):
        missing += [f for f in _CORE_FIELDS if _blank(getattr(a, f))]
    if a.cme_finder is None:
        missing.append("cme_finder")
    elif a.cme_finder and not all(_FINDER_VALUES(a)):
        missing += [f for f in _FINDER_FIELDS if _blank(getattr(a, f))]
    return missing


@dataclass(frozen=True)
class Need:
    """A field PARS still needs, and the status it holds the activity back from: Active (and
    so Ready to Close) or Closed."""

    field: str
    blocks: Status


def still_needs(a: ActivityLike, *, closed: bool, counted: Collection[str]) -> list[Need]:
    """Everything PARS still needs of an activity, Active's fields first, then Closed's.

    The one answer to "what is missing": the card, the saved reply, close, lists, App Home,
    reminders, status and the export all say this list (`counted`: learner categories on file).
    """
    if closed:
        return []
    return [_need(f, Status.ACTIVE) for f in missing_for_active(a)] + [
        _need(f, Status.CLOSED) for f in _missing_beyond_active(a, counted)
    ]


@functools.lru_cache(maxsize=1024)
def _need(name: str, blocks: Status) -> Need:
    """One Need of each field and status, shared (it is frozen): a frozen dataclass costs
    more to make than the check that found it, for every activity of a list or a file."""
    return Need(name, blocks)


def missing_for_close(a: ActivityLike, counted: set[str]) -> list[str]:
    """Fields PARS needs to close, the Active ones included (`still_needs`, as names)."""
    return [n.field for n in still_needs(a, closed=False, counted=counted)]


def _missing_beyond_active(a: ActivityLike, counted: Collection[str]) -> list[str]:
    missing = []
    if a.providership == "joint" and _blank(a.joint_providers):
        missing.append("joint_providers")
    if _blank(a.outcome_measures):
        missing.append("outcome_measures")
    if a.commercial_support is None:
        missing.append("commercial_support")
    elif a.commercial_support and _blank(a.supporters):
        missing.append("supporters")
    missing += [f"learners_{c}" for c in LEARNER_CATEGORIES if c not in counted]
    if a.moc:
        missing += moc_missing(a.moc_boards)
        if a.moc_attested is not True:
            missing.append("moc_attested")
    return missing


def moc_missing(entries: list[dict[str, Any]] | None) -> list[str]:
    """What an activity registered for MOC still lacks of its board entries: a board at all,
    else each entry's points and credit types ("moc_boards:ABIM:points"). Every entry given
    must be complete, since PARS takes no registration without them; the claim date is
    optional."""
    if not entries:
        return ["moc_boards"]
    return [
        f"moc_boards:{entry['board']}:{part}"
        for entry in entries
        for part in MOC_PART_LABELS
        if _blank(entry.get(part))
    ]


def applies(name: str, a: ActivityLike) -> bool:
    """Does PARS ask for this field, given the rest of the activity?

    Delivery and location belong to live courses and RSS; the CME Finder details, supporters,
    joint providers and MOC details only follow a yes (or joint) in the field that opens them.
    """
    fmt = FORMATS.get(a.format or "")
    if name == "delivery_method":
        return bool(fmt and fmt.has_delivery_method)
    if name in {"city", "state", "country"}:
        # Unless the methods are known and none of them is in person.
        methods = a.delivery_method
        return bool(fmt and fmt.has_delivery_method) and (not methods or IN_PERSON in methods)
    if name in {"finder_fee", "finder_registration", "finder_url"}:
        return bool(a.cme_finder)
    if name == "supporters":
        return bool(a.commercial_support)
    if name == "joint_providers":
        return a.providership == "joint"
    if name in {"moc_boards", "moc_attested"}:
        return bool(a.moc)
    if name == "rems_id":
        return bool(getattr(a, "rems_program", None))
    # The ACCME Activity ID is PARS's to assign: shown once known, never asked for.
    return name != "accme_activity_id"


def derive_status(a: ActivityLike, *, closed: bool, today: date) -> Status:
    if closed:
        return Status.CLOSED
    if missing_for_active(a):
        return Status.DRAFT
    if a.end_date is not None and a.end_date < today:
        return Status.READY_TO_CLOSE
    return Status.ACTIVE


def next_status(
    a: ActivityLike, status: Status, counted: set[str], *, today: date
) -> tuple[Status, list[str]]:
    """The status after `status`, and the fields it still needs (`counted`: learner
    categories on file)."""
    if status is Status.DRAFT:
        nxt = Status.READY_TO_CLOSE if has_ended(a, today) else Status.ACTIVE
        return nxt, missing_for_active(a)
    if status in (Status.ACTIVE, Status.READY_TO_CLOSE):
        return Status.CLOSED, missing_for_close(a, counted)
    return status, []


def assess(
    a: ActivityLike, *, closed: bool, counted: Collection[str], today: date
) -> tuple[Status, Status, list[str]]:
    """Status, next status and what that one needs, checking the Active fields once: the
    same answers as derive_status and next_status, for many activities at a time."""
    if closed:
        return Status.CLOSED, Status.CLOSED, []
    missing = missing_for_active(a)
    ended = has_ended(a, today)
    if missing:
        return Status.DRAFT, Status.READY_TO_CLOSE if ended else Status.ACTIVE, missing
    status = Status.READY_TO_CLOSE if ended else Status.ACTIVE
    return status, Status.CLOSED, _missing_beyond_active(a, counted)


def close_needs(
    a: ActivityLike, *, counted: Collection[str], today: date
) -> tuple[Status, list[str]]:
    """An open activity's status and everything closing it needs, the Active fields included:
    assess's answer, completed for drafts (whose next step is Active, not Closed)."""
    status, _next, missing = assess(a, closed=False, counted=counted, today=today)
    if status is Status.DRAFT:
        missing = missing + _missing_beyond_active(a, counted)
    return status, missing


def status_and_needs(
    a: ActivityLike, *, closed: bool, counted: Collection[str], today: date
) -> tuple[Status, list[Need]]:
    """An activity's status and `still_needs`, checking the Active fields once (for lists of
    many activities)."""
    if closed:
        return Status.CLOSED, []
    active = missing_for_active(a)
    needs = [Need(f, Status.ACTIVE) for f in active] + [
        Need(f, Status.CLOSED) for f in _missing_beyond_active(a, counted)
    ]
    if active:
        return Status.DRAFT, needs
    return (Status.READY_TO_CLOSE if has_ended(a, today) else Status.ACTIVE), needs


def has_ended(a: ActivityLike, today: date) -> bool:
    return a.end_date is not None and a.end_date < today


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


@dataclass(frozen=True)
class Unconfirmed:
    """Every rule of today's activity record that ACCME's FAQ does not confirm (most come from
    the 2025 draft schema, see PARS.md): one place to correct when PARS says otherwise."""

    # Draft schema: description maxLength 2500 (the bot took 3,000 until now).
    description_max: int = 2500
    # Draft schema: commercial support amounts are whole dollars.
    whole_dollar_support: bool = True
    # Draft schema: further delivery methods; for which formats PARS asks them is not known,
    # so no format takes them yet (list format codes in further_delivery_formats to allow).
    further_delivery_methods: tuple[tuple[str, str], ...] = (
        ("online", "Online"),
        ("print-other", "Print/Other"),
    )
    further_delivery_formats: frozenset[str] = frozenset()
    # Commendation tags: the bot takes every criterion of the menu (COMMENDATION_CRITERIA);
    # which ones PARS lets an activity carry is not known here.
    commendation_tags_all_criteria: bool = True
    # MOC credit types per board: PARS.md says only "board-specific credit types". These are
    # the boards' published names as the bot knows them; a type typed in another case or
    # spacing is written as here, and a type not listed is kept as typed, with a note, never
    # refused.
    moc_credit_types: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("ABA", ("Lifelong Learning", "Patient Safety", "Quality Improvement")),
        ("ABIM", ("Medical Knowledge", "Practice Assessment", "Patient Safety")),
        ("ABOHNS", ("Self-Assessment", "Improvement in Medical Practice")),
        ("ABOS", ("Self-Assessment", "Improvement in Medical Practice")),
        ("ABP", ("Lifelong Learning and Self-Assessment", "Improving Professional Practice")),
        ("ABPath", ("Lifelong Learning", "Self-Assessment", "Improvement in Medical Practice")),
        ("ABS", ("Accredited CME", "Self-Assessment")),
        ("ABTS", ("Accredited CME", "Self-Assessment")),
    )


UNCONFIRMED = Unconfirmed()


# Not confirmed: PARS says "a maximum one-year period" (three for enduring materials). Read as
# one year minus one day: a series from 2025-01-01 may end 2025-12-31, not 2026-01-01.
SPAN_INCLUDES_ANNIVERSARY = False


@functools.lru_cache(maxsize=4096)  # asked for every row of a spreadsheet; few distinct starts
def latest_end(fmt_code: str, start: date) -> date:
    """The last end date PARS accepts for a format: its span limit in years from the start."""
    years = FORMATS[fmt_code].max_span_years
    if start.year + years > date.max.year:
        return date.max  # no later end exists; the validator refuses such a start anyway
    if SPAN_INCLUDES_ANNIVERSARY:
        return add_years(start, years)
    try:
        anniversary = start.replace(year=start.year + years)
    except ValueError:  # from 29 February, the anniversary is 1 March
        anniversary = date(start.year + years, 3, 1)
    return anniversary - timedelta(days=1)


def last_december_31(today: date) -> date:
    """The most recent 31 December that has fully passed."""
    return date(today.year - 1, 12, 31)
