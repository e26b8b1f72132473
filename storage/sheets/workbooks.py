"""Workbooks the bot writes (openpyxl): cells, the export's columns, the blank template.

Every text cell is written as text: a title that begins with =, +, - or @ never becomes a
formula. The export reads the database in storage/batch/export.py; the annotated copy of an
upload is storage/batch/annotate.py.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from storage.pars import rules
from storage.pars.fields import label, render
from storage.pars.labels import has_labels, labels
from storage.sheets.headers import EXAMPLE_ID

HEADER_FILL = PatternFill("solid", fgColor="1D4F91")
HEADER_FONT = Font(bold=True, color="FFFFFF")
DATE_FORMAT = "yyyy-mm-dd"
FORMULA_STARTS = ("=", "+", "-", "@")

YES_NO_FIELDS = {"cme_finder", "commercial_support", "moc", "moc_attested", "mips"}
DATE_FIELDS = {"start_date", "end_date"}
NUMBER_FIELDS = {"credits"}

# The activities sheet, in the order of PARS's activity record; labels are PARS field names.
EXPORT_FIELDS = (
    "activity_id",
    "title",
    "format",
    "delivery_method",
    "start_date",
    "end_date",
    "city",
    "state",
    "country",
    "credits",
    "description",
    "providership",
    "joint_providers",
    "cme_finder",
    "finder_fee",
    "finder_registration",
    "finder_url",
    "outcome_measures",
    "commercial_support",
    "supporters",
    "moc",
    "moc_attested",
)
# Each MOC board entry as a numbered group of columns after the fields (storage/sheets/headers.py
# reads them back): the template has MOC_GROUPS of them, the export as many as its activities
# need.
MOC_PARTS = (
    ("board", "MOC Board"),
    ("points", "MOC Points"),
    ("credit_types", "MOC Credit Types"),
    ("claim_date", "MOC Claim Date"),
)
MOC_GROUPS = 2
# The optional fields, after the MOC groups.
LATER_FIELDS = ("rems_program", "rems_id", "mips", "commendation_tags")
PHYSICIANS_HEADER = rules.LEARNER_CATEGORIES["physician"]
OTHERS_HEADER = rules.LEARNER_CATEGORIES["other"]
AS_OF_HEADER = "Counts as of"
STATUS_HEADER = "Status"
OWNER_HEADER = "Owner"
# The export shows each owner's name under Owner and their ID here, which is what is read back
# (storage/sheets/headers.py: NAMES_BESIDE_IDS).
OWNER_ID_HEADER = "Owner Slack ID"
TAIL_HEADERS = (PHYSICIANS_HEADER, OTHERS_HEADER, AS_OF_HEADER, "ACCME Activity ID", OWNER_HEADER)


def _field_labels(moc_groups: int) -> list[str]:
    return [
        *(label(name) for name in EXPORT_FIELDS),
        *(f"{name} {index}" for index in range(1, moc_groups + 1) for _part, name in MOC_PARTS),
        *(label(name) for name in LATER_FIELDS),
    ]


def header_labels(moc_groups: int = MOC_GROUPS) -> list[str]:
    """The template's headers: its Owner column takes a Slack ID."""
    return [*_field_labels(moc_groups), *TAIL_HEADERS, STATUS_HEADER]


def moc_groups(activities: Sequence[Any]) -> int:
    """How many numbered MOC groups an export of these activities needs."""
    return max([MOC_GROUPS, *(len(a.moc_boards or []) for a in activities)])


def moc_cell(entry: Mapping[str, Any], part: str) -> Any:
    """One part of a board entry as its cell: points a number, the claim date a date, credit
    types separated by `;`."""
    found = entry.get(part)
    if not found:
        return None
    if part == "points":
        return Decimal(found)
    if part == "claim_date":
        return date.fromisoformat(found)
    if part == "credit_types":
        return "; ".join(found)
    return found


def moc_cells(entries: Sequence[Mapping[str, Any]] | None, groups: int) -> list[Any]:
    """Board entries as the cells of `groups` numbered groups, MOC_PARTS' order each."""
    out: list[Any] = []
    for index in range(groups):
        if index >= len(entries or []):
            out += [None] * len(MOC_PARTS)
            continue
        out += [moc_cell((entries or [])[index], part) for part, _ in MOC_PARTS]
    return out


def export_labels(moc_groups: int = MOC_GROUPS) -> list[str]:
    """The export's headers: the template's, with the owner's Slack ID beside their name."""
    return [*_field_labels(moc_groups), *TAIL_HEADERS, OWNER_ID_HEADER, STATUS_HEADER]


# Word's manual line break (vertical tab) and page break, as pasted into a CSV or a description.
_BREAKS = str.maketrans({"\x0b": "\n", "\x0c": "\n"})


def printable(value: str) -> str:
    """Text an .xlsx can hold: openpyxl refuses control characters (and would fail the whole
    workbook), so Word's breaks become new lines and the rest are dropped."""
    return ILLEGAL_CHARACTERS_RE.sub("", value.translate(_BREAKS))


def printable_row(values: Sequence[Any]) -> Sequence[Any]:
    """A row with its text made printable; one search per row, as control characters are rare."""
    if not ILLEGAL_CHARACTERS_RE.search("".join([v for v in values if isinstance(v, str)])):
        return values
    return [printable(v) if isinstance(v, str) else v for v in values]


def text_cell(sheet: Any, value: str) -> WriteOnlyCell:
    """A cell that holds text whatever it begins with (never a formula)."""
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell


def set_text(cell: Cell, value: str) -> None:
    cell.value = value
    cell.data_type = "s"


def shown_value(name: str, value: Any) -> Any:
    """A stored value as the export writes it: PARS labels, real dates and numbers."""
    if value is None or value == []:
        return None
    if has_labels(name):
        shown = labels(name, value)
        return shown if isinstance(shown, str) else "; ".join(shown)
    if name in YES_NO_FIELDS:
        return "Yes" if value else "No"
    if name in DATE_FIELDS or isinstance(value, date):
        return value
    if isinstance(value, Decimal):
        return value  # a number cell; openpyxl writes Decimals as numbers
    return render(value)


def cells(sheet: Any, values: Sequence[Any]) -> list[Any]:
    cells: list[Any] = []
    for value in printable_row(values):
        if value is None:
            cells.append(None)
        elif isinstance(value, str):
            # openpyxl stores other text as text already; only what could read as a formula
            # needs its type pinned (and costs a cell object).
            cells.append(text_cell(sheet, value) if value[:1] in FORMULA_STARTS else value)
        elif isinstance(value, date) and not isinstance(value, datetime):
            cells.append(value)  # openpyxl gives a plain date DATE_FORMAT by itself
        elif isinstance(value, date):
            cell = WriteOnlyCell(sheet, value=value)
            cell.number_format = DATE_FORMAT
            cells.append(cell)
        else:
            cells.append(value)
    return cells


def header_cells(sheet: Any, headers: Sequence[str]) -> list[WriteOnlyCell]:
    cells = []
    for text in headers:
        cell = text_cell(sheet, text)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cells.append(cell)
    return cells


def to_bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_rows(
    activities: Sequence[Any],
    counts: dict[int, dict[str, Any]],
    today: date,
    names: Mapping[str, str] | None = None,
    groups: int = MOC_GROUPS,
) -> list[tuple[Any, list[Any], rules.Status, list[rules.Need]]]:
    """One row of values per activity (export_labels' columns, `groups` numbered MOC groups),
    its status and what PARS still needs of it. `names`: owners' real names by Slack ID; an
    owner without one is shown by their ID."""
    names = names or {}
    out = []
    for activity in activities:
        closed = activity.closed_at is not None
        status = rules.derive_status(activity, closed=closed, today=today)
        mine = counts.get(activity.id or 0, {})
        values = [shown_value(name, getattr(activity, name)) for name in EXPORT_FIELDS]
        values += moc_cells(activity.moc_boards if activity.moc else None, groups)
        values += [shown_value(name, getattr(activity, name)) for name in LATER_FIELDS]
        as_of = max((c.as_of for c in mine.values()), default=None)
        values += [
            mine["physician"].count if "physician" in mine else None,
            mine["other"].count if "other" in mine else None,
            as_of,
            activity.accme_activity_id,
            names.get(activity.owner_user_id, activity.owner_user_id),
            activity.owner_user_id,
            str(status),
        ]
        needs = rules.still_needs(activity, closed=closed, counted=set(mine))
        out.append((activity, values, status, needs))
    return out


# -- template -------------------------------------------------------------------------------

EXAMPLE_ROW: dict[str, Any] = {
    "activity_id": EXAMPLE_ID,
    "title": "Medicine Grand Rounds",
    "format": "rss",
    "delivery_method": ["in-person"],
    "start_date": date(2025, 1, 7),
    "end_date": date(2025, 12, 16),
    "city": "Chicago",
    "state": "IL",
    "country": "USA",
    # An RSS's credits are for the whole series (PARS.md): weekly one-hour sessions, about 52.
    "credits": Decimal("52"),
    "description": "Weekly case conference for internal medicine staff",
    "providership": "direct",
    "cme_finder": False,
    "outcome_measures": ["knowledge:objective", "competence:subjective"],
    "commercial_support": False,
    "moc": True,
    "moc_attested": True,
    "mips": False,
    "commendation_tags": ["C1", "C14"],
    "moc_boards": [
        {
            "board": "ABIM",
            "points": "52",
            "credit_types": ["Medical Knowledge"],
            "claim_date": None,
        }
    ],
}

INSTRUCTIONS = (
    "How to fill in this workbook",
    "",
    "One activity per row. The Activity ID is your own ID for the activity (for example "
    "GR-2025): a row whose ID the bot knows updates that activity, a new ID adds one.",
    "A blank cell leaves the stored value as it is; to change a value, type the new one.",
    "Dates: a date cell, or YYYY-MM-DD, or M/D/YYYY.",
    "Credits of a regularly scheduled series are for the whole series, not one session: a "
    "weekly one-hour series is about 52 credits.",
    "Format, delivery method, providership, the CME Passport fee and registration and the "
    "yes/no columns offer drop-down lists.",
    "CME Passport fee: Yes, No, it's free, or Variable (an amount in dollars is read as Yes, "
    "0 as No, it's free). Registration: Open to all or Limited.",
    "Outcome measures: any of Learner Knowledge, Learner Competence, Learner Performance, "
    "Patient Health, Community Health, separated by ;, each optionally followed by "
    "(Objective), (Subjective) or (Objective, Subjective).",
    "Joint providers: names separated by ;. Commercial supporters: "
    "Name:monetary:amount or Name:in-kind, separated by ;",
    "MOC: one group of columns per certifying board (MOC Board 1, MOC Points 1, MOC Credit "
    "Types 1, MOC Claim Date 1, then 2...; add groups numbered 3 and on for more boards). "
    f"Boards: {', '.join(rules.MOC_BOARDS)}, one group each. Points in steps of 0.25; credit "
    "types separated by ;; the claim date is optional. MOC attestation of compliance: Yes "
    "once the provider attests compliance (needed to close an activity registered for MOC).",
    "Optional: REMS program (Opioid Analgesic or Mycophenolate) with its REMS identifier; MIPS "
    "(Yes/No); Commendation tags: criteria of ACCME's Menu for Accreditation with Commendation "
    "by name or number, separated by ; ("
    + "; ".join(f"{code} {name}" for code, name in rules.COMMENDATION_CRITERIA.items())
    + ").",
    "Learner counts: physicians and other learners; for enduring materials the cumulative "
    "count as of Counts as of (default: the last 31 December).",
    "Status: write Closed to close an activity once everything PARS needs is there.",
    f"The row with the Activity ID {EXAMPLE_ID} is a worked example: the bot skips it. "
    "Replace it or leave it.",
    "Share the filled-in file in a channel with pars-bot (or in a DM with it): the bot answers "
    "in a thread with a preview, and changes nothing until you click Apply.",
)


def _add_list(sheet: Any, column: int, choices: Sequence[str], rows: int = 5000) -> None:
    if any("," in choice for choice in choices):
        # An inline list splits at commas ("No, it's free"): such a list lives on a hidden sheet.
        formula = _listed_on_sheet(sheet.parent, choices)
    else:
        formula = '"' + ",".join(choices) + '"'
    if len(formula) > 255:  # Excel's limit for an inline list
        return
    validation = DataValidation(type="list", formula1=formula, allow_blank=True)
    validation.error = "Choose a value from the list"
    validation.errorTitle = "Not in the list"
    letter = get_column_letter(column)
    validation.add(f"{letter}2:{letter}{rows}")
    sheet.add_data_validation(validation)


LISTS_SHEET = "Lists"


def _listed_on_sheet(workbook: Workbook, choices: Sequence[str]) -> str:
    """The choices in a new column of the hidden Lists sheet, as a range formula."""
    if LISTS_SHEET in workbook.sheetnames:
        lists = workbook[LISTS_SHEET]
        column = lists.max_column + 1
    else:
        lists = workbook.create_sheet(LISTS_SHEET)
        lists.sheet_state = "hidden"
        column = 1
    for row, choice in enumerate(choices, start=1):
        set_text(lists.cell(row=row, column=column), choice)
    letter = get_column_letter(column)
    return f"{LISTS_SHEET}!${letter}$1:${letter}${len(choices)}"


def template_workbook(kind: str = "activities") -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    if kind == "counts":
        sheet.title = "Learner counts"
        headers = ["Activity ID", PHYSICIANS_HEADER, OTHERS_HEADER, AS_OF_HEADER, STATUS_HEADER]
        example = [EXAMPLE_ID, 1040, 212, date(2025, 12, 31), ""]
    else:
        sheet.title = "Activities"
        headers = header_labels()
        example = [shown_value(n, EXAMPLE_ROW.get(n)) for n in EXPORT_FIELDS]
        example += moc_cells(EXAMPLE_ROW["moc_boards"], MOC_GROUPS)
        example += [shown_value(n, EXAMPLE_ROW.get(n)) for n in LATER_FIELDS]
    for column, text in enumerate(headers, start=1):
        cell = sheet.cell(row=1, column=column)
        set_text(cell, text)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[get_column_letter(column)].width = max(14, min(len(text) + 4, 40))
    for column, value in enumerate(example, start=1):
        cell = sheet.cell(row=2, column=column)
        if isinstance(value, str):
            set_text(cell, value)
        else:
            cell.value = value
            if isinstance(value, date):
                cell.number_format = DATE_FORMAT
    sheet.cell(row=2, column=1).comment = Comment("A worked example: the bot skips it.", "pars-bot")
    sheet.freeze_panes = "A2"
    lists = {
        label("format"): [f.label for f in rules.FORMATS.values()],
        label("delivery_method"): [
            *rules.DELIVERY_METHODS.values(),
            "; ".join(rules.DELIVERY_METHODS[m] for m in rules.HYBRID),
        ],
        label("providership"): list(rules.PROVIDERSHIP.values()),
        label("cme_finder"): ["Yes", "No"],
        label("finder_fee"): list(rules.PASSPORT_FEES.values()),
        label("finder_registration"): list(rules.PASSPORT_REGISTRATION.values()),
        label("commercial_support"): ["Yes", "No"],
        label("moc"): ["Yes", "No"],
        label("moc_attested"): ["Yes", "No"],
        label("mips"): ["Yes", "No"],
        label("rems_program"): list(rules.REMS_PROGRAMS.values()),
        **{f"MOC Board {i}": list(rules.MOC_BOARDS) for i in range(1, MOC_GROUPS + 1)},
        STATUS_HEADER: ["Closed"],
    }
    for column, text in enumerate(headers, start=1):
        if text in lists:
            _add_list(sheet, column, lists[text])
    notes = workbook.create_sheet("Instructions", index=1)
    notes.column_dimensions["A"].width = 110
    for line in INSTRUCTIONS:
        notes.append([line])
    notes["A1"].font = Font(bold=True, size=14)
    for row in notes.iter_rows(min_row=2):
        row[0].alignment = Alignment(wrap_text=True)
    return to_bytes(workbook)
