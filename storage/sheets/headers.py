"""Header rows: which row holds the headers, and which field each column fills.

Headers are compared ignoring case, spacing and punctuation, and each field has the names
PARS uses, the bot's own keys and the variants found in providers' spreadsheets.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from storage.pars.fields import FIELDS

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


def fold(text: str) -> str:
    return re.sub(r"[^a-z0-9#]", "", text.lower()).replace("#", "number")


def _variants() -> dict[str, str]:
    table: dict[str, str] = {}
    for spec in FIELDS:
        for name in (spec.name, spec.key, spec.label, *spec.aliases):
            table[fold(name)] = spec.name
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
        "cme_finder": ["CME Finder", "Include in CME Finder", "Listed in CME Finder"],
        "finder_fee": ["Fee", "Activity Fee", "CME Finder Fee"],
        "finder_registration": ["Registration", "CME Finder Registration"],
        "finder_url": ["URL", "Activity URL", "Website", "CME Finder URL"],
        "outcome_measures": ["Outcome Measures", "Outcomes", "Outcome Measured"],
        "commercial_support": [
            "Commercial Support",
            "Commercial Support Received",
            "Received Commercial Support",
        ],
        "supporters": ["Commercial Supporters", "Commercial Supporter", "Supporters"],
        "moc": ["MOC", "Registered for MOC", "MOC Registered"],
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
        ],
        AS_OF: ["As of", "As-of Date", "Counts as of", "Learners as of", "Count Date"],
        CLOSE: ["Status", "Close", "Close Activity", "Closed", "PARS Status", "Activity Status"],
    }
    for target, names in extra.items():
        for name in names:
            table[fold(name)] = target
    # Hours of instruction are not credits, whatever a slash-command alias allows.
    for name in NOT_USED:
        table.pop(name, None)
    return table


VARIANTS = _variants()
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

    def column_of(self, target: str) -> int | None:
        return next((i for i, t in self.targets.items() if t == target), None)

    @property
    def has_counts(self) -> bool:
        return any(t in COUNT_TARGETS for t in self.targets.values())


def match_header(cells: Sequence[str]) -> dict[int, str]:
    return {i: VARIANTS[fold(c)] for i, c in enumerate(cells) if c and fold(c) in VARIANTS}


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
    seen: set[str] = set()
    for col, text in enumerate(cells):
        if not text:
            continue
        target = matched.get(col)
        if target is None:
            reason = NOT_USED.get(fold(text))
            if reason:
                columns.not_used.append(reason)
            elif reason is None:
                columns.unknown.append(text)
            continue
        if target in seen:
            columns.repeated.append(text)
            continue
        seen.add(target)
        columns.targets[col] = target
        columns.headers[col] = text
    return columns
