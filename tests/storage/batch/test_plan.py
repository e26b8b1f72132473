"""What a file would change: headers and their variants, values, counts, closing, errors."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.batch.plan import CHUNK, load_workspace
from storage.models import Activity, LearnerCount
from storage.sheets.rows import BatchRow, NoHeaders
from tests.conftest import NOW
from tests.storage.batch.files import grand_rounds, table, text_file, xlsx
from tests.storage.batch.helpers import ADMIN, ALICE, BOB, TEAM, apply, counts, ids, load, preview
from tests.storage.test_queries import recording


def summary(p) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {k: v for k, v in p.summary.dump().items() if v and k != "rows"}


def test_a_complete_row_adds_an_activity_and_the_same_file_again_changes_nothing(
    engine: Engine,
) -> None:
    data = xlsx(table([grand_rounds()]))
    first = preview(engine, data)
    assert summary(first) == {"added": 1}
    assert first.first_errors == []
    apply(engine, first.batch_id)
    stored = load(engine, "GR-2025")
    assert stored is not None and stored.format == "rss" and stored.delivery_method == ["in-person"]
    again = preview(engine, data)
    assert summary(again) == {"unchanged": 1}
    assert not again.changes_anything


def test_legacy_headers_and_codes_of_older_pars_files(engine: Engine) -> None:
    rows = [
        [
            "Template C",
            "Provider Activity ID",
            "Activity Title",
            "Activity Type",
            "Activity Date",
            "Hours",
            "# of Physicians",
            "Favourite colour",
        ],
        ["", "LC-1", "Cardiology Update", "C", "3/14/2025", 6, 40, "blue"],
    ]
    p = preview(engine, xlsx(rows))
    # One "Activity Date" is the start; the end date is then reported missing.
    assert p.first_errors == ["row 2, End date is required (activity `LC-1`)"]
    assert p.unknown == ["Favourite colour"]
    assert any(n.startswith("Hours is not used") and "not credits" in n for n in p.not_used)


def test_hours_are_never_taken_for_credits(engine: Engine) -> None:
    rows = table([grand_rounds(**{"AMA PRA Category 1 credits": None, "Hours": 2})])
    apply(engine, preview(engine, xlsx(rows)).batch_id)
    stored = load(engine, "GR-2025")
    assert stored is not None and stored.credits is None


@pytest.mark.parametrize(
    ("header", "value", "field", "expected"),
    [
        ("Activity Type", "IL", "delivery_method", "['live-streamed']"),
        ("Activity Format", "Live course", "format", "live-course"),
        ("AMA PRA Category 1 Credits Designated", 1.5, "credits", "1.50"),
        ("Credits", "20.25", "credits", "20.25"),
        ("ACCME Activity ID", 201234567.0, "accme_activity_id", "201234567"),
        ("activity_description", "Case-based", "description", "Case-based"),
        ("CME Finder", "N", "cme_finder", "False"),
        (
            "Joint Provider Names",
            "Univ. Hospital; State Society",
            "joint_providers",
            "['Univ. Hospital', 'State Society']",
        ),
    ],
)
def test_header_variants_fill_their_fields(
    engine: Engine, header: str, value: object, field: str, expected: str
) -> None:
    base = {
        "Provider Activity ID": "V-1",
        "Activity Title": "Update",
        "Start Date": "2025-03-14",
        "End Date": "3/15/2025",
    }
    if header not in {"Activity Type", "Activity Format"}:
        base["Activity Type"] = "C"
    apply(engine, preview(engine, xlsx(table([{**base, header: value}]))).batch_id)
    stored = load(engine, "V-1")
    assert stored is not None
    assert str(getattr(stored, field)) == expected


def test_a_blank_cell_keeps_the_stored_value_and_a_filled_one_changes_it(engine: Engine) -> None:
    apply(engine, preview(engine, xlsx(table([grand_rounds()]))).batch_id)
    change = {"Activity ID": "gr-2025", "Title": "", "City": "Evanston", "State": None}
    p = preview(engine, xlsx(table([change])))
    assert summary(p) == {"updated": 1}
    apply(engine, p.batch_id)
    stored = load(engine, "GR-2025")
    assert stored is not None
    assert (stored.title, stored.city, stored.state) == ("Medicine Grand Rounds", "Evanston", "IL")


def test_errors_name_the_row_the_spreadsheet_shows_and_the_field(engine: Engine) -> None:
    rows = table(
        [
            grand_rounds("OK-1"),
            grand_rounds("BAD-1", **{"End date": "2025-02-30"}),
            grand_rounds("BAD-2", **{"State": "Illinois", "AMA PRA Category 1 credits": "1.1"}),
            {"Activity ID": "", "Title": "No ID"},
        ]
    )
    p = preview(engine, xlsx(rows))
    assert p.summary.errors == 3 and p.summary.added == 1
    assert p.first_errors == [
        'row 3, End date: "2025-02-30" is not a real date (activity `BAD-1`)',
        'row 4, State: "Illinois" is not a 2-letter US state code (activity `BAD-2`)',
        "row 4, AMA PRA Category 1 credits: 1.1 is not a multiple of 0.25 (activity `BAD-2`)",
        "row 5, Activity ID is blank: every row needs one",
    ]


def test_an_unknown_id_without_the_fields_to_add_it(engine: Engine) -> None:
    p = preview(engine, xlsx([["Activity ID", "Physician learners"], ["NOPE-1", 3]]))
    assert p.first_errors == [
        "row 2, No activity has the ID NOPE-1: add it first with a row that gives its title, "
        "format and dates"
    ]


def test_status_closed_closes_after_the_update_and_says_what_is_missing_otherwise(
    engine: Engine,
) -> None:
    apply(engine, preview(engine, xlsx(table([grand_rounds("A-1"), grand_rounds("A-2")]))).batch_id)
    rows = table(
        [
            {
                "Activity ID": "A-1",
                "Physician learners": "1,040",
                "Other learners": 212.0,
                "Status": "Closed",
            },
            {"Activity ID": "A-2", "Status": "Closed"},
        ]
    )
    p = preview(engine, xlsx(rows))
    assert summary(p) == {"counts": 1, "closed": 1, "errors": 1}
    assert p.first_errors == [
        "row 3, Can't close it yet: PARS still needs for *Closed*: Physician learners, "
        "Other learners (activity `A-2`)"
    ]
    apply(engine, p.batch_id)
    closed = load(engine, "A-1")
    assert closed is not None and closed.closed_at is not None
    assert counts(engine, "A-1") == [
        ("physician", 1040, "2025-12-16"),
        ("other", 212, "2025-12-16"),
    ]


def test_a_learner_counts_sheet_updates_counts_and_may_close(engine: Engine) -> None:
    activities = table([grand_rounds("A-1")])
    sheet = [
        ["Activity ID", "# of Physicians", "# of Other Learners", "As of", "Close"],
        ["A-1", 52, 8, date(2025, 12, 16), "Yes"],
    ]
    p = preview(engine, xlsx({"Activities": activities, "Learner counts": sheet}))
    assert summary(p) == {"added": 1, "counts": 1, "closed": 1}
    apply(engine, p.batch_id)
    stored = load(engine, "A-1")
    assert stored is not None and stored.closed_at is not None
    assert counts(engine, "A-1") == [("physician", 52, "2025-12-16"), ("other", 8, "2025-12-16")]


def test_a_second_sheet_of_activities_is_named_as_not_read(engine: Engine) -> None:
    # Only the first sheet of activities is read: a coordinator's second list is not lost
    # without a word.
    sheets = {
        "Q1": table([grand_rounds("A-1")]),
        "Notes": [["Call the speaker"]],
        "Q2": table([grand_rounds("B-1")]),
    }
    p = preview(engine, xlsx(sheets))
    assert summary(p) == {"added": 1}
    assert p.not_used == [
        "Sheet 'Q2' not read: a file is read from its first sheet of activities (and any sheets "
        "of learner counts). Share another sheet as a file of its own."
    ]


def test_a_lower_cumulative_count_of_an_enduring_material_is_an_error(engine: Engine) -> None:
    em = {
        "Activity ID": "EM-1",
        "Title": "Online module",
        "Format": "EM",
        "Start date": "2024-01-01",
        "End date": "2026-12-31",
    }
    apply(engine, preview(engine, xlsx(table([em | {"Physician learners": 300}]))).batch_id)
    p = preview(engine, xlsx([["Activity ID", "Physician learners"], ["EM-1", 30]]))
    assert p.summary.errors == 1
    assert (
        "cumulative and this would contradict the counts on file (Physician learners 300 → 30)"
        in (p.first_errors[0])
    )


def test_a_duplicated_id_makes_those_rows_errors_naming_each_other(engine: Engine) -> None:
    rows = table([grand_rounds("A-1"), grand_rounds("B-1"), grand_rounds("a-1")])
    for data, name in ((xlsx(rows), "activities.xlsx"), (text_file(rows), "list.csv")):
        p = preview(engine, data, name)
        assert summary(p) == {"added": 1, "errors": 2}
        assert p.first_errors == [
            "row 2, Activity ID A-1 is also on row 4 of this sheet: keep one row per activity; "
            "neither row is read",
            "row 4, Activity ID a-1 is also on row 2 of this sheet: keep one row per activity; "
            "neither row is read",
        ]
    apply(engine, p.batch_id)
    assert ids(engine) == ["B-1"]


def test_an_office_sheet_with_na_cells_and_a_totals_row(engine: Engine) -> None:
    first = grand_rounds("GR-1", **{"Physician learners": 40, "Other learners": 12})
    apply(engine, preview(engine, xlsx(table([first]))).batch_id)
    rows = table(
        [
            grand_rounds("GR-1", City="N/A", **{"Physician learners": 45, "Other learners": "n/a"}),
            grand_rounds(
                "GR-2", Description="TBD", **{"Physician learners": 10, "Other learners": 2}
            ),
            {"Activity ID": "Total", "Physician learners": 55, "Other learners": 14},
            {"Activity ID": "", "Physician learners": 55, "Other learners": 14},
        ]
    )
    p = preview(engine, xlsx(rows))
    assert summary(p) == {"added": 1, "counts": 2}, p.first_errors
    assert "Row 4 of Activities skipped: a totals row, not an activity" in p.not_used
    assert "Row 5 of Activities skipped: a totals row, not an activity" in p.not_used
    assert "3 cells such as N/A or TBD read as blank, so the stored value stays" in " ".join(
        p.not_used
    )
    apply(engine, p.batch_id)
    kept = load(engine, "GR-1")
    assert kept is not None and kept.city == "Chicago"  # the stored value stays
    assert ("physician", 45, "2025-12-16") in counts(engine, "GR-1")
    assert ("other", 12, "2025-12-16") in counts(engine, "GR-1")


def test_a_sheet_without_recognizable_headers(engine: Engine) -> None:
    with pytest.raises(NoHeaders, match=r"couldn't find a header row.*`/pars template`"):
        preview(engine, text_file([["Name", "Date"], ["Rounds", "2025-01-01"]]), "list.csv")


def test_someone_elses_activity_needs_them_or_an_admin(engine: Engine) -> None:
    apply(engine, preview(engine, xlsx(table([grand_rounds()]))).batch_id)
    change = xlsx([["Activity ID", "City"], ["GR-2025", "Evanston"]])
    refused = preview(engine, change, actor=BOB)
    assert refused.first_errors[0].startswith(
        "row 2, `GR-2025` belongs to @U0ALICE; only they or an admin can change it"
    )
    assert summary(preview(engine, change, actor=ADMIN)) == {"updated": 1}


def test_a_closed_activity_is_unchanged_by_its_own_values_and_refuses_new_ones(
    engine: Engine,
) -> None:
    done = grand_rounds(**{"Physician learners": 10, "Other learners": 2, "Status": "Closed"})
    apply(engine, preview(engine, xlsx(table([done]))).batch_id)
    assert summary(preview(engine, xlsx(table([done])))) == {"unchanged": 1}
    p = preview(engine, xlsx(table([done | {"City": "Evanston"}])))
    assert "`GR-2025` is closed, so it can no longer be changed" in p.first_errors[0]


def test_the_templates_example_row_is_skipped(engine: Engine) -> None:
    from storage.sheets.workbooks import template_workbook

    p = preview(engine, template_workbook())
    assert p.summary.rows == 0 and p.first_errors == []


def test_a_counts_sheet_may_complete_what_the_activities_sheet_added(engine: Engine) -> None:
    # The activities sheet adds A-1 without its outcome measures; the counts sheet gives them
    # along with the counts, and closes it: checked against A-1 as the first sheet leaves it.
    first = grand_rounds("A-1")
    del first["Outcome measures"]
    sheet = [
        ["Activity ID", "Outcome measures", "# of Physicians", "# of Other Learners", "Close"],
        ["A-1", "Knowledge", 52, 8, "Yes"],
    ]
    p = preview(engine, xlsx({"Activities": table([first]), "Learner counts": sheet}))
    assert summary(p) == {"added": 1, "updated": 1, "counts": 1, "closed": 1}
    apply(engine, p.batch_id)
    stored = load(engine, "A-1")
    assert stored is not None and stored.outcome_measures == ["knowledge"]
    assert stored.closed_at is not None


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_date_past_the_calendar_is_one_rows_error_and_the_others_are_previewed(
    engine: Engine, kind: str
) -> None:
    far = {"Start date": date(9999, 12, 31), "End date": date(9999, 12, 31)}
    rows = table([grand_rounds("GR-1"), grand_rounds("GR-2", **far), grand_rounds("GR-3")])
    data = xlsx(rows) if kind == "xlsx" else text_file(rows)
    p = preview(engine, data, f"activities.{kind}")
    assert summary(p) == {"added": 2, "errors": 1}
    assert p.first_errors == [
        "row 3, Start date 9999-12-31 is outside the years pars-bot accepts: give a date from "
        "2000 to 2031 (activity `GR-2`)",
        "row 3, End date 9999-12-31 is outside the years pars-bot accepts: give a date from "
        "2000 to 2031 (activity `GR-2`)",
    ]
    apply(engine, p.batch_id)
    assert ids(engine) == ["GR-1", "GR-3"]


@pytest.mark.parametrize("as_of", ["0001-01-01", "9999-12-31"])
def test_counts_as_of_a_date_past_the_calendar_are_refused(engine: Engine, as_of: str) -> None:
    apply(engine, preview(engine, xlsx(table([grand_rounds()]))).batch_id)
    sheet = [["Activity ID", "Physician learners", "Counts as of"], ["GR-2025", 5, as_of]]
    p = preview(engine, xlsx(sheet))
    assert summary(p) == {"errors": 1}
    assert f"row 2, As-of date {as_of} is" in p.first_errors[0]


def test_a_nul_deep_in_a_csv_is_one_rows_error_and_the_rest_applies(engine: Engine) -> None:
    # The reader looks for NUL bytes (a binary file) in the first 4,096 characters only; one
    # further on reached PostgreSQL, which refused the whole Apply.
    good = [grand_rounds(f"GR-{n:03}") for n in range(300)]
    rows = table([*good, grand_rounds("GR-NUL", Title="a\x00b")])
    data = text_file(rows)
    assert data.index(b"\x00") > 4096
    p = preview(engine, data, "activities.csv")
    assert summary(p) == {"added": 300, "errors": 1}
    assert p.first_errors == [
        "row 302, Title: holds an invisible control character (U+0000, character 2); type the "
        "value again without it (activity `GR-NUL`)"
    ]
    applied = apply(engine, p.batch_id)
    assert applied.summary.added == 300
    assert len(ids(engine)) == 300 and "GR-NUL" not in ids(engine)


def test_control_characters_in_counts_cells_are_refused(engine: Engine) -> None:
    apply(
        engine, preview(engine, xlsx(table([grand_rounds("GR-1"), grand_rounds("GR-2")]))).batch_id
    )
    sheet = [
        ["Activity ID", "Physician learners", "Counts as of"],
        ["GR-1", "5\x1b", "2025-12-16"],
        ["GR-2", "5", "2025-12-16\x07"],
    ]
    # (A NUL this early makes the reader take the file for a binary one: refused whole.)
    p = preview(engine, text_file(sheet), "counts.csv")
    assert summary(p) == {"errors": 2}
    assert p.first_errors == [
        "row 2, Physician learners: holds an invisible control character (U+001B, character 2); "
        "type the value again without it (activity `GR-1`)",
        "row 3, As-of date: holds an invisible control character (U+0007, character 11); type "
        "the value again without it (activity `GR-2`)",
    ]
    assert counts(engine, "GR-1") == counts(engine, "GR-2") == []


def test_closing_a_running_enduring_material_advises_nothing_the_bot_would_refuse(
    engine: Engine,
) -> None:
    # EM-02 ends 2027-01-14, after today (2026-11-25): counts as of that date are refused, so
    # the row must not advise recording them now.
    row = grand_rounds(
        "EM-02",
        Format="Enduring material",
        **{
            "Start date": date(2025, 1, 15),
            "End date": date(2027, 1, 14),
            "Delivery method": None,
            "City": None,
            "State": None,
            "Country": None,
            "Physician learners": 120,
            "Other learners": 30,
            "Counts as of": date(2025, 12, 31),
            "Status": "Closed",
        },
    )
    shown = preview(engine, xlsx(table([row])))
    errors = " ".join(shown.first_errors)
    assert "`EM-02` ends on 2027-01-14" in errors
    assert "/pars counts" not in errors
    assert "Record them once 2027-01-14 has passed" in errors


def test_every_row_message_names_its_activity(engine: Engine) -> None:
    shown = preview(engine, xlsx(table([grand_rounds("GR-9", **{"End date": "2025-02-30"})])))
    assert shown.first_errors == [
        'row 2, End date: "2025-02-30" is not a real date (activity `GR-9`)'
    ]


# -- a file costs its own size, not the workspace's (issue 15, item 4) --------------------------


def stored_with_counts(engine: Engine, count: int) -> None:
    """`count` activities W-0000… of the workspace, each with a physician count on file."""
    rows = [
        {
            "team_id": TEAM, "activity_id": f"W-{n:04d}", "title": "Stored", "format": "rss",
            "start_date": date(2025, 1, 7), "end_date": date(2025, 12, 16),
            "owner_user_id": ALICE.user_id, "created_at": NOW, "created_by": "U1",
            "updated_at": NOW, "updated_by": "U1", "version": 1,
        }
        for n in range(count)
    ]  # fmt: skip
    with engine.begin() as connection:
        connection.execute(sa.insert(Activity.__table__), rows)
        pks = connection.execute(sa.select(Activity.__table__.c.id)).scalars().all()
        connection.execute(
            sa.insert(LearnerCount.__table__),
            [
                {"team_id": TEAM, "activity_pk": pk, "category": "physician", "count": 3,
                 "as_of": date(2025, 12, 31), "recorded_by": "U1", "recorded_at": NOW}
                for pk in pks
            ],
        )  # fmt: skip


def test_checking_a_file_reads_only_the_activities_it_names(engine: Engine) -> None:
    stored_with_counts(engine, 40)
    rows = [
        BatchRow("Activities", 2, " w-0001", fields={"city": "Evanston"}),
        BatchRow("Activities", 3, "W-0002", counts={"physician": "5"}),
        BatchRow("Activities", 4, "NEW-1", fields={"title": "New"}),
    ]
    with Session(engine) as session:
        workspace = load_workspace(session, TEAM, rows)
    assert sorted(workspace.by_id) == ["w-0001", "w-0002"]
    assert set(workspace.history) == {workspace.by_id[k].id for k in ("w-0001", "w-0002")}
    # What the preview says of such a file is unchanged by reading less.
    data = xlsx(table([{"Activity ID": "w-0001", "City": "Evanston"}]))
    assert summary(preview(engine, data)) == {"updated": 1}


def test_a_file_naming_thousands_of_ids_reads_them_in_chunks(engine: Engine) -> None:
    stored_with_counts(engine, 30)
    named = [f"W-{n:04d}" for n in range(2_500)]  # 30 stored, the rest new
    rows = [
        BatchRow("Activities", n + 2, i, counts={"physician": "5"}) for n, i in enumerate(named)
    ]
    with Session(engine) as session, recording(engine) as statements:
        workspace = load_workspace(session, TEAM, rows)
    assert len(workspace.by_id) == 30 and len(workspace.history) == 30
    reads = [p for s, p in statements if "FROM activity" in s or "FROM learner_count" in s]
    assert 3 <= len(reads) <= 6  # the activities in chunks, and their counts
    assert all(len(p) <= CHUNK + 1 for p in reads)
