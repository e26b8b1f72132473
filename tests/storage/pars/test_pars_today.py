"""The activity record as PARS asks it today (shared/PARS.md, "Today's activity record")."""

from __future__ import annotations

import pytest

from storage.pars.fields import parse_values, resolve_key


def parsed(raw: dict[str, str]) -> dict[str, object]:
    values, problems = parse_values(raw)
    assert problems == [], problems
    return values


def refused(name: str, text: str) -> str:
    values, problems = parse_values({name: text})
    [p] = problems
    assert p.field == name and name not in values
    return p.message


# --- CME Passport ----------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["passport", "finder", "cme-finder", "cme-passport"])
def test_passport_is_the_key_and_finder_an_alias(key: str) -> None:
    spec = resolve_key(key)
    assert spec is not None and spec.name == "cme_finder" and spec.key == "passport"


@pytest.mark.parametrize(
    ("text", "fee"),
    [
        ("yes", "yes"),
        ("Yes", "yes"),
        ("free", "free"),
        ("No, it's free", "free"),
        ("no", "free"),
        ("variable", "variable"),
        ("Variable", "variable"),
        # What the bot took until now: an amount means there is a fee, 0 that there is none.
        ("250", "yes"),
        ("$49.99", "yes"),
        ("0", "free"),
    ],
)
def test_the_fee_is_whether_there_is_one(text: str, fee: str) -> None:
    assert parsed({"finder_fee": text})["finder_fee"] == fee


def test_a_fee_amount_is_read_as_yes_with_a_note() -> None:
    from storage.pars.fields import input_notes

    assert input_notes({"finder_fee": "250"}) == [
        'CME Passport fee: "250" read as *Yes*; PARS asks only whether there is a fee'
    ]
    assert input_notes({"finder_fee": "0"}) == [
        'CME Passport fee: "0" read as *No, it\'s free*; PARS asks only whether there is a fee'
    ]
    assert input_notes({"finder_fee": "variable"}) == []


def test_another_fee_is_refused_naming_the_three() -> None:
    assert "yes, free, variable" in refused("finder_fee", "sometimes")


@pytest.mark.parametrize(
    ("text", "code"),
    [("open", "open"), ("Open to all", "open"), ("limited", "limited"), ("Limited", "limited")],
)
def test_registration_is_open_or_limited(text: str, code: str) -> None:
    assert parsed({"finder_registration": text})["finder_registration"] == code


def test_another_registration_is_refused_naming_the_two() -> None:
    assert '"members only" is not one of: open, limited' in refused(
        "finder_registration", "members only"
    )


# --- delivery method -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "methods"),
    [
        ("in-person", ["in-person"]),
        ("live-streamed", ["live-streamed"]),
        ("in-person,live-streamed", ["in-person", "live-streamed"]),
        ("Live-Streamed; In-Person", ["in-person", "live-streamed"]),
        ("In-Person + Live-Streamed", ["in-person", "live-streamed"]),
        ("hybrid", ["in-person", "live-streamed"]),
        ("Hybrid (in person and live-streamed)", ["in-person", "live-streamed"]),
    ],
)
def test_delivery_is_a_set_and_hybrid_is_both(text: str, methods: list[str]) -> None:
    assert parsed({"delivery_method": text})["delivery_method"] == methods


def test_an_unknown_delivery_method_is_refused_naming_the_methods() -> None:
    assert '"by post" is not a delivery method; use any of: in-person, live-streamed' in refused(
        "delivery_method", "in-person, by post"
    )


def test_location_is_needed_when_in_person_is_one_of_the_methods() -> None:
    from storage.pars import rules
    from storage.pars.validation import RecordView

    base = {
        "title": "GR",
        "format": "rss",
        "start_date": "x",
        "end_date": "x",
        "credits": 1,
        "description": "d",
        "providership": "direct",
        "cme_finder": False,
    }
    both = RecordView(base | {"delivery_method": ["in-person", "live-streamed"]})
    assert rules.missing_for_active(both) == ["city", "country", "state"]
    assert rules.applies("city", both)
    streamed = RecordView(base | {"delivery_method": ["live-streamed"]})
    assert rules.missing_for_active(streamed) == []
    assert not rules.applies("city", streamed)


# --- outcome measures ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "measures"),
    [
        ("knowledge:objective,patient-health", ["knowledge:objective", "patient-health"]),
        ("Learner Knowledge; Patient Health", ["knowledge", "patient-health"]),
        ("competence:subjective", ["competence:subjective"]),
        ("performance:objective+subjective", ["performance:objective+subjective"]),
        ("performance:both", ["performance:objective+subjective"]),
        ("knowledge:objective, knowledge:subjective", ["knowledge:objective+subjective"]),
        (
            "Learner Knowledge (Objective); Community Health",
            ["knowledge:objective", "community-health"],
        ),
        # Today's names, on every path in.
        ("knowledge,patient-outcomes", ["knowledge", "patient-health"]),
        ("Patient outcomes; Community/population health", ["patient-health", "community-health"]),
        ("Change in competence", ["competence"]),
    ],
)
def test_outcomes_carry_pars_labels_and_objective_or_subjective(
    text: str, measures: list[str]
) -> None:
    assert parsed({"outcome_measures": text})["outcome_measures"] == measures


def test_an_unknown_kind_of_measure_is_refused_naming_the_kinds() -> None:
    message = refused("outcome_measures", "knowledge:anecdotal")
    assert '"knowledge:anecdotal"' in message and ":objective, :subjective or :both" in message


def test_outcomes_are_shown_with_pars_labels() -> None:
    from storage.pars.fields import outcome_label

    assert outcome_label("knowledge:objective+subjective") == (
        "Learner Knowledge (Objective, Subjective)"
    )
    assert outcome_label("patient-health") == "Patient Health"


# --- limits ----------------------------------------------------------------------------------


def test_a_description_is_at_most_2500_characters() -> None:
    assert parsed({"description": "x" * 2500})["description"] == "x" * 2500
    assert "is 2501 characters long; at most 2500 fit" in refused("description", "x" * 2501)


def test_commercial_support_is_in_whole_dollars() -> None:
    assert parsed({"supporters": "Acme:monetary:5,000"})["supporters"] == [
        {"name": "Acme", "kind": "monetary", "amount": "5000.00"}
    ]
    assert "whole dollars" in refused("supporters", "Acme:monetary:5000.50")


@pytest.mark.parametrize("text", ["AB-123", "12 34", "2012x"])
def test_the_accme_activity_id_is_digits_only(text: str) -> None:
    assert "digits only" in refused("accme_activity_id", text)


def test_the_accme_activity_id_from_a_spreadsheet_number() -> None:
    assert parsed({"accme_activity_id": "201234567.0"})["accme_activity_id"] == "201234567"


def test_the_unconfirmed_rules_are_one_table() -> None:
    from storage.pars.rules import UNCONFIRMED

    assert UNCONFIRMED.description_max == 2500 and UNCONFIRMED.whole_dollar_support


def test_the_template_example_rss_has_the_credits_of_the_whole_series() -> None:
    import io

    from openpyxl import load_workbook

    from storage.sheets.workbooks import template_workbook

    sheet = load_workbook(io.BytesIO(template_workbook()))["Activities"]
    row = dict(zip([c.value for c in sheet[1]], [c.value for c in sheet[2]], strict=True))
    assert row["Format"] == "Regularly scheduled series"
    assert row["AMA PRA Category 1 credits"] == 52
