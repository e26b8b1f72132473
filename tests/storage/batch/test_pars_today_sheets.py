"""Today's PARS record through spreadsheets: upload (preview and apply), template, export."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy.engine import Engine

from storage.batch.export import export_workbook
from storage.db import session_scope
from storage.sheets.workbooks import template_workbook
from tests.conftest import TODAY
from tests.storage.batch.files import grand_rounds, table, xlsx
from tests.storage.batch.helpers import TEAM, apply, load, preview

PASSPORT_TODAY = {
    "Listed in CME Passport": "Yes",
    "CME Passport fee": "No, it's free",
    "CME Passport registration": "Limited",
    "CME Passport activity URL": "https://cme.example.org/gr",
}
# As providers' sheets and the bot's own template had it until now.
PASSPORT_OLD = {
    "Listed in CME Finder": "Yes",
    "CME Finder Fee": 150,
    "CME Finder Registration": "Open to all",
    "CME Finder URL": "https://cme.example.org/gr",
}


def gr(activity_id: str, **extra: object) -> dict[str, object]:
    """The complete series, its CME Finder column replaced by `extra`'s."""
    row = grand_rounds(activity_id)
    del row["Listed in CME Finder"]
    return row | extra


def added(engine: Engine, *records: dict) -> None:  # type: ignore[type-arg]
    plan = preview(engine, xlsx(table(list(records))))
    assert plan.summary.errors == 0, plan.first_errors
    result = apply(engine, plan.batch_id)
    assert result.summary.errors == 0, result.errors


def test_passport_columns_old_and_new_are_read(engine: Engine) -> None:
    added(engine, gr("NEW", **PASSPORT_TODAY))
    added(engine, gr("OLD", **PASSPORT_OLD))
    new, old = load(engine, "NEW"), load(engine, "OLD")
    assert new is not None and old is not None
    assert (new.cme_finder, new.finder_fee, new.finder_registration) == (True, "free", "limited")
    assert (old.cme_finder, old.finder_fee, old.finder_registration) == (True, "yes", "open")


def test_a_registration_neither_open_nor_limited_is_refused_and_nothing_changes(
    engine: Engine,
) -> None:
    plan = preview(
        engine,
        xlsx(table([gr("X", **(PASSPORT_TODAY | {"CME Passport registration": "VIP"}))])),
    )
    assert plan.summary.errors == 1
    assert '"VIP" is not one of: open, limited' in " ".join(str(e) for e in plan.first_errors)
    assert load(engine, "X") is None


def test_the_template_offers_the_passport_answers_with_their_commas() -> None:
    book = load_workbook(io.BytesIO(template_workbook()))
    sheet = book["Activities"]
    headers = [c.value for c in sheet[1]]
    fee_letter = sheet.cell(row=1, column=headers.index("CME Passport fee") + 1).column_letter
    [fee] = [
        v
        for v in sheet.data_validations.dataValidation
        if str(v.sqref).startswith(f"{fee_letter}2")
    ]
    sheet_name, cells = fee.formula1.split("!")
    lists = book[sheet_name]
    assert lists.sheet_state == "hidden"
    assert [row[0].value for row in lists[cells.replace("$", "")]] == [
        "Yes",
        "No, it's free",
        "Variable",
    ]


def test_the_export_writes_pars_answers_and_reads_back_unchanged(engine: Engine) -> None:
    added(engine, gr("NEW", **PASSPORT_TODAY))
    with session_scope(engine) as session:
        data = export_workbook(session=session, team_id=TEAM, year=2025, today=TODAY).data
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["CME Passport fee"] == "No, it's free"
    assert row["CME Passport registration"] == "Limited"
    again = preview(engine, data, "PARS export 2025.xlsx")
    assert again.summary.unchanged == 1, again.first_errors


def test_delivery_in_a_sheet_is_a_set_and_the_export_reads_back(engine: Engine) -> None:
    added(
        engine,
        gr("BOTH", **{"Delivery method": "In-Person; Live-Streamed"}),
        gr("HYB", **{"Delivery method": "Hybrid"}),
        gr("STREAM", **{"Delivery method": "Live-streamed", "City": None, "State": None}),
    )
    for aid in ("BOTH", "HYB"):
        found = load(engine, aid)
        assert found is not None and found.delivery_method == ["in-person", "live-streamed"]
    with session_scope(engine) as session:
        data = export_workbook(session=session, team_id=TEAM, year=2025, today=TODAY).data
    again = preview(engine, data, "PARS export 2025.xlsx")
    assert again.summary.unchanged == 3, again.first_errors


def test_outcomes_in_a_sheet_old_and_new_names_and_the_export_reads_back(engine: Engine) -> None:
    added(
        engine,
        gr("NEW", **{"Outcome measures": "Learner Knowledge (Objective); Patient Health"}),
        gr("OLD", **{"Outcome measures": "Knowledge; Patient outcomes"}),
    )
    assert (found := load(engine, "NEW")) is not None
    assert found.outcome_measures == ["knowledge:objective", "patient-health"]
    assert (found := load(engine, "OLD")) is not None
    assert found.outcome_measures == ["knowledge", "patient-health"]
    with session_scope(engine) as session:
        data = export_workbook(session=session, team_id=TEAM, year=2025, today=TODAY).data
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    shown = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert shown["NEW"]["Outcome measures"] == "Learner Knowledge (Objective); Patient Health"
    again = preview(engine, data, "PARS export 2025.xlsx")
    assert again.summary.unchanged == 2, again.first_errors
