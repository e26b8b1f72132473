"""Header rows: which row holds the headers, and which field each column fills.

Each field has the names PARS uses, the bot's own keys and the variants found in providers'
spreadsheets. A header matches one of them ignoring case, spacing and punctuation; failing
that, by its words: in any order, singular or plural, with or without `#`, `No.`, `Number
of`, `Total` or `Count` (`Other Learners #`, `Total other learners`, `Physicians (#)`).

Numbered groups are one entry of a list per set of columns (`Commercial Supporter 1`, `Amount
1`, `Supporter 2`...; `MOC Board 1`, `MOC Points 1`...), or a block of columns repeated
without numbers, its entries counted in turn. The importer and the template fill both read
them from here.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from storage.pars.fields import FIELDS
from storage.pars.rules import MOC_BOARDS

# Column targets besides the fields of an activity.
PHYSICIANS = "learners_physician"
OTHERS = "learners_other"
AS_OF = "as_of"
CLOSE = "close"
COUNT_TARGETS = (PHYSICIANS, OTHERS)

HEADER_SCAN_ROWS = 10
# The worked example row of the bot's template: skipped when read back.
EXAMPLE_ID = "EXAMPLE"
# The export's sheet of what each activity still needs: written for people, never read back.
MISSING_SHEET = "Still missing"
# The export's sheet of probable duplicates: for people too, never read back.
DUPLICATES_SHEET = "Probable duplicates"

# Headers the bot reads but does not use, and why (said once in the preview).
NOT_USED = {
    "hours": "Hours is not used: PARS no longer asks for hours of instruction, and hours are "
    "not credits (give AMA PRA Category 1 credits in a Credits column)",
    "hoursofinstruction": "Hours of instruction is not used: PARS no longer asks for it",
    "reportingyear": "Reporting year is not used: PARS takes it from the dates",
    "competencies": "Competencies is not used: PARS no longer asks for them",
    "template": "",  # the first column of old Template C/D files names the template
    "templatec": "",
    "templated": "",
    "missing": "",
    "missingforclosed": "",
    "stillneeded": "",
}


# The export shows each owner's name under Owner and their Slack ID under Owner Slack ID: in a
# header row with both, the name is for people and the ID is what is read.
NAMES_BESIDE_IDS = {"owner": "ownerslackid"}


def fold(text: str) -> str:
    return re.sub(r"[^a-z0-9#]", "", text.lower()).replace("#", "number")


def _names() -> list[tuple[str, str]]:
    """Every name a column may have, with what it fills."""
    names = [
        (name.replace("_", " "), spec.name)
        for spec in FIELDS
        for name in (spec.name, spec.key, spec.label, *spec.aliases)
    ]
    extra = {
        "activity_id": [
            "Provider Activity ID",
            "Activity ID",
            "Activity Number",
            "Activity Code",
            "Provider ID",
            "ID",
        ],
        "title": ["Activity Title", "Activity Name", "Title of Activity"],
        "format": ["Activity Type", "Activity Format", "Type of Activity", "Format"],
        "delivery_method": ["Delivery Method", "Delivery", "Modality"],
        "start_date": [
            "Start Date",
            "Activity Start Date",
            "Activity Date",
            "Date",
            "Begin Date",
            "Date of Activity",
        ],
        "end_date": ["End Date", "Activity End Date", "Completion Date"],
        "city": ["Activity City", "Location City"],
        "state": ["Activity State", "State/Province", "Location State"],
        "country": ["Activity Country", "Location Country"],
        "credits": [
            "AMA PRA Category 1 Credits",
            "AMA PRA Category 1 Credits Designated",
            "AMA PRA Category 1 Credit(s)",
            "Credits Designated",
            "Max Credits",
            "Category 1 Credits",
            "AMA Credits",
        ],
        "description": ["Activity Description", "Description"],
        "providership": ["Providership", "Directly or Jointly Provided", "Provider Type"],
        "joint_providers": ["Joint Provider Name", "Joint Provider Names", "Joint Providers"],
        "cme_finder": [
            "CME Passport",
            "Include in CME Passport",
            "List in CME Passport",
            "CME Finder",
            "Include in CME Finder",
            "Listed in CME Finder",
        ],
        "finder_fee": ["Fee", "Activity Fee", "CME Finder Fee", "Is there a fee"],
        "finder_registration": [
            "Registration",
            "CME Finder Registration",
            "Registration Type",
        ],
        "finder_url": ["URL", "Activity URL", "Website", "CME Finder URL", "CME Passport URL"],
        "outcome_measures": ["Outcome Measures", "Outcomes", "Outcome Measured"],
        "commercial_support": [
            "Commercial Support",
            "Commercial Support Received",
            "Received Commercial Support",
        ],
        "supporters": ["Commercial Supporters", "Commercial Supporter", "Supporters"],
        "moc": ["MOC", "Registered for MOC", "MOC Registered"],
        "moc_attested": [
            "MOC Attestation",
            "MOC Attested",
            "Provider Attestation",
            "Attestation of Compliance",
        ],
        "rems_program": ["REMS", "REMS Program", "REMS Type"],
        "rems_id": ["REMS ID", "REMS Identifier", "REMS Number"],
        "mips": ["MIPS", "MIPS Eligible", "Counts for MIPS"],
        "commendation_tags": [
            "Commendation",
            "Commendation Tags",
            "Commendation Criteria",
            "Commendation Criterion",
        ],
        "owner_user_id": ["Owner", "Owner Slack ID", "Assigned To"],
        "accme_activity_id": ["ACCME Activity ID", "ACCME ID", "PARS Activity ID", "PARS ID"],
        PHYSICIANS: [
            "Physician Learners",
            "Physicians",
            "# of Physicians",
            "Number of Physicians",
            "Number of Physician Learners",
            "Total Physician Learners",
            "Physician Participants",
            "MD/DO Learners",
        ],
        OTHERS: [
            "Other Learners",
            "Others",
            "# of Other Learners",
            "# of Others",
            "# of Non-Physicians",
            "Non-Physicians",
            "Number of Other Learners",
            "Total Other Learners",
            "Other Participants",
            "Non-Physician Learners",
            "Non-Physician Participants",
            "Other Health Professionals",
        ],
        AS_OF: ["As of", "As-of Date", "Counts as of", "Learners as of", "Count Date"],
        CLOSE: ["Status", "Close", "Close Activity", "Closed", "PARS Status", "Activity Status"],
    }
    names += [(name, target) for target, texts in extra.items() for name in texts]
    # Hours of instruction are not credits, whatever a slash-command alias allows.
    return [(name, target) for name, target in names if fold(name) not in NOT_USED]


def _variants() -> dict[str, str]:
    return {fold(name): target for name, target in _names()}


VARIANTS = _variants()

# Words that say "a number of" and nothing about which field.
_COUNTING_WORDS = frozenset({"number", "no", "num", "nbr", "of", "the", "total", "count", "s"})


def words(text: str) -> frozenset[str]:
    """A header as the set of its meaningful words: order, plurals and counting words aside."""
    text = re.sub(r"\bnon[\s-]+", "non", text.lower())  # Non-physician: one word
    found = set()
    for word in re.findall(r"[a-z0-9]+", text):
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        if word not in _COUNTING_WORDS:
            found.add(word)
    return frozenset(found)


def _by_words() -> dict[frozenset[str], str]:
    """Every known name by its words; a set of words that two targets share names neither."""
    table: dict[frozenset[str], str] = {}
    ambiguous: set[frozenset[str]] = set()
    for name, target in _names():
        key = words(name)
        if not key or key in ambiguous:
            continue
        if table.get(key, target) != target:
            ambiguous.add(key)
            del table[key]
            continue
        table[key] = target
    return table


BY_WORDS = _by_words()
# Shown as "did you mean" for a header that nearly matches (`Descripton`).
_SUGGESTED = {fold(spec.label): spec.label for spec in FIELDS} | {
    fold(name): name for name in ("Physician learners", "Other learners", "Counts as of")
}
# A column that says it counts something: worth a warning when it matches no field.
_COUNT_HINTS = frozenset(
    {"learner", "participant", "attendee", "attendance", "physician", "other", "count"}
)


def target_of(text: str) -> str | None:
    """The field (or count, as-of, close target) a header names, or None."""
    folded = fold(text)
    if folded in VARIANTS:
        return VARIANTS[folded]
    return BY_WORDS.get(words(text))


def suggestion_for(text: str) -> str | None:
    """The field name a header that matches none was probably meant to be."""
    close = difflib.get_close_matches(fold(text), list(_SUGGESTED), n=1, cutoff=0.8)
    return _SUGGESTED[close[0]] if close else None


def looks_like_a_count(text: str) -> bool:
    lowered = text.lower()
    said = set(re.findall(r"[a-z]+", lowered))
    counting = _COUNT_HINTS | (_COUNTING_WORDS - {"s", "of", "the"})
    return "#" in lowered or bool((words(text) | said) & counting)


# -- numbered groups -------------------------------------------------------------------------

# The parts of each group's entries, by the names a header gives them (after its number).
GROUPS: dict[str, dict[str, tuple[str, ...]]] = {
    "supporter": {
        "name": (
            "Commercial Supporter",
            "Supporter",
            "Commercial Supporter Name",
            "Supporter Name",
            "Name of Commercial Supporter",
            "Commercial Interest",
        ),
        "kind": (
            "Support Type",
            "Type of Support",
            "Kind of Support",
            "Monetary or In-kind",
            "Commercial Support Type",
        ),
        "amount": (
            "Amount",
            "Monetary Amount",
            "Support Amount",
            "Amount of Support",
            "Commercial Support Amount",
            "Amount Received",
        ),
        "monetary": ("Monetary", "Monetary Support", "Monetary Support (Y/N)", "Monetary (Y/N)"),
        "in_kind": ("In-kind", "In-kind Support", "In-kind Support (Y/N)", "In-kind (Y/N)"),
    },
    "moc": {
        "board": ("MOC Board", "Board", "Certifying Board", "ABMS Board", "ABMS Member Board"),
        "credit_types": ("MOC Credit Types", "Credit Type", "MOC Type", "MOC Credit Type"),
        "points": ("MOC Points", "MOC Credits", "Points", "MOC Credit Amount"),
        "claim_date": (
            "MOC Claim Date",
            "Credit Claim Date",
            "Claim Date",
            "MOC Credit Claim Date",
            "Claim By",
        ),
    },
}
# The part an entry is known by: other parts count only where their entry has it too.
GROUP_KEYS = {"supporter": "name", "moc": "board"}
# Words a header may add to any part of its group ("Commercial Supporter 1 Amount").
_GROUP_WORDS = {
    "supporter": frozenset({"commercial", "supporter", "support"}),
    "moc": frozenset({"moc"}),
}
# Groups whose parts, named without a number (`MOC Board`, `MOC Points`), are entry 1: the
# bot's one-board MOC columns until now.
_ONE_ENTRY_COLUMNS = frozenset({"moc"})
# How many entries of a group the bot keeps per activity; columns of later ones are not read.
GROUP_LIMITS = {"moc": len(MOC_BOARDS)}
_LIMIT_NOTES = {
    "moc": f"an activity has at most one MOC entry per board, {len(MOC_BOARDS)} in all, so "
    f"columns past board {len(MOC_BOARDS)} are not read"
}


@dataclass(frozen=True)
class Slot:
    """The part of one numbered entry that a column holds: supporter 2's amount."""

    group: str
    index: int  # 1-based
    part: str

    @property
    def key(self) -> str:
        return f"{self.group}.{self.part}"


_PARTS = {
    fold(name): (group, part)
    for group, parts in GROUPS.items()
    for part, names in parts.items()
    for name in names
}
# One number of one or two digits, standing alone: `Amount 1`, `Supporter #2`, `Amount (2)`.
_NUMBER_IN_HEADER = re.compile(r"(?:^|(?<=[^A-Za-z0-9.]))#?\s*(\d{1,2})(?![0-9.])")


def _part_of(text: str) -> tuple[str, str] | None:
    """The group part a header names, numbers aside."""
    found = _PARTS.get(fold(text))
    if found:
        return found
    said = words(text)
    for group, part, extra, own in _PART_WORDS:
        if said - extra == own:
            return group, part
    return None


# Each part's names as their own words, in GROUPS' order: worked out once, not for every
# header cell of the rows a header row is looked for in (0.02 s a file).
_PART_WORDS = [
    (group, part, _GROUP_WORDS[group], own)
    for group, parts in GROUPS.items()
    for part, names in parts.items()
    for name in names
    if (own := words(name) - _GROUP_WORDS[group])
]


def numbered_part(text: str) -> tuple[str, str, int] | None:
    """(group, part, number) of a numbered header such as `Amount 2`, else None."""
    numbers = _NUMBER_IN_HEADER.findall(text)
    if len(numbers) != 1 or int(numbers[0]) < 1:
        return None
    found = _part_of(_NUMBER_IN_HEADER.sub(" ", text))
    return (*found, int(numbers[0])) if found else None


def _group_slots(cells: Sequence[str]) -> dict[int, Slot]:
    """Each column that holds a part of a numbered entry, with its number or its turn.

    A numbered header is a part wherever it stands. An unnumbered one is a part when it
    repeats (a block repeated per entry) or names no field. A part whose entry has no key
    column (`Amount` with no supporter named) is none.
    """
    repeats = Counter(fold(c) for c in cells if c)
    turns: Counter[tuple[str, str]] = Counter()
    slots: dict[int, Slot] = {}
    for col, text in enumerate(cells):
        if not text:
            continue
        numbered = numbered_part(text)
        if numbered is not None:
            group, part, index = numbered
        elif (found := _part_of(text)) and (
            repeats[fold(text)] > 1
            or target_of(text) is None
            or (found[0] in _ONE_ENTRY_COLUMNS and fold(text) in _PARTS)
        ):
            group, part = found
            turns[found] += 1
            index = turns[found]
        else:
            continue
        slots[col] = Slot(group, index, part)
    keyed = {(s.group, s.index) for s in slots.values() if s.part == GROUP_KEYS[s.group]}
    return {c: s for c, s in slots.items() if (s.group, s.index) in keyed}


# The names the bot's template and export write, and the short reply names when none match.
LOOKED_FOR = ("Activity ID", "Title", "Format", "Start date", "End date", "Physician learners")


@dataclass
class Columns:
    """What each column of a sheet's header row fills."""

    header_row: int  # 0-based index of the header row in the sheet
    targets: dict[int, str]  # column index -> field name or count/close target
    headers: dict[int, str]  # column index -> the header as written
    unknown: list[str] = field(default_factory=list)
    not_used: list[str] = field(default_factory=list)  # messages, one per column
    repeated: list[str] = field(default_factory=list)  # a field named by two columns
    groups: dict[int, Slot] = field(default_factory=dict)  # column index -> numbered part

    def column_of(self, target: str) -> int | None:
        return next((i for i, t in self.targets.items() if t == target), None)

    @property
    def has_counts(self) -> bool:
        return any(t in COUNT_TARGETS for t in self.targets.values())


def match_header(cells: Sequence[str]) -> dict[int, str]:
    slots = _group_slots(cells)
    matched = {i: target_of(c) for i, c in enumerate(cells) if c and i not in slots}
    return {i: target for i, target in matched.items() if target is not None}


def find_columns(rows: Sequence[Sequence[str]]) -> Columns | None:
    """The header row among the first rows: the one naming the activity ID and most fields."""
    best: tuple[int, dict[int, str]] | None = None
    for index, cells in enumerate(rows[:HEADER_SCAN_ROWS]):
        matched = match_header(cells)
        if "activity_id" not in matched.values() or len(matched) < 2:
            continue
        if best is None or len(matched) > len(best[1]):
            best = (index, matched)
    if best is None:
        return None
    index, matched = best
    cells = rows[index]
    columns = Columns(header_row=index, targets={}, headers={})
    _add_groups(columns, cells)
    seen: set[str] = set()
    folded = {fold(text) for text in cells if text}
    for col, text in enumerate(cells):
        if not text or col in columns.groups or NAMES_BESIDE_IDS.get(fold(text)) in folded:
            continue
        target = matched.get(col)
        if target is None:
            reason = NOT_USED.get(fold(text))
            if reason:
                columns.not_used.append(reason)
            elif reason is None:
                columns.unknown.append(_unknown(text))
                if looks_like_a_count(text):
                    columns.not_used.append(
                        f"Warning: the column {text} looks like a learner count but is not "
                        "read: name it Physician learners or Other learners"
                    )
            continue
        if target in seen:
            columns.repeated.append(text)
            continue
        seen.add(target)
        columns.targets[col] = target
        columns.headers[col] = text
    return columns


def _add_groups(columns: Columns, cells: Sequence[str]) -> None:
    """The numbered parts of the header row, less entries beyond what the bot keeps."""
    for col, slot in _group_slots(cells).items():
        limit = GROUP_LIMITS.get(slot.group)
        if limit is not None and slot.index > limit:
            note = f"{cells[col]} is not read: {_LIMIT_NOTES[slot.group]}"
            if slot.part == GROUP_KEYS[slot.group]:
                columns.not_used.append(note)
            continue
        columns.groups[col] = slot
        columns.headers[col] = cells[col]


def _unknown(text: str) -> str:
    """An unknown header as the preview lists it, with a did-you-mean when one is close."""
    suggestion = suggestion_for(text)
    return f"{text} (did you mean {suggestion}?)" if suggestion else text
