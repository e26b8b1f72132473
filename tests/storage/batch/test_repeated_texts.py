"""A sheet repeats its texts: each cell is still read as its own column means it, and a text
that is wrong is wrong on every row that has it (the validator keeps what it read of a text)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.engine import Engine

from storage.pars.fields import parse_values
from tests.storage.batch.files import grand_rounds, table, xlsx
from tests.storage.batch.helpers import apply, counts, load, preview


def row(activity_id: str, **cells: str) -> dict[str, object]:
    names = {
        "credits": "AMA PRA Category 1 credits",
        "physicians": "Physician learners",
        "start": "Start date",
        "end": "End date",
    }
    return grand_rounds(activity_id, **{names[k]: v for k, v in cells.items()})


def test_the_same_text_reads_per_its_column_and_an_error_is_said_on_every_row(
    engine: Engine,
) -> None:
    rows = [
        row("RT-1", credits="1,5", physicians="1,5"),
        row("RT-2", credits="1,5", physicians="20"),
        row("RT-3", credits="1.5", physicians="1,040"),
        row("RT-4", credits="1,040", physicians="12"),
        row("RT-5", start="2025-03-01", end="2025-03-31", credits="2", physicians="2"),
        row("RT-6", start="2025-02-01", end="2025-03-01", credits="2", physicians="2"),
        row("RT-7", start="2025-03-31", end="2025-03-01", credits="2"),
    ]
    p = preview(engine, xlsx(table(rows)))
    decimal_comma = (
        'AMA PRA Category 1 credits: "1,5" is not a number: use a dot for decimals (1.5) and '
        "commas only between groups of three digits (1,040)"
    )
    assert p.first_errors == [
        f"row 2, {decimal_comma} (activity `RT-1`)",
        'row 2, Physician learners: "1,5" is not a whole number: commas may only separate '
        "groups of three digits (1,040) (activity `RT-1`)",
        f"row 3, {decimal_comma} (activity `RT-2`)",
        "row 5, AMA PRA Category 1 credits: must be more than 0 and at most 1000 (activity `RT-4`)",
        "row 8, End date 2025-03-01 is before the start date 2025-03-31 (activity `RT-7`)",
    ]
    assert p.summary.added == 3 and p.summary.errors == 4
    apply(engine, p.batch_id)
    third = load(engine, "RT-3")
    assert third is not None and third.credits == Decimal("1.50")
    assert counts(engine, "RT-3")[0][:2] == ("physician", 1040)
    fifth, sixth = load(engine, "RT-5"), load(engine, "RT-6")
    assert fifth is not None and sixth is not None
    assert (fifth.start_date, fifth.end_date) == (date(2025, 3, 1), date(2025, 3, 31))
    assert (sixth.start_date, sixth.end_date) == (date(2025, 2, 1), date(2025, 3, 1))
    assert fifth.credits == Decimal("2.00") and counts(engine, "RT-5")[0][:2] == ("physician", 2)
    assert load(engine, "RT-1") is None and load(engine, "RT-7") is None


def test_a_list_read_from_a_repeated_text_is_each_rows_own() -> None:
    first, _ = parse_values({"delivery_method": "In person", "outcome_measures": "Knowledge"})
    first["delivery_method"].append("live-streamed")
    first["outcome_measures"].clear()
    second, problems = parse_values(
        {"delivery_method": "In person", "outcome_measures": "Knowledge"}
    )
    assert problems == []
    assert second == {"delivery_method": ["in-person"], "outcome_measures": ["knowledge"]}


def test_a_blank_text_clears_its_field_each_time() -> None:
    for _ in range(2):
        values, problems = parse_values({"city": "  ", "credits": "", "title": "Rounds"})
        assert problems == []
        assert values == {"city": None, "credits": None, "title": "Rounds"}
