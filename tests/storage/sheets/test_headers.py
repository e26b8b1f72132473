"""Headers as offices write them: matched by their words, near misses named, counts warned."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.engine import Engine

from storage.sheets.headers import OTHERS, PHYSICIANS, find_columns, target_of
from tests.storage.batch.files import grand_rounds, table, xlsx
from tests.storage.batch.helpers import apply, counts, load, preview


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ("# of Physicians", PHYSICIANS),
        ("# Other Learners", OTHERS),
        ("Other Learners #", OTHERS),
        ("Total other learners", OTHERS),
        ("Non-physician learners", OTHERS),
        ("Physicians (#)", PHYSICIANS),
        ("No. of Physicians", PHYSICIANS),
        ("Number of other learners", OTHERS),
        ("Physician count", PHYSICIANS),
        ("Title of the Activity", "title"),
        ("Date, start", "start_date"),
        ("Counts as of", "as_of"),
        ("Date", "start_date"),
        ("AMA PRA Category 1 Credit(s)", "credits"),
    ],
)
def test_a_header_is_matched_by_its_words(header: str, target: str) -> None:
    assert target_of(header) == target


@pytest.mark.parametrize("header", ["Learners", "Attendees #", "Hours", "Notes", "Descripton"])
def test_a_header_that_names_no_field_matches_nothing(header: str) -> None:
    assert target_of(header) is None


def office_row(activity_id: str) -> dict[str, object]:
    row = grand_rounds(activity_id)
    row["Descripton"] = row.pop("Description")
    return row | {
        "# of Physicians": 40,
        "# Other Learners": 12,
        "Attendees #": 52,
        "Counts as of": date(2025, 12, 16),
    }


def test_an_office_sheet_keeps_both_counts_and_says_what_it_did_not_read(engine: Engine) -> None:
    shown = preview(engine, xlsx(table([office_row("GR-1"), office_row("GR-2")])))
    assert shown.summary.counts == 2, shown.first_errors
    assert "Descripton (did you mean Description?)" in shown.unknown
    assert any("Attendees #" in note and "learner count" in note for note in shown.not_used)


def test_both_counts_of_an_office_sheet_are_recorded(engine: Engine) -> None:
    apply(engine, preview(engine, xlsx(table([office_row("GR-1")]))).batch_id)
    assert sorted(counts(engine, "GR-1")) == [
        ("other", 12, "2025-12-16"),
        ("physician", 40, "2025-12-16"),
    ]


# -- numbered groups --------------------------------------------------------------------------


def test_numbered_groups_are_matched_in_order() -> None:
    header = [
        "Activity ID",
        "Commercial Supporter 1",
        "Amount 1",
        "Supporter 2",
        "Support Type 2",
        "Amount (2)",
        "MOC Board 1",
        "MOC Points 1",
        "Credit Type 1",
        "AMA PRA Category 1 Credits",
    ]
    columns = find_columns([header])
    assert columns is not None
    assert {c: (s.group, s.index, s.part) for c, s in columns.groups.items()} == {
        1: ("supporter", 1, "name"),
        2: ("supporter", 1, "amount"),
        3: ("supporter", 2, "name"),
        4: ("supporter", 2, "kind"),
        5: ("supporter", 2, "amount"),
        6: ("moc", 1, "board"),
        7: ("moc", 1, "points"),
        8: ("moc", 1, "credit_types"),
    }
    assert columns.targets == {0: "activity_id", 9: "credits"}  # a number in a field's name
    assert columns.unknown == []


def test_a_block_repeated_without_numbers_counts_its_turns() -> None:
    block = ["Commercial Supporter Name", "Monetary Support (Y/N)", "Monetary Amount"]
    columns = find_columns([["Activity ID", "Title", *block, *block, *block]])
    assert columns is not None
    slots = [(s.index, s.part) for _, s in sorted(columns.groups.items())]
    assert slots == [(i, p) for i in (1, 2, 3) for p in ("name", "monetary", "amount")]


def test_a_group_part_without_its_group_is_no_group() -> None:
    # "Amount" alone is not a supporter's amount: nothing names the supporter.
    columns = find_columns([["Activity ID", "Title", "Amount", "Points 1"]])
    assert columns is not None
    assert columns.groups == {}
    assert columns.unknown == ["Amount", "Points 1"]


def test_boards_beyond_one_per_board_are_said_not_read() -> None:
    boards = [f"MOC Board {i}" for i in range(1, 10)]
    columns = find_columns([["Activity ID", "Title", *boards]])
    assert columns is not None
    assert [(s.index, s.part) for s in columns.groups.values()] == [
        (i, "board") for i in range(1, 9)
    ]
    assert any("MOC Board 9 is not read" in note for note in columns.not_used)


def test_the_one_board_columns_of_until_now_are_board_1() -> None:
    header = ["Activity ID", "Title", "MOC Board", "MOC Credit Type", "MOC Points", "MOC boards"]
    columns = find_columns([header])
    assert columns is not None
    assert {c: (s.index, s.part) for c, s in columns.groups.items()} == {
        2: (1, "board"),
        3: (1, "credit_types"),
        4: (1, "points"),
    }
    # The one-line column of every board is the field itself.
    assert columns.targets == {0: "activity_id", 1: "title", 5: "moc_boards"}


def test_numbered_supporters_are_read_as_the_activity_s_supporters(engine: Engine) -> None:
    row = grand_rounds(
        "GR-1",
        **{
            "Commercial support": "Yes",
            "Commercial Supporter 1": "Acme Pharma",
            "Amount 1": 5000,
            "Commercial Supporter 2": "Beta Devices",
            "Support Type 2": "In-kind",
            "Amount 2": None,
        },
    )
    apply(engine, preview(engine, xlsx(table([row]))).batch_id)
    stored = load(engine, "GR-1")
    assert stored is not None
    assert stored.supporters == [
        {"name": "Acme Pharma", "kind": "monetary", "amount": "5000.00"},
        {"name": "Beta Devices", "kind": "in-kind", "amount": None},
    ]
    # Read again, the same file changes nothing.
    again = preview(engine, xlsx(table([row])))
    assert (again.summary.unchanged, again.unknown) == (1, [])
