"""Buttons and checkboxes in the bot's messages, clicked as Slack sends the clicks."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from storage import activities as service
from storage.db import session_scope
from storage.models import Activity, LearnerCount
from tests.conftest import NOW
from tests.handlers.conftest import ALICE, BOB, COMPLETE, Reply, Workspace, ack_body, form_state


def add(
    workspace: Workspace,
    activity_id: str,
    *,
    start: str = "2025-01-07",
    end: str = "2025-12-16",
    extra: str = "",
) -> None:
    reply = workspace.pars(
        f'add-activity id={activity_id} title="Series {activity_id}" format=rss '
        f"start={start} end={end} {extra}"
    )
    assert f"Added `{activity_id}`" in reply.text, reply.text


def closed_ids(workspace: Workspace) -> list[str]:
    with Session(workspace.engine) as session:
        rows = session.exec(
            select(Activity.activity_id).where(col(Activity.closed_at).is_not(None))
        ).all()
    return sorted(rows)


def counts_of(workspace: Workspace, activity_id: str) -> list[tuple[str, int, str]]:
    with Session(workspace.engine) as session:
        rows = session.exec(
            select(LearnerCount)
            .join(Activity, col(Activity.id) == LearnerCount.activity_pk)
            .where(Activity.activity_id == activity_id)
            .order_by(col(LearnerCount.id))
        ).all()
    return [(r.category, r.count, r.as_of.isoformat()) for r in rows]


# -- the edit form from a button ------------------------------------------------------------


def test_fill_in_the_rest_opens_the_edit_form_and_confirms_in_that_message(
    workspace: Workspace,
) -> None:
    add(workspace, "GR-2025")
    reply = workspace.pars("show GR-2025")
    added = workspace.replies("cmd1")[0]
    assert added.buttons == ["Fill in the rest"]
    assert reply.buttons == ["Edit"]

    clicked = workspace.click(added, "Fill in the rest")
    opened = workspace.slack.wait_for("views.open")[0].params
    assert opened["trigger_id"] == f"trig-{clicked}"
    view = opened["view"]
    assert view["title"]["text"] == "Edit GR-2025"
    fields = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert fields["title"]["initial_value"] == "Series GR-2025"
    assert fields["format"]["initial_option"]["value"] == "rss"
    assert not workspace.replies(clicked)  # the form is the answer

    entries = {"credits": "2", "description": "Cases", "providership": "direct"}
    assert ack_body(workspace.submit(view, form_state(view, **entries))) == {}
    confirmed = workspace.reply(clicked)
    assert "Updated `GR-2025`" in confirmed.text
    assert "• AMA PRA Category 1 credits: — → 2" in confirmed.text
    assert "Delivery method" in confirmed.text  # still missing, said so


def test_open_edit_form_on_a_closed_activity_is_refused(workspace: Workspace) -> None:
    add(workspace, "GR-2025")
    refused = workspace.pars("close GR-2025")
    assert "can't be closed yet" in refused.text
    workspace.pars(f"edit GR-2025 {COMPLETE}")
    workspace.pars("counts GR-2025 physicians=1040 others=212")
    assert "Closed `GR-2025`" in workspace.pars("close GR-2025").text

    clicked = workspace.click(refused, "Open edit form")
    answer = workspace.reply(clicked)
    assert answer.ephemeral
    assert answer.params["replace_original"] is False
    assert "`GR-2025` is closed, so it can no longer be changed" in answer.text
    assert "/pars reopen GR-2025" in answer.text
    assert not workspace.calls("views.open")


def test_open_edit_form_after_a_rename_says_the_old_id_is_gone(workspace: Workspace) -> None:
    add(workspace, "GR-2025")
    added = workspace.replies("cmd1")[0]
    workspace.pars("edit GR-2025 id=GR-2025A")  # renamed since the message was sent
    answer = workspace.reply(workspace.click(added, "Fill in the rest"))
    assert "No activity has the ID `GR-2025`" in answer.text
    assert not workspace.calls("views.open")


# -- the ready list and Close selected ----------------------------------------------------


def ready_workspace(workspace: Workspace) -> None:
    add(workspace, "DONE-1", end="2025-06-30", extra=COMPLETE)
    workspace.pars("counts DONE-1 physicians=300 others=40")
    add(workspace, "NOCOUNT-2", end="2025-09-30", extra=COMPLETE)
    add(workspace, "DRAFT-3", end="2025-10-31")  # ended, but not even Active
    add(workspace, "RUNNING-4", start="2026-01-06", end="2026-12-15", extra=COMPLETE)  # not ended


def test_list_ready_offers_checkboxes_of_the_ready_ones(workspace: Workspace) -> None:
    ready_workspace(workspace)
    reply = workspace.pars("list ready")
    assert reply.ephemeral
    assert "*Ready to close* — 2 activities" in reply.text
    assert reply.checkbox_options() == ["DONE-1", "NOCOUNT-2"]
    assert reply.buttons == ["Close selected", "Close all 2 ready"]


def test_close_selected_closes_the_complete_and_names_what_the_others_miss(
    workspace: Workspace,
) -> None:
    ready_workspace(workspace)
    listed = workspace.pars("list ready")
    clicked = workspace.click(listed, "Close selected", state=listed.ticked("DONE-1", "NOCOUNT-2"))
    result = workspace.reply(clicked)
    assert result.params["replace_original"] is True
    assert "Closed 1 of 2." in result.text
    assert "✅ Closed `DONE-1` *Series DONE-1*." in result.text
    refusal = "⛔ `NOCOUNT-2` can't be closed yet. PARS still needs for *Closed*: Physician "
    assert refusal in result.text
    assert "/pars counts NOCOUNT-2 physicians=N others=N" in result.text
    assert result.buttons == ["Open edit form"]
    assert result.button("Open edit form")["value"] == "NOCOUNT-2"
    assert closed_ids(workspace) == ["DONE-1"]
    # The list of what is left to close no longer has DONE-1.
    assert workspace.pars("list ready").checkbox_options() == ["NOCOUNT-2"]


def test_close_selected_with_nothing_ticked_says_to_tick(workspace: Workspace) -> None:
    ready_workspace(workspace)
    listed = workspace.pars("list ready")
    clicked = workspace.click(listed, "Close selected", state=listed.ticked())
    answer = workspace.reply(clicked)
    assert answer.ephemeral
    assert answer.params["replace_original"] is False  # the list stays to tick in
    assert "Tick at least one activity, then click Close selected." in answer.text
    assert closed_ids(workspace) == []


def test_close_selected_by_someone_else_is_refused_per_activity(workspace: Workspace) -> None:
    ready_workspace(workspace)
    listed = workspace.pars("list ready")
    clicked = workspace.click(listed, "Close selected", user=BOB, state=listed.ticked("DONE-1"))
    result = workspace.reply(clicked)
    assert f"⛔ `DONE-1` belongs to @{ALICE}; only they or an admin can change it" in result.text
    assert closed_ids(workspace) == []


# -- paging -------------------------------------------------------------------------------


def test_a_long_list_pages_with_next_and_previous(workspace: Workspace) -> None:
    records = [
        {
            "activity_id": f"RSS-{n:02d}",
            # Real titles are long; all 20 of a page must still be listed.
            "title": f"Internal Medicine Grand Rounds: Evidence-Based Updates in Hospital "
            f"Medicine, Series {n:02d}",
            "format": "rss",
            "start_date": "2026-01-06",
            "end_date": f"2026-12-{n:02d}",
        }
        for n in range(1, 24)
    ]
    workspace.seed(*records)
    first = workspace.pars("list")
    assert "*Open activities* — 23 activities, page 1 of 2" in first.text
    shown = [f"RSS-{n:02d}" for n in range(1, 21)]
    for activity_id in shown:
        assert f"`{activity_id}`" in first.text, activity_id
    assert "`RSS-21`" not in first.text
    assert first.buttons == ["Next →"]

    clicked = workspace.click(first, "Next →")
    second = workspace.reply(clicked)
    assert second.params["replace_original"] is True
    assert "*Open activities* — 23 activities, page 2 of 2" in second.text
    assert [f"RSS-{n}" in second.text for n in (20, 21, 22, 23)] == [False, True, True, True]
    assert second.buttons == ["← Previous"]

    back = workspace.reply(workspace.click(second, "← Previous"))
    assert "page 1 of 2" in back.text and "`RSS-01`" in back.text


@pytest.mark.parametrize("year", ["1999", "2100", "25"])
def test_a_list_of_a_year_the_bot_does_not_take_names_the_years(
    workspace: Workspace, year: str
) -> None:
    reply = workspace.pars(f"list year={year}")
    assert "year must be a year from 2000 to" in reply.text and f'not "{year}"' in reply.text


def test_paging_keeps_the_filters(workspace: Workspace) -> None:
    journal = [
        {
            "activity_id": f"JN-{n:02d}",
            "title": f"Journal {n}",
            "format": "journal",
            "start_date": "2025-01-01",
            "end_date": f"2025-07-{n:02d}",
        }
        for n in range(1, 25)
    ]
    courses = [
        {"activity_id": f"LC-{n}", "title": "Course", "format": "live-course"}
        | {"start_date": "2025-01-01", "end_date": "2025-12-01"}
        for n in range(1, 4)
    ]
    workspace.seed(*journal, *courses)
    first = workspace.pars("list unclosed format=journal year=2025")
    assert "*Ended but not closed in 2025 (Journal CME)* — 24 activities, page 1 of 2" in (
        first.text
    )
    second = workspace.reply(workspace.click(first, "Next →"))
    assert "*Ended but not closed in 2025 (Journal CME)* — 24 activities, page 2 of 2" in (
        second.text
    )
    assert [f"`JN-{n}`" in second.text for n in (20, 21, 24)] == [False, True, True]
    assert "LC-" not in second.text


# -- learner counts of enduring materials ---------------------------------------------------


def add_enduring(workspace: Workspace) -> None:
    reply = workspace.pars(
        'add-activity id=EM-1 title="Opioid Prescribing Module" format=enduring '
        "start=2025-03-01 end=2027-02-28"
    )
    assert "Added `EM-1`" in reply.text


def test_enduring_counts_default_to_the_last_december_31(workspace: Workspace) -> None:
    add_enduring(workspace)
    reply = workspace.pars("counts EM-1 physicians=120 others=30")
    assert "Recorded learner counts of `EM-1` as of 2025-12-31" in reply.text
    assert "Physician learners: 120; Other learners: 30." in reply.text
    assert counts_of(workspace, "EM-1") == [
        ("physician", 120, "2025-12-31"),
        ("other", 30, "2025-12-31"),
    ]


def lower_counts_question(workspace: Workspace) -> Any:
    add_enduring(workspace)
    workspace.pars("counts EM-1 physicians=120 others=30")
    question = workspace.pars("counts EM-1 physicians=90 others=30")
    assert question.ephemeral
    assert "this would lower them (Physician learners 120 → 90)" in question.text
    assert "Nothing was saved yet" in question.text
    assert "Record the lower counts anyway?" in question.text
    assert question.buttons == ["Record lower counts", "Cancel"]
    assert len(counts_of(workspace, "EM-1")) == 2
    return question


def test_lower_counts_are_recorded_once_confirmed(workspace: Workspace) -> None:
    question = lower_counts_question(workspace)
    answer = workspace.reply(workspace.click(question, "Record lower counts"))
    assert answer.params["replace_original"] is True
    assert "Recorded learner counts of `EM-1` as of 2025-12-31" in answer.text
    assert "Physician learners: 90 (was 120)." in answer.text
    assert "not recorded again: Other learners: 30." in answer.text
    assert counts_of(workspace, "EM-1")[2:] == [("physician", 90, "2025-12-31")]
    shown = workspace.pars("show EM-1").text
    assert "Physician learners:* 90 (as of 2025-12-31)" in shown


def test_a_second_click_on_record_lower_counts_records_nothing(workspace: Workspace) -> None:
    question = lower_counts_question(workspace)
    workspace.reply(workspace.click(question, "Record lower counts"))
    again = workspace.reply(workspace.click(question, "Record lower counts"))
    assert "changed since you were asked, so nothing was recorded" in again.text
    assert len(counts_of(workspace, "EM-1")) == 3  # the first two, and the confirmed lower one


def test_cancel_records_no_lower_counts(workspace: Workspace) -> None:
    question = lower_counts_question(workspace)
    answer = workspace.reply(workspace.click(question, "Cancel"))
    assert answer.params["replace_original"] is True
    assert "Cancelled: the learner counts were not changed." in answer.text
    assert len(counts_of(workspace, "EM-1")) == 2
    assert "Physician learners:* 120" in workspace.pars("show EM-1").text


def test_confirming_lower_counts_as_of_a_given_date_keeps_that_date(
    workspace: Workspace,
) -> None:
    add_enduring(workspace)
    workspace.pars("counts EM-1 physicians=120 others=30 as-of=2026-06-30")
    question = workspace.pars("counts EM-1 physicians=100 as-of=2026-06-30")
    payload = json.loads(question.button("Record lower counts")["value"])
    assert payload["as_of"] == "2026-06-30"
    answer = workspace.reply(workspace.click(question, "Record lower counts"))
    assert "as of 2026-06-30: Physician learners: 100 (was 120)." in answer.text
    assert counts_of(workspace, "EM-1")[-1] == ("physician", 100, "2026-06-30")


def forged(question: Any, value: str) -> Any:
    """The confirmation message as a forger would click it: its button carries `value`."""
    blocks = json.loads(json.dumps(question.params["blocks"]))
    for block in blocks:
        for element in block.get("elements") or []:
            if element.get("action_id") == "pars_confirm_lower_counts":
                element["value"] = value
    return Reply({**question.params, "blocks": blocks})


DAMAGED = "This button's data is damaged or was not made by pars-bot, so nothing was recorded"
# As /pars counts writes it; SEEN stands for the newest count the user was shown.
GOOD = '"id": "EM-1", "counts": {"physician": "90"}, "as_of": null, "seen": SEEN'


@pytest.mark.parametrize(
    ("value", "refusal"),
    [
        ("not json {", DAMAGED),
        ("", DAMAGED),
        ('["EM-1", {"physician": "90"}]', DAMAGED),
        ('"EM-1"', DAMAGED),
        ('{"id": "EM-1"}', DAMAGED),
        ('{"id": "EM-1", "counts": {"physician": "90"}}', DAMAGED),  # no "seen": no check
        ('{"id": "EM-1", "counts": "90", "as_of": null, "seen": SEEN}', DAMAGED),
        ('{"id": ["EM-1"], "counts": {"physician": "90"}, "as_of": null, "seen": SEEN}', DAMAGED),
        ('{"id": "EM-1", "counts": {"physician": 90}, "as_of": null, "seen": SEEN}', DAMAGED),
        ('{"id": "EM-1", "counts": {"physician": [90]}, "as_of": null, "seen": SEEN}', DAMAGED),
        ('{"id": "EM-1", "counts": {"physician": null}, "as_of": null, "seen": SEEN}', DAMAGED),
        ('{"id": "EM-1", "counts": {"surgeons": "9"}, "as_of": null, "seen": SEEN}', DAMAGED),
        ('{"id": "EM-1", "counts": {}, "as_of": null, "seen": SEEN}', DAMAGED),
        ('{"id": "EM-1", "counts": {"physician": "90"}, "as_of": null, "seen": "x"}', DAMAGED),
        ('{"id": "EM-1", "counts": {"physician": "90"}, "as_of": 20251231, "seen": SEEN}', DAMAGED),
        # Refused before the button's handler reads it (handlers/slack/bot_values.py).
        (
            "{" + GOOD.replace("EM-1", "EM\\u0000") + "}",
            "This button's data is damaged or was not made by pars-bot: it holds an invisible "
            "control character (U+0000, character 3). Nothing was done",
        ),
        ("{" + GOOD + ', "admin": true}', DAMAGED),
        ("{" + GOOD.replace('"90"', '"ninety"') + "}", '"ninety" is not a whole number'),
        ("{" + GOOD.replace('"90"', '"-5"') + "}", '"-5" is not a whole number'),
        ("{" + GOOD.replace("EM-1", "NO-SUCH") + "}", "No activity has the ID `NO-SUCH`"),
        ("{" + GOOD.replace("EM-1", "EM-OTHER") + "}", "No activity has the ID `EM-OTHER`"),
        ("{" + GOOD.replace("SEEN", "1") + "}", "changed since you were asked"),
    ],
)
def test_a_forged_record_lower_counts_is_refused_and_changes_nothing(
    workspace: Workspace, value: str, refusal: str
) -> None:
    question = lower_counts_question(workspace)
    # Another workspace's activity in the same database: a forger's likely target.
    with session_scope(workspace.engine) as session:
        service.create_activity(
            session=session,
            team_id="T0OTHER",
            actor=service.Actor(BOB),
            raw={"activity_id": "EM-OTHER", "title": "Theirs", "format": "enduring",
                 "start_date": "2025-03-01", "end_date": "2027-02-28"},
            now=workspace.clock.now,
        )  # fmt: skip
    before = counts_of(workspace, "EM-1"), counts_of(workspace, "EM-OTHER")
    seen = json.loads(question.button("Record lower counts")["value"])["seen"]
    value = value.replace("SEEN", str(seen))
    answer = workspace.reply(workspace.click(forged(question, value), "Record lower counts"))
    assert answer.ephemeral and answer.params["replace_original"] is False
    assert refusal in answer.text, answer.text
    assert "Something went wrong" not in answer.text
    assert (counts_of(workspace, "EM-1"), counts_of(workspace, "EM-OTHER")) == before
    assert "Physician learners:* 120" in workspace.pars("show EM-1").text


def test_next_goes_on_from_the_last_row_shown_even_when_activities_arrive(
    workspace: Workspace,
) -> None:
    workspace.seed(
        *(
            {"activity_id": f"RSS-{n:02d}", "title": f"Series {n}", "format": "rss"}
            | {"start_date": "2026-01-06", "end_date": f"2026-12-{n:02d}"}
            for n in range(1, 24)
        )
    )
    first = workspace.pars("list")
    # Someone adds an activity that sorts first while page 1 is being read.
    workspace.seed({"activity_id": "EARLY", "title": "Early", "format": "rss"} | {
        "start_date": "2026-01-06", "end_date": "2026-11-30"
    })  # fmt: skip
    second = workspace.reply(workspace.click(first, "Next →"))
    assert "*Open activities* — 24 activities, page 2 of 2" in second.text
    # Not RSS-20 again, which counting rows from the start would show.
    assert [f"`RSS-{n}`" in second.text for n in (20, 21, 23)] == [False, True, True]
    typed = workspace.pars("list page=2")  # a typed page is still a page by number
    assert [f"`RSS-{n}`" in typed.text for n in (19, 20, 23)] == [False, True, True]


def test_a_list_of_over_a_thousand_says_so_and_still_pages(workspace: Workspace) -> None:
    rows = [
        {
            "team_id": workspace.team_id, "activity_id": f"JN-{n:04d}", "title": f"Journal {n}",
            "format": "journal", "start_date": date(2025, 1, 1),
            "end_date": date(2025, 1, 1) + timedelta(days=n % 300), "owner_user_id": ALICE,
            "created_at": NOW, "created_by": ALICE, "updated_at": NOW, "updated_by": ALICE,
            "version": 1,
        }
        for n in range(1_001)
    ]  # fmt: skip
    with workspace.engine.begin() as connection:
        connection.execute(sa.insert(Activity.__table__), rows)
    first = workspace.pars("list unclosed")
    assert "*Ended but not closed* — more than 1,000 activities, page 1" in first.text
    assert first.buttons == ["Next →"]
    second = workspace.reply(workspace.click(first, "Next →"))
    assert "more than 1,000 activities, page 2" in second.text
    assert second.buttons == ["← Previous", "Next →"]
    back = workspace.reply(workspace.click(second, "← Previous"))
    assert back.text == first.text
