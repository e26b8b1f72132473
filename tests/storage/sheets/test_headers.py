"""Headers as offices write them: matched by their words, near misses named, counts warned."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.engine import Engine

from storage.sheets.headers import OTHERS, PHYSICIANS, target_of
from tests.storage.batch.files import grand_rounds, table, xlsx
from tests.storage.batch.helpers import apply, counts, preview


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
