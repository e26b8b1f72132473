"""What a coordinator types means what it says, through the real Bolt app: misread numbers,
2-letter countries and contradictions are refused with a message and change nothing; counts
and closes of enduring materials follow the cumulative rules."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, select

from storage.models import Activity, AuditEvent, LearnerCount
from tests.handlers.conftest import ADD_GR, COMPLETE, Workspace, ack_body, form_state

EM = (
    'add-activity id=EM-1 title="Sepsis Module" format=enduring start=2024-01-01 end=2026-06-30 '
    'credits=1 description="Online module" providership=direct finder=no outcomes=knowledge '
    "commercial-support=no"
)


def rows(workspace: Workspace, model: Any) -> list[Any]:
    with Session(workspace.engine) as session:
        return list(session.exec(select(model)).all())


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("credits=1,5", "use a dot for decimals (1.5)"),
        ("credits=1e2", '"1e2" is not a number'),
        ("credits=$1", "is an amount of money"),
        ("country=CA", "for Canada write CAN"),
        ("hours=2", "`hours` is not a field I know"),
        ("fee=25 finder=no", "CME Passport fee is given, but Listed in CME Passport is no"),
        (
            'commercial-support=no supporters="Acme:monetary:5000"',
            "Commercial supporters is given, but Commercial support is no",
        ),
    ],
)
def test_a_misread_value_is_refused_and_nothing_is_saved(
    workspace: Workspace, typed: str, words: str
) -> None:
    reply = workspace.pars(f"{ADD_GR} {typed}")
    assert reply.ephemeral
    assert words in reply.text
    assert rows(workspace, Activity) == []
    assert rows(workspace, AuditEvent) == []


def test_credits_typed_with_a_decimal_comma_never_become_15(workspace: Workspace) -> None:
    workspace.pars(ADD_GR)
    reply = workspace.pars("edit GR-2025 credits=1,5")
    assert "Nothing was saved" in reply.text
    [activity] = rows(workspace, Activity)
    assert activity.credits is None


def test_a_live_streamed_in_person_course_is_a_contradiction(workspace: Workspace) -> None:
    reply = workspace.pars(
        'add-activity id=LC-1 title="Update" format=C delivery=live-streamed '
        "start=2025-03-01 end=2025-03-01"
    )
    assert "Activity type C means in-person, but Delivery method says live-streamed" in reply.text
    assert rows(workspace, Activity) == []


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("physicians=1,0,4,0", "commas may only separate groups of three digits"),
        ("physicians=999999999999999999999999999999", "more than the 10,000,000 learners"),
    ],
)
def test_bad_counts_get_a_message_not_a_wrong_number(
    workspace: Workspace, typed: str, words: str
) -> None:
    workspace.pars(f"{ADD_GR} {COMPLETE}")
    reply = workspace.pars(f"counts GR-2025 {typed} others=3")
    assert words in reply.text
    assert rows(workspace, LearnerCount) == []


def test_thousands_are_read_as_thousands(workspace: Workspace) -> None:
    workspace.pars(f"{ADD_GR} {COMPLETE}")
    reply = workspace.pars("counts GR-2025 physicians=1,040 others=212")
    assert "Physician learners: 1040" in reply.text


def test_an_older_count_is_history_and_the_reply_says_so(workspace: Workspace) -> None:
    workspace.pars(EM)
    workspace.pars("counts EM-1 physicians=600 others=40 as-of=2025-12-31")
    reply = workspace.pars("counts EM-1 physicians=550 others=35 as-of=2024-12-31")
    assert (
        "Physician learners: 550, kept as history; the current count is unchanged: 600 as of "
        "2025-12-31"
    ) in reply.text
    shown = workspace.pars("show EM-1").text
    assert "*Physician learners:* 600 (as of 2025-12-31)" in shown


def test_a_higher_count_as_of_an_earlier_date_asks_first(workspace: Workspace) -> None:
    workspace.pars(EM)
    workspace.pars("counts EM-1 physicians=600 others=40 as-of=2025-12-31")
    reply = workspace.pars("counts EM-1 physicians=700 as-of=2024-12-31")
    assert "a count as of an earlier date can't be higher than a later one" in reply.text
    assert "Physician learners 700 is more than the 600 on file as of a later date" in reply.text
    assert "would lower" not in reply.text
    assert reply.buttons == ["Record anyway", "Cancel"]
    assert len(rows(workspace, LearnerCount)) == 2
    recorded = workspace.reply(workspace.click(reply, "Record anyway"))
    assert "Physician learners: 700, kept as history" in recorded.text
    assert len(rows(workspace, LearnerCount)) == 3


def test_an_ended_enduring_material_closes_with_its_final_count(workspace: Workspace) -> None:
    workspace.pars(EM)
    workspace.pars("counts EM-1 physicians=600 others=40 as-of=2025-12-31")
    refused = workspace.pars("close EM-1")
    assert "can't be closed yet" in refused.text
    assert "final cumulative counts, as of its end date 2026-06-30" in refused.text
    counted = workspace.pars("counts EM-1 physicians=710 others=52")
    assert "as of 2026-06-30" in counted.text
    closed = workspace.pars("close EM-1")
    assert "Closed `EM-1`" in closed.text


def test_closing_too_early_says_so_and_what_else_is_missing(workspace: Workspace) -> None:
    workspace.pars(
        'add-activity id=GR-2027 title="Grand Rounds" format=rss start=2026-09-01 end=2027-06-30'
    )
    reply = workspace.pars("close GR-2027")
    assert "ends on 2027-06-30; an activity can be closed only after its end date" in reply.text
    assert "PARS still needs for *Active*: Delivery method" in reply.text


def test_show_says_how_many_older_counts_it_leaves_out(workspace: Workspace) -> None:
    workspace.pars(f"{ADD_GR} {COMPLETE}")
    for n in range(12):
        workspace.pars(f"counts GR-2025 physicians={100 + n}")
    shown = workspace.pars("show GR-2025").text
    assert "…and 2 older entries not shown." in shown


def test_the_form_puts_a_misread_number_under_its_input(workspace: Workspace) -> None:
    workspace.command("add-activity")
    view = workspace.opened_view()
    values = form_state(
        view, title="Grand Rounds", format="rss", start_date="2025-01-07",
        end_date="2025-12-16", credits="1,5",
    )  # fmt: skip
    answer = ack_body(workspace.submit(view, values))
    assert answer["response_action"] == "errors"
    assert "use a dot for decimals" in answer["errors"]["credits"]
    assert rows(workspace, Activity) == []


def test_answering_no_clears_what_followed_the_yes_and_says_so(workspace: Workspace) -> None:
    workspace.pars(f'{ADD_GR} finder=yes fee=0 registration="Open to all" url=https://x.org')
    reply = workspace.pars("edit GR-2025 finder=no").text
    assert "• Listed in CME Passport: yes → no" in reply
    assert "• CME Passport fee: free → —" in reply
    assert "• CME Passport activity URL: https://x.org → —" in reply
    [activity] = rows(workspace, Activity)
    assert (activity.finder_fee, activity.finder_url) == (None, None)


def test_a_count_already_on_file_is_not_recorded_again(workspace: Workspace) -> None:
    workspace.pars(EM)
    workspace.pars("counts EM-1 physicians=600 others=40 as-of=2025-12-31")
    reply = workspace.pars("counts EM-1 physicians=600 others=55 as-of=2025-12-31")
    assert "Recorded learner counts of `EM-1` as of 2025-12-31: Other learners: 55 (was 40)." in (
        reply.text
    )
    assert "Already on file for `EM-1` as of 2025-12-31, so not recorded again: " in reply.text
    assert sorted((r.category, r.count) for r in rows(workspace, LearnerCount)) == [
        ("other", 40),
        ("other", 55),
        ("physician", 600),
    ]
    again = workspace.pars("counts EM-1 physicians=600 others=55 as-of=2025-12-31")
    assert "Recorded" not in again.text and "not recorded again" in again.text
    assert len(rows(workspace, LearnerCount)) == 3
