"""Text as staff type it -> field values, with every problem reported at once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.pars import fields
from storage.pars.fields import input_notes, parse_values, render, resolve_key, suggest_key


def parsed(name: str, text: str) -> object:
    values, problems = parse_values({name: text})
    assert problems == [], problems
    return values[name]


def problem(name: str, text: str) -> str:
    values, problems = parse_values({name: text})
    assert name not in values
    [p] = problems
    assert p.field == name
    return p.message


# --- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-07", date(2025, 1, 7)),
        ("2025-1-7", date(2025, 1, 7)),
        (" 2025-12-16 ", date(2025, 12, 16)),
        ("1/7/2025", date(2025, 1, 7)),
        ("01/07/2025", date(2025, 1, 7)),
        ("12/16/2025", date(2025, 12, 16)),
        ("2/29/2024", date(2024, 2, 29)),
    ],
)
def test_dates_in_both_forms(text: str, expected: date) -> None:
    assert parsed("start_date", text) == expected


def test_slash_dates_are_month_first_as_in_pars_files() -> None:
    assert parsed("end_date", "3/4/2025") == date(2025, 3, 4)


@pytest.mark.parametrize("text", ["2025-02-30", "2/29/2025", "13/1/2025", "2025-13-01", "0/1/2025"])
def test_impossible_dates_are_called_not_real(text: str) -> None:
    assert "is not a real date" in problem("start_date", text)


@pytest.mark.parametrize("text", ["7 Jan 2025", "2025/01/07", "1-7-2025", "1/7/25", "tomorrow"])
def test_other_date_shapes_name_the_accepted_forms(text: str) -> None:
    message = problem("end_date", text)
    assert "YYYY-MM-DD or M/D/YYYY" in message
    assert message.startswith("End date:")


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)))
def test_any_date_round_trips_through_both_forms(d: date) -> None:
    assert fields.parse_date(d.isoformat()) == d
    assert fields.parse_date(f"{d.month}/{d.day}/{d.year}") == d
    assert fields.parse_date(d.strftime("%m/%d/%Y")) == d
    assert fields.parse_date(render(d)) == d


# --- numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", "1.00"), ("1.5", "1.50"), ("20.25", "20.25"), ("0.25", "0.25"), ("1000", "1000.00")],
)
def test_credits(text: str, expected: str) -> None:
    assert parsed("credits", text) == Decimal(expected)


@pytest.mark.parametrize("text", ["1.3", "0.1", "2.2"])
def test_credits_must_be_a_multiple_of_a_quarter(text: str) -> None:
    assert "not a multiple of 0.25" in problem("credits", text)


@pytest.mark.parametrize("text", ["0", "-1", "1000.25"])
def test_credits_must_be_more_than_zero(text: str) -> None:
    assert "more than 0" in problem("credits", text)


@pytest.mark.parametrize("text", ["one", "NaN", "Infinity", "1.5 hours"])
def test_credits_not_a_number(text: str) -> None:
    assert "is not a number" in problem("credits", text)


@given(st.decimals(min_value=-10, max_value=1010, places=2, allow_nan=False))
def test_credits_accepted_iff_a_quarter_multiple_in_range(number: Decimal) -> None:
    values, problems = parse_values({"credits": str(number)})
    valid = Decimal(0) < number <= Decimal(1000) and number % Decimal("0.25") == 0
    if valid:
        assert problems == []
        assert values["credits"] == number
    else:
        assert [p.field for p in problems] == ["credits"]


def test_moc_points_follow_the_credit_rules() -> None:
    assert parsed("moc_boards", "ABIM:1.75:Medical Knowledge") == [
        {
            "board": "ABIM",
            "points": "1.75",
            "credit_types": ["Medical Knowledge"],
            "claim_date": None,
        }
    ]
    assert "not a multiple of 0.25" in problem("moc_boards", "ABIM:1.7")
    assert "must be more than 0" in problem("moc_boards", "ABIM:0")


def test_moc_boards_one_entry_per_board_any_order_any_case() -> None:
    assert parsed(
        "moc_boards",
        "abim:medical knowledge+Practice Assessment:1.5:6/30/2026; ABPath:2:Lifelong Learning",
    ) == [
        {
            "board": "ABIM",
            "points": "1.5",
            "credit_types": ["Medical Knowledge", "Practice Assessment"],
            "claim_date": "2026-06-30",
        },
        {
            "board": "ABPath",
            "points": "2",
            "credit_types": ["Lifelong Learning"],
            "claim_date": None,
        },
    ]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "ABMI:1:Medical Knowledge",
            'entry "ABMI:1:Medical Knowledge": "ABMI" is not a certifying',
        ),
        ("ABMI:1", "did you mean ABIM?"),
        ("ABIM:1; abim:2", "ABIM is given twice: one entry per board"),
        ("ABIM:1:2", "ABIM is given two points"),
        (":1:Medical Knowledge", "names no board"),
        ("ABIM:1,5", "use a dot for decimals"),
    ],
)
def test_moc_boards_refused_naming_the_entry_and_the_fix(text: str, said: str) -> None:
    assert said in problem("moc_boards", text)


def test_a_credit_type_not_on_the_boards_list_is_kept_with_a_note() -> None:
    raw = {"moc_boards": "ABIM:1:Medical Knowlege"}
    assert parsed("moc_boards", raw["moc_boards"])[0]["credit_types"] == ["Medical Knowlege"]
    assert input_notes(raw) == [
        "MOC credit types kept as typed, not on the bot's (unconfirmed) list of the board's "
        'types: "Medical Knowlege" for ABIM (did you mean Medical Knowledge?)'
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0", "free"), ("150", "yes"), ("$49.99", "yes"), ("1,250", "yes"), ("Free", "free")],
)
def test_finder_fee(text: str, expected: str) -> None:
    # The CME Passport asks whether there is a fee; an amount, as taken until now, says which.
    assert parsed("finder_fee", text) == expected


def test_a_negative_fee_is_refused() -> None:
    assert "cannot be negative" in problem("finder_fee", "-5")


# --- choices ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rss", "rss"),
        ("Regularly scheduled series", "rss"),
        ("Enduring material", "enduring"),
        ("live course", "live-course"),
        ("Live_Course", "live-course"),
        ("Journal CME", "journal"),
        ("Performance/quality improvement", "pi"),
        ("Internet searching and learning", "isl"),
        ("Other/blended learning", "other"),
    ],
)
def test_formats_by_code_label_or_alias(text: str, expected: str) -> None:
    assert parsed("format", text) == expected


@pytest.mark.parametrize(
    ("code", "fmt", "delivery"),
    [
        ("C", "live-course", "in-person"),
        ("IL", "live-course", "live-streamed"),
        ("RSS", "rss", None),
        ("EM", "enduring", None),
        ("IEM", "enduring", None),
        ("JN", "journal", None),
        ("MR", "manuscript-review", None),
        ("TIW", "test-item-writing", None),
        ("CML", "committee-learning", None),
        ("PI", "pi", None),
        ("ISL", "isl", None),
        ("LFT", "lft", None),
    ],
)
def test_legacy_activity_type_codes(code: str, fmt: str, delivery: str | None) -> None:
    for text in (code, code.lower(), f" {code} "):
        values, problems = parse_values({"format": text})
        assert problems == []
        assert values["format"] == fmt
        # Delivery is a set of methods now.
        assert values.get("delivery_method") == ([delivery] if delivery else None)


def test_a_delivery_method_given_with_a_legacy_code_wins() -> None:
    values, problems = parse_values({"format": "C", "delivery_method": "live-streamed"})
    assert problems == []
    assert values == {"format": "live-course", "delivery_method": ["live-streamed"]}


def test_an_unknown_format_lists_the_formats() -> None:
    message = problem("format", "webinar")
    assert '"webinar" is not one of' in message
    assert "live-course" in message and "enduring" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("in person", ["in-person"]),
        ("In-Person", ["in-person"]),
        ("live-streamed", ["live-streamed"]),
        ("virtual", ["live-streamed"]),
        ("hybrid", ["in-person", "live-streamed"]),
    ],
)
def test_delivery_methods(text: str, expected: list[str]) -> None:
    assert parsed("delivery_method", text) == expected


@pytest.mark.parametrize(("text", "expected"), [("Direct", "direct"), ("jointly", "joint")])
def test_providership(text: str, expected: str) -> None:
    assert parsed("providership", text) == expected


@pytest.mark.parametrize(
    ("text", "expected"), [("yes", True), ("Y", True), ("no", False), ("N", False)]
)
def test_yes_no(text: str, expected: bool) -> None:
    assert parsed("cme_finder", text) is expected


def test_yes_no_refuses_maybe() -> None:
    assert '"maybe" is not yes or no' in problem("commercial_support", "maybe")


def test_states_and_countries() -> None:
    assert parsed("state", "il") == "IL"
    assert "2-letter US state" in problem("state", "Illinois")
    assert parsed("country", "usa") == "USA"
    assert parsed("country", "United States") == "USA"
    assert parsed("country", "Canada") == "CAN"
    assert "3-letter country code" in problem("country", "Deutschland")


def test_urls() -> None:
    assert parsed("finder_url", "https://cme.example.org/gr") == "https://cme.example.org/gr"
    assert "web address" in problem("finder_url", "cme.example.org")
    # Slack's link markup is read where Slack's text arrives (handlers), never here.
    assert "web address" in problem("finder_url", "<https://cme.example.org/gr|x>")


# --- outcome measures ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("knowledge", ["knowledge"]),
        ("Knowledge, Competence", ["knowledge", "competence"]),
        ("Learner knowledge", ["knowledge"]),
        ("LEARNER COMPETENCE", ["competence"]),
        ("learner performance", ["performance"]),
        ("Change in patient outcomes", ["patient-health"]),
        ("CHANGE IN Competence", ["competence"]),
        ("Patient outcomes; Community/population health", ["patient-health", "community-health"]),
        ("Change in community/population health", ["community-health"]),
        ("Community health", ["community-health"]),
        ("knowledge, Knowledge, learner knowledge", ["knowledge"]),
    ],
)
def test_outcome_measures(text: str, expected: list[str] | None) -> None:
    values, problems = parse_values({"outcome_measures": text})
    if expected is None:
        assert [p.field for p in problems] == ["outcome_measures"]
    else:
        assert problems == []
        assert values["outcome_measures"] == expected


def test_an_unknown_outcome_measure_lists_the_choices() -> None:
    message = problem("outcome_measures", "knowledge, happiness")
    assert '"happiness" is not an outcome measure' in message
    assert "patient-health" in message


@given(
    st.sampled_from(["knowledge", "competence", "performance", "patient outcomes"]),
    st.sampled_from(["", "learner ", "change in ", "Learner ", "Change In "]),
    st.booleans(),
)
def test_outcome_prefixes_in_any_case(measure: str, prefix: str, upper: bool) -> None:
    text = prefix + measure
    text = text.upper() if upper else text
    values, problems = parse_values({"outcome_measures": text})
    assert problems == []
    # Today's name "patient outcomes" is PARS's Patient Health.
    assert values["outcome_measures"] == [measure.replace(" ", "-").replace("outcomes", "health")]


# --- supporters, names, users ----------------------------------------------------------------


def test_supporters_monetary_and_in_kind() -> None:
    assert parsed("supporters", "Acme Pharma:monetary:5000; Beta Devices:in-kind") == [
        {"name": "Acme Pharma", "kind": "monetary", "amount": "5000.00"},
        {"name": "Beta Devices", "kind": "in-kind", "amount": None},
    ]


def test_supporters_accept_amount_forms_and_inkind_spelling() -> None:
    assert parsed("supporters", "Acme, Inc. : Monetary : $2,500\nBeta: inkind") == [
        {"name": "Acme, Inc.", "kind": "monetary", "amount": "2500.00"},
        {"name": "Beta", "kind": "in-kind", "amount": None},
    ]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("Acme Pharma", "needs a name and monetary or in-kind"),
        ("Acme Pharma:cash:100", "needs a name and monetary or in-kind"),
        ("Acme Pharma:monetary", 'monetary support from "Acme Pharma" needs an amount'),
        ("Acme Pharma:monetary:0", "must be more than 0"),
        ("Beta:in-kind:300", "takes no amount"),
        (":monetary:100", "is not name:kind[:amount]"),
        ("Acme:monetary:1:2", "is not name:kind[:amount]"),
    ],
)
def test_supporters_errors(text: str, fragment: str) -> None:
    assert fragment in problem("supporters", text)


def test_supporters_round_trip_through_render() -> None:
    value = parsed("supporters", "Acme Pharma:monetary:5000; Beta Devices:in-kind")
    assert parsed("supporters", render(value)) == value


def test_joint_providers_split_on_semicolons_not_commas() -> None:
    assert parsed(
        "joint_providers", "University Hospital, Inc.;  State   Society\nCity Clinic"
    ) == [
        "University Hospital, Inc.",
        "State Society",
        "City Clinic",
    ]


@pytest.mark.parametrize("text", ["U0123ABCD", " U0123ABCD "])
def test_owner_member_ids(text: str) -> None:
    assert parsed("owner_user_id", text) == "U0123ABCD"


def test_owner_enterprise_user_ids() -> None:
    assert parsed("owner_user_id", "W0123ABCD") == "W0123ABCD"


@pytest.mark.parametrize("text", ["@jane", "jane", "<#C0123|general>", "<@U0123ABCD|jane>"])
def test_owner_must_be_a_slack_user(text: str) -> None:
    assert "is not a Slack user" in problem("owner_user_id", text)


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("GR-2025", True),
        ("2025.rss/7_a", True),
        ("GR 2025", False),
        ("-GR", False),
        ("x" * 65, False),
    ],
)
def test_activity_ids(text: str, ok: bool) -> None:
    values, problems = parse_values({"activity_id": text})
    assert (problems == []) is ok
    if ok:
        assert values["activity_id"] == text


def test_text_is_tidied_and_length_checked() -> None:
    assert parsed("title", "  Medicine   Grand\nRounds ") == "Medicine Grand Rounds"
    assert "at most 500 fit" in problem("title", "x" * 501)
    description = "Line one.\n\nLine two."
    assert parsed("description", f"  {description}  ") == description


# --- records ---------------------------------------------------------------------------------


def test_empty_text_clears_a_field() -> None:
    values, problems = parse_values({"city": "", "credits": "   ", "outcome_measures": ";"})
    assert problems == []
    assert values == {"city": None, "credits": None, "outcome_measures": None}


def test_every_problem_of_a_record_at_once() -> None:
    values, problems = parse_values(
        {
            "title": "Grand Rounds",
            "start_date": "2025-02-30",
            "end_date": "soon",
            "credits": "1.1",
            "finder_url": "example.org",
            "state": "Illinois",
            "supporters": "Acme",
        }
    )
    assert [p.field for p in problems] == [
        "start_date",
        "end_date",
        "credits",
        "finder_url",
        "state",
        "supporters",
    ]
    assert values == {"title": "Grand Rounds"}
    # Each message names the field and shows an example of a good value.
    for p in problems:
        assert p.message.startswith(fields.BY_NAME[p.field].label + ":")
        assert f"`{fields.BY_NAME[p.field].example}`" in p.message


# --- keys ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "suggested"),
    [
        ("fromat", "format"),
        ("tilte", "title"),
        ("credts", "credits"),
        ("delivry", "delivery"),
        ("ciyt", "city"),
        ("outcomse", "outcomes"),
        ("suporters", "supporters"),
        ("Descripton", "description"),
    ],
)
def test_suggest_key_for_typos(typed: str, suggested: str) -> None:
    assert resolve_key(typed) is None
    assert suggest_key(typed) == suggested


def test_suggest_key_for_an_alias_typo_gives_the_field_key() -> None:
    assert suggest_key("activty-type") == "format"


def test_suggest_key_with_extra_names() -> None:
    assert suggest_key("physicans", tuple(fields.LEARNER_KEYS)) == "physicians"


def test_suggest_key_gives_nothing_for_nonsense() -> None:
    assert suggest_key("zzzzqq") is None


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("format", "format"),
        ("Activity Type", "format"),
        ("start", "start_date"),
        ("Start Date", "start_date"),
        ("provider_activity_id", "activity_id"),
        ("CME-Finder", "cme_finder"),
        ("owner", "owner_user_id"),
    ],
)
def test_resolve_key_by_key_name_or_alias(typed: str, name: str) -> None:
    spec = resolve_key(typed)
    assert spec is not None and spec.name == name


def test_every_field_example_parses() -> None:
    for spec in fields.FIELDS:
        key, _, text = spec.example.partition("=")
        assert resolve_key(key) is spec
        if spec.name == "owner_user_id":
            continue  # "@jane" stands for a mention Slack turns into <@U...>
        _, problems = parse_values({spec.name: text.strip('"')})
        assert problems == [], spec.name


def test_outcome_prefixes_may_be_combined() -> None:
    values, problems = parse_values({"outcome_measures": "Change in learner performance"})
    assert problems == []
    assert values["outcome_measures"] == ["performance"]


def test_outcomes_in_another_order_are_the_same_choice() -> None:
    first, _ = parse_values({"outcome_measures": "competence, knowledge"})
    second, _ = parse_values({"outcome_measures": "Knowledge;Competence"})
    assert first["outcome_measures"] == second["outcome_measures"] == ["knowledge", "competence"]


@pytest.mark.parametrize(
    "typed",
    [
        "ABIM:1.5:Medical Knowledge+Practice Assessment:2026-06-30; ABPath:2:Lifelong Learning",
        "ABS",
        "ABP:Lifelong Learning and Self-Assessment",
        "ABTS:0.25:6/1/2026",
    ],
)
def test_moc_boards_render_as_typed_and_read_back_the_same(typed: str) -> None:
    # The audit trail keeps values as rendered, and undo reads them back.
    value = parsed("moc_boards", typed)
    assert parsed("moc_boards", render(value)) == value
