"""REMS, MIPS and commendation tags through spreadsheets: read, exported, read back."""

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

OPTIONAL = {
    "REMS": "Opioid Analgesic",
    "REMS ID": "OA-77",
    "MIPS": "Yes",
    "Commendation Criteria": "Improves Performance; engages teams",
}


def test_the_columns_are_read_exported_and_read_back_unchanged(engine: Engine) -> None:
    plan = preview(engine, xlsx(table([grand_rounds("GR-1", **OPTIONAL), grand_rounds("GR-2")])))
    assert plan.summary.errors == 0, plan.first_errors
    apply(engine, plan.batch_id)
    found = load(engine, "GR-1")
    assert found is not None
    assert (found.rems_program, found.rems_id, found.mips) == ("opioid-analgesic", "OA-77", True)
    assert found.commendation_tags == ["C1", "C14"]
    with session_scope(engine) as session:
        data = export_workbook(session=session, team_id=TEAM, year=2025, today=TODAY).data
    rows = list(load_workbook(io.BytesIO(data)).worksheets[0].iter_rows(values_only=True))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["REMS program"], row["REMS identifier"], row["MIPS"]) == (
        "Opioid Analgesic",
        "OA-77",
        "Yes",
    )
    assert row["Commendation tags"] == "Engages Teams; Improves Performance"
    again = preview(engine, data, "PARS export 2025.xlsx")
    assert again.summary.unchanged == 2, again.first_errors


def test_a_criterion_not_on_the_menu_is_an_error_of_its_row(engine: Engine) -> None:
    bad = OPTIONAL | {"Commendation Criteria": "Improves Perfomance"}
    plan = preview(engine, xlsx(table([grand_rounds("GR-1", **bad)])))
    assert plan.summary.errors == 1
    assert "did you mean Improves Performance?" in " ".join(str(e) for e in plan.first_errors)
    assert load(engine, "GR-1") is None


def test_the_template_has_the_optional_columns() -> None:
    sheet = load_workbook(io.BytesIO(template_workbook()))["Activities"]
    headers = [c.value for c in sheet[1]]
    example = dict(zip(headers, [c.value for c in sheet[2]], strict=True))
    assert example["Commendation tags"] == "Engages Teams; Improves Performance"
    assert example["MIPS"] == "No"
    assert "REMS program" in headers and "REMS identifier" in headers
