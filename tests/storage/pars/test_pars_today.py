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
