"""The one validator: every problem of a change at once, in words, without writing anything."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from storage.errors import Problem
from storage.models import Activity, LearnerCount
from storage.pars.fields import (
    FieldError,
    label,
    parse_count,
    parse_country,
    parse_credits,
    resolve_key,
)
from storage.pars.validation import (
    CLOSED,
    DUPLICATE_ID,
    NOT_PERMITTED,
    Actor,
    check_activity,
    check_close,
    check_counts,
    default_as_of,
)

TODAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 21, 0, tzinfo=UTC)
JANE = Actor("U0JANE")
BOB = Actor("U0BOB")

DRAFT = {
    "activity_id": "GR-2026",
    "title": "Medicine Grand Rounds",
    "format": "rss",
    "start_date": "2026-01-07",
    "end_date": "2026-11-18",
}


def stored(**fields: Any) -> Activity:
    values: dict[str, Any] = {
        "id": 7,
        "team_id": "T1",
        "activity_id": "GR-2026",
        "title": "Medicine Grand Rounds",
        "format": "rss",
        "start_date": date(2026, 1, 7),
        "end_date": date(2026, 11, 18),
        "owner_user_id": JANE.user_id,
        "created_at": NOW,
        "created_by": JANE.user_id,
        "updated_at": NOW,
        "updated_by": JANE.user_id,
    }
    return Activity(**(values | fields))


def nobody(_activity_id: str) -> int | None:
    return None


def problems_of(raw: dict[str, str], *, on: Activity | None = None, actor: Actor = JANE) -> dict:
    checked = check_activity(stored=on, raw=raw, actor=actor, today=TODAY, id_holder=nobody)
    return {p.field: p.message for p in checked.problems}


# --- numbers that say what they mean ----------------------------------------------------------


@pytest.mark.parametrize("text", ["1,5", "0,25", "1e2", "1E1", "$5", "€2", "1.5.1", "1,50"])
def test_credits_refuse_what_they_would_misread(text: str) -> None:
    with pytest.raises(FieldError):
        parse_credits(text)


def test_a_decimal_comma_is_explained() -> None:
    with pytest.raises(FieldError) as error:
        parse_credits("1,5")
    assert "use a dot for decimals (1.5)" in str(error.value)


def test_currency_in_credits_is_explained() -> None:
    with pytest.raises(FieldError) as error:
        parse_credits("$5")
    assert "is an amount of money" in str(error.value)


@pytest.mark.parametrize(("text", "credits"), [("1.5", "1.50"), ("20.25", "20.25"), ("2", "2.00")])
def test_credits_read_as_typed(text: str, credits: str) -> None:
    assert parse_credits(text) == Decimal(credits)


@pytest.mark.parametrize(
    ("text", "count"), [("1,040", 1040), ("1040", 1040), ("12.0", 12), ("1,234,567", 1234567)]
)
def test_counts_accept_thousands_separators_in_their_places(text: str, count: int) -> None:
    assert parse_count(text) == count


@pytest.mark.parametrize("text", ["1,0,4,0", "10,40", "1,04", ",104"])
def test_counts_refuse_commas_out_of_place(text: str) -> None:
    with pytest.raises(FieldError) as error:
        parse_count(text)
    assert "groups of three digits (1,040)" in str(error.value)


def test_a_count_too_large_to_store_gets_a_message_not_a_crash() -> None:
    with pytest.raises(FieldError) as error:
        parse_count("999999999999999999999999999999")
    assert "more than the 10,000,000 learners the bot accepts" in str(error.value)


def test_hours_is_not_a_name_for_credits() -> None:
    assert resolve_key("hours") is None


def test_money_too_large_is_refused() -> None:
    problems = problems_of(DRAFT | {"cme_finder": "yes", "finder_fee": "99999999999999"})
    assert "more than the $10,000,000 the bot accepts" in problems["finder_fee"]


# --- countries ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "code"), [("CAN", "CAN"), ("usa", "USA"), ("Canada", "CAN")])
def test_countries_are_iso_alpha_3(text: str, code: str) -> None:
    assert parse_country(text) == code


def test_ca_is_never_silently_canada() -> None:
    with pytest.raises(FieldError) as error:
        parse_country("CA")
    assert (
        str(error.value)
        == '"CA" is a 2-letter code; PARS takes 3-letter codes; for Canada write CAN'
    )


def test_an_unknown_3_letter_code_is_refused() -> None:
    with pytest.raises(FieldError) as error:
        parse_country("XYZ")
    assert "not an ISO 3166 3-letter country code" in str(error.value)


# --- every problem at once, and contradictions --------------------------------------------------


def test_every_problem_of_a_record_comes_at_once() -> None:
    problems = problems_of(
        DRAFT | {"credits": "1,5", "country": "CA", "end_date": "2026-02-30", "state": "ZZ"}
    )
    assert set(problems) == {"credits", "country", "end_date", "state"}


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        (
            {"commercial_support": "no", "supporters": "Acme:monetary:5000"},
            "supporters",
            "Commercial supporters is given, but Commercial support is no",
        ),
        ({"cme_finder": "no", "finder_fee": "25"}, "finder_fee", "CME Passport fee is given, but"),
        (
            {"cme_finder": "no", "finder_registration": "Open"},
            "finder_registration",
            "Listed in CME Passport is no",
        ),
        (
            {"cme_finder": "no", "finder_url": "https://x.org"},
            "finder_url",
            "CME Passport activity URL is given",
        ),
        (
            {"format": "C", "delivery_method": "live-streamed"},
            "delivery_method",
            "Activity type C means in-person, but Delivery method says live-streamed",
        ),
        (
            {"providership": "direct", "joint_providers": "State Society"},
            "joint_providers",
            "Providership is direct",
        ),
    ],
)
def test_contradictions_are_refused_naming_both_values(
    raw: dict[str, str], field: str, words: str
) -> None:
    problems = problems_of(DRAFT | raw)
    assert words in problems[field]


def test_answering_no_clears_what_depended_on_the_yes() -> None:
    activity = stored(
        cme_finder=True,
        finder_fee=Decimal("25"),
        finder_registration="Open",
        finder_url="https://x.org",
    )
    checked = check_activity(
        stored=activity, raw={"cme_finder": "no"}, actor=JANE, today=TODAY, id_holder=nobody
    )
    assert checked.problems == []
    assert checked.values == {
        "cme_finder": False,
        "finder_fee": None,
        "finder_registration": None,
        "finder_url": None,
    }
    assert checked.cleared == ("finder_fee", "finder_registration", "finder_url")


@pytest.mark.parametrize(
    ("date_text", "words"),
    [("1999-12-31", "from 2000 to 2031"), ("2032-01-01", "outside the years pars-bot accepts")],
)
def test_years_far_outside_reason_are_refused(date_text: str, words: str) -> None:
    problems = problems_of(DRAFT | {"start_date": date_text, "end_date": date_text})
    assert words in problems["start_date"]


def test_a_taken_id_is_a_problem_of_the_id() -> None:
    checked = check_activity(
        stored=None, raw=DRAFT, actor=JANE, today=TODAY, id_holder=lambda _id: 99
    )
    [problem] = checked.problems
    assert problem.code == DUPLICATE_ID and problem.field == "activity_id"


def test_renaming_to_its_own_id_in_another_case_is_no_duplicate() -> None:
    checked = check_activity(
        stored=stored(), raw={"activity_id": "gr-2026"}, actor=JANE, today=TODAY,
        id_holder=lambda _id: 7,
    )  # fmt: skip
    assert checked.problems == []


def test_a_closed_activity_and_a_stranger_are_refused_first() -> None:
    closed = check_activity(
        stored=stored(closed_at=NOW), raw={"credits": "x"}, actor=JANE, today=TODAY,
        id_holder=nobody,
    )  # fmt: skip
    assert [p.code for p in closed.problems] == [CLOSED]
    stranger = check_activity(
        stored=stored(), raw={"title": "Mine now"}, actor=BOB, today=TODAY, id_holder=nobody
    )
    assert [p.code for p in stranger.problems] == [NOT_PERMITTED]


@pytest.mark.parametrize("field", ["activity_id", "owner_user_id"])
def test_id_and_owner_cannot_be_emptied(field: str) -> None:
    assert "cannot be emptied" in problems_of({field: ""}, on=stored())[field]


def test_a_format_without_delivery_drops_it() -> None:
    checked = check_activity(
        stored=stored(delivery_method="in-person"),
        raw={"format": "enduring", "end_date": "2027-06-30"},
        actor=JANE,
        today=TODAY,
        id_holder=nobody,
    )
    assert checked.values["delivery_method"] is None
    assert checked.cleared == ("delivery_method",)


def test_messages_read_well() -> None:
    problems = problems_of(DRAFT | {"format": "enduring", "end_date": "2029-01-07"})
    assert problems["end_date"].startswith("An enduring material may span at most 3 years")


# --- learner counts ----------------------------------------------------------------------------


def history_row(count: int, as_of: str, category: str = "physician", n: int = 1) -> LearnerCount:
    return LearnerCount(
        id=n,
        team_id="T1",
        activity_pk=7,
        category=category,
        count=count,
        as_of=date.fromisoformat(as_of),
        recorded_by="U0JANE",
        recorded_at=NOW,
    )


ENDURING = {"format": "enduring", "start_date": date(2024, 1, 1), "end_date": date(2026, 6, 30)}


def test_an_as_of_after_the_end_date_is_refused() -> None:
    checked = check_counts(
        stored=stored(), counts={"physician": "5"}, as_of="2026-11-20", actor=JANE,
        today=TODAY, history=[],
    )  # fmt: skip
    [problem] = checked.problems
    assert "after the end date 2026-11-18: counting stops when the activity ends" in (
        problem.message
    )


def test_an_ended_enduring_material_counts_as_of_its_end_date() -> None:
    assert default_as_of(stored(**ENDURING), TODAY) == date(2026, 6, 30)
    running = stored(**(ENDURING | {"end_date": date(2027, 6, 30)}))
    assert default_as_of(running, TODAY) == date(2025, 12, 31)


@pytest.mark.parametrize(
    ("on_file", "entered", "as_of"),
    [
        ((600, "2024-12-31"), "500", "2025-12-31"),  # lower than an earlier date's figure
        ((600, "2025-12-31"), "700", "2024-12-31"),  # higher than a later date's figure
    ],
)
def test_a_cumulative_count_that_would_go_down_is_asked_about_in_either_order(
    on_file: tuple[int, str], entered: str, as_of: str
) -> None:
    checked = check_counts(
        stored=stored(**ENDURING), counts={"physician": entered}, as_of=as_of, actor=JANE,
        today=TODAY, history=[history_row(*on_file)],
    )  # fmt: skip
    assert checked.problems == []
    [lower] = checked.lower
    assert lower.category == "Physician learners"


def test_a_consistent_earlier_count_is_not_asked_about() -> None:
    checked = check_counts(
        stored=stored(**ENDURING), counts={"physician": "500"}, as_of="2024-12-31", actor=JANE,
        today=TODAY, history=[history_row(600, "2025-12-31")],
    )  # fmt: skip
    assert (checked.problems, checked.lower) == ([], [])


# --- closing -----------------------------------------------------------------------------------

COMPLETE = {
    "delivery_method": "in-person",
    "city": "Chicago",
    "state": "IL",
    "country": "USA",
    "credits": Decimal("1"),
    "description": "Weekly case conference",
    "providership": "direct",
    "cme_finder": False,
    "outcome_measures": ["knowledge"],
    "commercial_support": False,
}


def test_closing_before_the_end_says_so_and_what_else_is_missing() -> None:
    running = stored(end_date=date(2026, 12, 31))
    problems = check_close(stored=running, actor=JANE, today=TODAY, counted={})
    messages = " ".join(p.message for p in problems)
    assert "ends on 2026-12-31; an activity can be closed only after its end date" in messages
    assert "PARS still needs for *Active*: Delivery method" in messages
    assert "Physician learners, Other learners" in messages


def test_an_enduring_material_closes_with_counts_as_of_its_end_date() -> None:
    material = stored(**(COMPLETE | ENDURING | {"delivery_method": None}))
    counted = {"physician": date(2025, 12, 31), "other": date(2025, 12, 31)}
    [problem] = check_close(stored=material, actor=JANE, today=TODAY, counted=counted)
    assert problem.message.startswith(
        "An enduring material closes with its final cumulative counts, as of its end date "
        "2026-06-30"
    )
    final = {"physician": date(2026, 6, 30), "other": date(2026, 6, 30)}
    assert check_close(stored=material, actor=JANE, today=TODAY, counted=final) == []


def test_the_validator_writes_nothing() -> None:
    activity = stored()
    before = dict(vars(activity))
    check_activity(
        stored=activity, raw={"title": "New", "credits": "2"}, actor=JANE, today=TODAY,
        id_holder=nobody,
    )  # fmt: skip
    assert activity.title == "Medicine Grand Rounds"
    assert {k: v for k, v in vars(activity).items() if k != "_sa_instance_state"} == {
        k: v for k, v in before.items() if k != "_sa_instance_state"
    }


def test_problem_equality_includes_its_code() -> None:
    assert Problem("a", "b") != Problem("a", "b", CLOSED)


# --- dates no rule can compute with -----------------------------------------------------------


@pytest.mark.parametrize("fmt", ["rss", "enduring"])
@pytest.mark.parametrize("day", ["9999-12-31", "9998-06-01", "0001-01-01"])
def test_a_date_outside_the_accepted_years_is_one_field_error_not_a_crash(
    fmt: str, day: str
) -> None:
    problems = problems_of(DRAFT | {"format": fmt, "start_date": day, "end_date": day})
    assert set(problems) == {"start_date", "end_date"}
    assert f"Start date {day} is outside the years pars-bot accepts" in problems["start_date"]
    assert "give a date from 2000 to 2031" in problems["end_date"]


def test_an_edit_to_a_far_future_end_date_is_refused_on_that_field() -> None:
    enduring = stored(format="enduring", start_date=date(2026, 1, 7), end_date=date(2026, 6, 30))
    assert set(problems_of({"end_date": "9999-12-31"}, on=enduring)) == {"end_date"}
    assert set(problems_of({"start_date": "9999-12-31"}, on=enduring)) == {"start_date"}


@pytest.mark.parametrize(
    ("as_of", "words"),
    [("0001-01-01", "before the start date 2026-01-07"), ("9999-12-31", "after the end date")],
)
def test_counts_as_of_a_date_outside_the_accepted_years_are_refused(as_of: str, words: str) -> None:
    # An as-of date is only compared, never computed with: the activity's dates bound it.
    checked = check_counts(
        stored=stored(), counts={"physician": "5"}, as_of=as_of, actor=JANE, today=TODAY,
        history=[],
    )  # fmt: skip
    [problem] = checked.problems
    assert problem.field == "as_of" and words in problem.message


# --- control characters -----------------------------------------------------------------------


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x0e", "\x1f", "\x7f"])
@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("title", "Grand{}Rounds"),
        ("description", "Weekly{}case conference"),
        ("city", "Chi{}cago"),
        ("activity_id", "GR{}-2026"),
        ("format", "rss{}"),
        ("credits", "1{}"),
        ("supporters", "Acme{}:in-kind"),
        ("finder_url", "https://x.org/{}"),
        ("owner_user_id", "U0JANE{}"),
    ],
)
def test_a_control_character_is_refused_naming_its_field(name: str, text: str, char: str) -> None:
    problems = problems_of(DRAFT | {name: text.format(char)}, on=stored())
    code = f"U+{ord(char):04X}"
    assert problems == {
        name: f"{label(name)}: holds an invisible control character ({code}, character "
        f"{text.index('{}') + 1}); type the value again without it"
    }


@pytest.mark.parametrize(
    "char", ["\x80", "\x85", "\x9f", "\ud800", "\u202a", "\u202e", "\u2066", "\u2069"]
)
def test_c1_controls_and_lone_surrogates_are_refused_too(char: str) -> None:
    # Never typed: they come from text decoded with the wrong code page (or from a forged
    # request), and a lone surrogate cannot be encoded for either database.
    problems = problems_of(DRAFT | {"title": f"Caf{char}"})
    assert f"U+{ord(char):04X}" in problems["title"]


def test_tabs_and_line_breaks_are_text() -> None:
    checked = check_activity(
        stored=None, raw=DRAFT | {"description": "Cases\tand\r\nanswers"}, actor=JANE,
        today=TODAY, id_holder=nobody,
    )  # fmt: skip
    assert checked.problems == []
    assert checked.values["description"] == "Cases\tand\r\nanswers"


def test_a_control_character_in_counts_is_refused_naming_the_count() -> None:
    checked = check_counts(
        stored=stored(), counts={"physician": "5\x00", "other": "3"}, as_of="2026-11-18\x07",
        actor=JANE, today=TODAY, history=[],
    )  # fmt: skip
    assert {p.field: p.message for p in checked.problems} == {
        "learners_physician": "Physician learners: holds an invisible control character "
        "(U+0000, character 2); type the value again without it",
        "as_of": "As-of date: holds an invisible control character (U+0007, character 11); "
        "type the value again without it",
    }
