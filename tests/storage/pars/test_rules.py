"""The PARS rules of shared/PARS.md: statuses, the fields each status needs, span limits."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from storage.pars import rules
from storage.pars.fields import label
from storage.pars.rules import Status
from storage.pars.validation import check_record

# A live course, complete enough to be Active: in person in Chicago, not listed in CME Finder.
ACTIVE_LIVE_COURSE: dict[str, Any] = {
    "title": "Cardiology Update 2026",
    "format": "live-course",
    "delivery_method": ["in-person"],
    "start_date": date(2026, 3, 5),
    "end_date": date(2026, 3, 6),
    "city": "Chicago",
    "state": "IL",
    "country": "USA",
    "credits": Decimal("12.50"),
    "description": "Two-day update on heart failure care",
    "providership": "direct",
    "joint_providers": None,
    "cme_finder": False,
    "finder_fee": None,
    "finder_registration": None,
    "finder_url": None,
    "outcome_measures": None,
    "commercial_support": None,
    "supporters": None,
    "moc": None,
    "moc_boards": None,
    "moc_attested": None,
}
# ...and what closing it needs on top.
CLOSE_EXTRAS: dict[str, Any] = {
    "outcome_measures": ["knowledge", "competence"],
    "commercial_support": False,
}
BOTH_COUNTED = {"physician", "other"}


def activity(**overrides: Any) -> SimpleNamespace:
    return SimpleNamespace(**(ACTIVE_LIVE_COURSE | overrides))


def closable(**overrides: Any) -> SimpleNamespace:
    return activity(**(CLOSE_EXTRAS | overrides))


# --- derive_status ---------------------------------------------------------------------------


def test_status_is_draft_while_a_field_for_active_is_missing() -> None:
    a = activity(credits=None)
    assert rules.derive_status(a, closed=False, today=date(2026, 1, 1)) is Status.DRAFT
    # Even after the end date: a Draft is not Ready to Close.
    assert rules.derive_status(a, closed=False, today=date(2026, 12, 1)) is Status.DRAFT


def test_status_is_active_until_the_end_date_has_passed() -> None:
    a = activity()
    assert rules.derive_status(a, closed=False, today=date(2026, 1, 1)) is Status.ACTIVE
    # On the end date itself the activity is still running.
    assert rules.derive_status(a, closed=False, today=date(2026, 3, 6)) is Status.ACTIVE


def test_status_is_ready_to_close_the_day_after_the_end_date() -> None:
    a = activity()
    assert rules.derive_status(a, closed=False, today=date(2026, 3, 7)) is Status.READY_TO_CLOSE


def test_status_is_ready_to_close_even_when_close_fields_are_missing() -> None:
    # Ready to Close needs the Active fields only; outcome measures etc. are for closing.
    a = activity(outcome_measures=None, commercial_support=None)
    assert rules.derive_status(a, closed=False, today=date(2026, 4, 1)) is Status.READY_TO_CLOSE


def test_closed_wins_over_everything() -> None:
    a = activity(credits=None)
    assert rules.derive_status(a, closed=True, today=date(2026, 1, 1)) is Status.CLOSED


def test_status_names_are_the_pars_names() -> None:
    assert [s.value for s in Status] == ["Draft", "Active", "Ready to Close", "Closed"]


# --- missing_for_draft / missing_for_active --------------------------------------------------


def test_draft_needs_title_format_and_both_dates() -> None:
    a = activity(title="", format=None, start_date=None, end_date=None)
    assert rules.missing_for_draft(a) == ["title", "format", "start_date", "end_date"]


def test_a_complete_active_live_course_misses_nothing() -> None:
    assert rules.missing_for_active(activity()) == []


def test_active_needs_credits_description_providership_and_finder_choice() -> None:
    a = activity(credits=None, description="", providership=None, cme_finder=None)
    assert rules.missing_for_active(a) == ["credits", "description", "providership", "cme_finder"]


@pytest.mark.parametrize("fmt", ["live-course", "rss"])
def test_live_course_and_rss_need_a_delivery_method(fmt: str) -> None:
    a = activity(format=fmt, delivery_method=None, city=None, state=None, country=None)
    assert rules.missing_for_active(a) == ["delivery_method"]


@pytest.mark.parametrize(
    "fmt",
    [code for code, f in rules.FORMATS.items() if code not in ("live-course", "rss")],
)
def test_other_formats_need_no_delivery_method_nor_location(fmt: str) -> None:
    a = activity(format=fmt, delivery_method=None, city=None, state=None, country=None)
    assert rules.missing_for_active(a) == []


def test_only_live_course_and_rss_have_a_delivery_method() -> None:
    assert {c for c, f in rules.FORMATS.items() if f.has_delivery_method} == {"live-course", "rss"}


@pytest.mark.parametrize("delivery", [["in-person"], ["in-person", "live-streamed"]])
def test_in_person_and_hybrid_need_city_state_and_country(delivery: list[str]) -> None:
    a = activity(delivery_method=delivery, city=None, state=None, country=None)
    missing = rules.missing_for_active(a)
    assert set(missing) == {"city", "state", "country"}


def test_live_streamed_needs_no_location() -> None:
    a = activity(delivery_method=["live-streamed"], city=None, state=None, country=None)
    assert rules.missing_for_active(a) == []


def test_state_is_required_in_the_usa() -> None:
    a = activity(state=None, country="USA")
    assert rules.missing_for_active(a) == ["state"]


def test_state_is_not_required_outside_the_usa() -> None:
    a = activity(city="Toronto", state=None, country="CAN")
    assert rules.missing_for_active(a) == []


def test_cme_finder_no_needs_nothing_more() -> None:
    assert rules.missing_for_active(activity(cme_finder=False)) == []


def test_cme_finder_yes_needs_fee_registration_and_url() -> None:
    a = activity(cme_finder=True)
    assert rules.missing_for_active(a) == ["finder_fee", "finder_registration", "finder_url"]


def test_a_fee_of_zero_counts_as_given() -> None:
    a = activity(
        cme_finder=True,
        finder_fee=Decimal("0.00"),
        finder_registration="Open to all",
        finder_url="https://cme.example.org/cardio",
    )
    assert rules.missing_for_active(a) == []


def test_active_does_not_need_the_close_fields() -> None:
    a = activity(providership="joint", joint_providers=None, moc=True)
    assert rules.missing_for_active(a) == []


# --- missing_for_close -----------------------------------------------------------------------


def test_a_complete_activity_misses_nothing_to_close() -> None:
    assert rules.missing_for_close(closable(), BOTH_COUNTED) == []


def test_close_needs_everything_active_needs() -> None:
    assert rules.missing_for_close(closable(description=None), BOTH_COUNTED) == ["description"]


def test_close_needs_outcome_measures_and_commercial_support_answer() -> None:
    a = closable(outcome_measures=[], commercial_support=None)
    assert rules.missing_for_close(a, BOTH_COUNTED) == ["outcome_measures", "commercial_support"]


def test_joint_providership_needs_a_joint_provider_to_close() -> None:
    assert rules.missing_for_close(closable(providership="joint"), BOTH_COUNTED) == [
        "joint_providers"
    ]
    named = closable(providership="joint", joint_providers=["State Medical Society"])
    assert rules.missing_for_close(named, BOTH_COUNTED) == []


def test_direct_providership_needs_no_joint_provider() -> None:
    assert rules.missing_for_close(closable(providership="direct"), BOTH_COUNTED) == []


def test_commercial_support_yes_needs_a_supporter() -> None:
    assert rules.missing_for_close(closable(commercial_support=True), BOTH_COUNTED) == [
        "supporters"
    ]
    supported = closable(
        commercial_support=True,
        supporters=[{"name": "Acme Pharma", "kind": "monetary", "amount": "5000.00"}],
    )
    assert rules.missing_for_close(supported, BOTH_COUNTED) == []


def test_commercial_support_no_needs_no_supporter() -> None:
    assert rules.missing_for_close(closable(commercial_support=False), BOTH_COUNTED) == []


@pytest.mark.parametrize(
    ("counted", "missing"),
    [
        (set(), ["learners_physician", "learners_other"]),
        ({"physician"}, ["learners_other"]),
        ({"other"}, ["learners_physician"]),
    ],
)
def test_close_needs_both_learner_counts(counted: set[str], missing: list[str]) -> None:
    assert rules.missing_for_close(closable(), counted) == missing


def _entry(board: str, points: str | None = "1", *types: str) -> dict[str, Any]:
    return {"board": board, "points": points, "credit_types": list(types), "claim_date": None}


def test_moc_yes_needs_a_complete_board_entry_and_the_attestation() -> None:
    a = closable(moc=True)
    assert rules.missing_for_close(a, BOTH_COUNTED) == ["moc_boards", "moc_attested"]
    registered = closable(
        moc=True, moc_boards=[_entry("ABIM", "1", "Medical Knowledge")], moc_attested=True
    )
    assert rules.missing_for_close(registered, BOTH_COUNTED) == []


def test_each_board_entry_needs_its_points_and_credit_types() -> None:
    a = closable(
        moc=True,
        moc_boards=[_entry("ABIM", "1", "Medical Knowledge"), _entry("ABP", None)],
        moc_attested=False,
    )
    missing = rules.missing_for_close(a, BOTH_COUNTED)
    assert missing == ["moc_boards:ABP:points", "moc_boards:ABP:credit_types", "moc_attested"]
    assert [label(m) for m in missing] == [
        "MOC points (ABP)",
        "MOC credit types (ABP)",
        "MOC attestation of compliance",
    ]


@pytest.mark.parametrize("moc", [False, None])
def test_moc_details_not_needed_unless_registered(moc: bool | None) -> None:
    assert rules.missing_for_close(closable(moc=moc), BOTH_COUNTED) == []


# --- span limits -----------------------------------------------------------------------------


def record(fmt: str, start: date, end: date) -> dict[str, Any]:
    return {"title": "T", "format": fmt, "start_date": start, "end_date": end}


def span_problems(fmt: str, start: date, end: date) -> list[str]:
    problems = check_record(record(fmt, start, end), {"format", "start_date", "end_date"})
    return [p.message for p in problems if p.field == "end_date"]


def test_enduring_material_may_run_three_years() -> None:
    start = date(2025, 1, 7)
    assert span_problems("enduring", start, date(2028, 1, 6)) == []
    [message] = span_problems("enduring", start, date(2028, 1, 7))
    assert message == (
        "An enduring material may span at most 3 years: starting 2025-01-07, it may end on "
        "2028-01-06 at the latest, not 2028-01-07"
    )


@pytest.mark.parametrize(
    "fmt", [code for code, f in rules.FORMATS.items() if code != rules.ENDURING]
)
def test_every_other_format_may_run_one_year(fmt: str) -> None:
    start = date(2025, 1, 7)
    assert span_problems(fmt, start, date(2026, 1, 6)) == []
    [message] = span_problems(fmt, start, date(2026, 1, 7))
    assert "1 year" in message and "end on 2026-01-06 at the latest" in message


def test_an_rss_over_a_year_is_told_to_split() -> None:
    [message] = span_problems("rss", date(2025, 1, 7), date(2026, 6, 30))
    assert "split" in message


def test_end_before_start_is_refused() -> None:
    [message] = span_problems("live-course", date(2025, 3, 6), date(2025, 3, 5))
    assert "before the start date" in message


def test_a_one_day_activity_is_fine() -> None:
    assert span_problems("live-course", date(2025, 3, 6), date(2025, 3, 6)) == []


def test_span_from_29_february_ends_on_28_february() -> None:
    assert rules.latest_end("rss", date(2024, 2, 29)) == date(2025, 2, 28)
    assert rules.latest_end("enduring", date(2024, 2, 29)) == date(2027, 2, 28)
    assert rules.latest_end("enduring", date(2023, 3, 1)) == date(2026, 2, 28)


@pytest.mark.parametrize(
    ("fmt", "start", "end", "accepted"),
    [
        ("rss", date(2025, 1, 1), date(2025, 12, 31), True),
        ("rss", date(2025, 1, 1), date(2026, 1, 1), False),
        ("enduring", date(2024, 1, 1), date(2026, 12, 31), True),
        ("enduring", date(2024, 1, 1), date(2027, 1, 1), False),
    ],
)
def test_a_one_year_span_ends_the_day_before_the_anniversary(
    fmt: str, start: date, end: date, accepted: bool
) -> None:
    assert (span_problems(fmt, start, end) == []) is accepted


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 11, 25), date(2025, 12, 31)),
        (date(2026, 1, 1), date(2025, 12, 31)),
        (date(2026, 12, 31), date(2025, 12, 31)),  # not yet over
        (date(2027, 1, 1), date(2026, 12, 31)),
        (date(2024, 2, 29), date(2023, 12, 31)),
    ],
)
def test_last_december_31_is_the_latest_that_has_fully_passed(today: date, expected: date) -> None:
    assert rules.last_december_31(today) == expected
    assert rules.last_december_31(today) < today
    assert today - rules.last_december_31(today) <= timedelta(days=366)


def test_has_ended_only_after_the_end_date() -> None:
    a = activity(end_date=date(2026, 3, 6))
    assert not rules.has_ended(a, date(2026, 3, 6))
    assert rules.has_ended(a, date(2026, 3, 7))


# --- applies ---------------------------------------------------------------------------------


def test_fields_that_apply_follow_format_delivery_and_yes_answers() -> None:
    live = activity()
    assert all(rules.applies(f, live) for f in ("delivery_method", "city", "state", "country"))
    assert not any(rules.applies(f, live) for f in ("finder_url", "supporters", "moc_boards"))
    streamed = activity(delivery_method="live-streamed")
    assert rules.applies("delivery_method", streamed) and not rules.applies("city", streamed)
    enduring = activity(format="enduring", delivery_method=None)
    assert not rules.applies("delivery_method", enduring) and not rules.applies("city", enduring)
    opened = activity(cme_finder=True, commercial_support=True, providership="joint", moc=True)
    assert all(
        rules.applies(f, opened)
        for f in ("finder_fee", "finder_url", "supporters", "joint_providers", "moc_boards")
    )
    assert rules.applies("title", enduring)


def test_the_span_limit_of_a_start_near_the_calendars_end_is_no_crash() -> None:
    # The validator refuses such dates first; the rule itself must still answer.
    assert rules.latest_end("enduring", date(9998, 6, 1)) == date.max
    assert rules.latest_end("rss", date(9999, 12, 31)) == date.max


def test_the_accepted_years_run_from_2000_to_five_years_ahead() -> None:
    assert rules.accepted_years(date(2026, 11, 25)) == range(2000, 2032)
