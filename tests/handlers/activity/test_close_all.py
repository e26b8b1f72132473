"""`/pars list ready` with 43 ready: fifty to a page in groups of ten, and Close all N ready."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from storage import activities as service
from storage import close_offers
from storage import counts as learner_counts
from storage.db import session_scope
from storage.models import Activity, CloseOffer
from tests.handlers.conftest import ADMIN, ALICE, BOB, Workspace
from tests.handlers.slack.test_database_down import writes_blocked
from tests.storage.test_transactions import CLOSABLE

# Everything PARS needs to close a course that ended in 2025, but learner counts (the storage
# tests' closable activity, less its title and dates).
COMPLETE = {k: v for k, v in CLOSABLE.items() if k not in {"title", "end_date"}} | {
    "start_date": "2025-01-07"
}
READY = [f"C-25-{n:02d}" for n in range(1, 44)]  # 43 that can close


def seed_ready(workspace: Workspace, ids: list[str], *, owner: str = ALICE) -> None:
    """Activities that ended in 2025 with everything PARS needs to close them."""
    workspace.seed(
        *(
            COMPLETE | {"activity_id": aid, "title": f"Course {aid}", "end_date": "2025-06-30"}
            for aid in ids
        ),
        user=owner,
    )
    with session_scope(workspace.engine) as session:
        for aid in ids:
            learner_counts.record_counts(
                session=session,
                team_id=workspace.team_id,
                actor=service.Actor(user_id=owner),
                activity_id=aid,
                counts={"physician": "30", "other": "4"},
                as_of=None,
                now=workspace.clock.now,
                today=workspace.clock.now.date(),
            )


def office(workspace: Workspace) -> None:
    """43 ready to close, one ready but without learner counts, and two that are not ready."""
    seed_ready(workspace, READY)
    workspace.seed(
        COMPLETE | {"activity_id": "NOCOUNT", "title": "No counts", "end_date": "2025-09-30"},
        {"activity_id": "DRAFT", "title": "Draft", "format": "rss"}
        | {"start_date": "2025-01-07", "end_date": "2025-10-31"},
        COMPLETE
        | {"activity_id": "RUNNING", "title": "Running"}
        | {"start_date": "2026-01-06", "end_date": "2026-12-15"},
    )


def closed_ids(workspace: Workspace) -> list[str]:
    with Session(workspace.engine) as session:
        rows = session.exec(
            select(Activity.activity_id).where(col(Activity.closed_at).is_not(None))
        ).all()
    return sorted(rows)


def test_the_ready_list_shows_fifty_a_page_in_groups_of_ten(workspace: Workspace) -> None:
    office(workspace)
    listed = workspace.pars("list ready")
    assert "*Ready to close* — 44 activities" in listed.text
    assert "page" not in listed.text.splitlines()[0]  # all 44 on one page
    assert listed.checkbox_options() == [*READY, "NOCOUNT"]
    groups = [
        [o["value"] for o in b["elements"][0]["options"]]
        for b in listed.params["blocks"]
        if b["type"] == "actions" and b["elements"][0]["type"] == "checkboxes"
    ]
    assert [len(g) for g in groups] == [10, 10, 10, 10, 4]
    assert len(listed.params["blocks"]) <= 50
    assert listed.buttons == ["Close selected", "Close all 44 ready"]


def test_close_selected_closes_what_was_ticked_in_every_group(workspace: Workspace) -> None:
    office(workspace)
    listed = workspace.pars("list ready")
    ticked = ["C-25-02", "C-25-15", "C-25-31", "C-25-43"]  # groups 1, 2, 4 and 5
    clicked = workspace.click(listed, "Close selected", state=listed.ticked(*ticked))
    result = workspace.reply(clicked)
    assert "Closed 4 of 4." in result.text
    assert closed_ids(workspace) == ticked


def test_close_selected_of_a_whole_page_answers_within_slacks_limits(
    workspace: Workspace,
) -> None:
    office(workspace)
    listed = workspace.pars("list ready")
    everything = listed.ticked(*listed.checkbox_options())
    result = workspace.reply(workspace.click(listed, "Close selected", state=everything))
    assert "Closed 43 of 44." in result.text
    assert "✅ …and 23 more closed." in result.text
    assert "⛔ `NOCOUNT` can't be closed yet" in result.text
    assert len(result.params["blocks"]) <= 50
    assert len(closed_ids(workspace)) == 43


def test_close_all_asks_slack_to_confirm_naming_how_many(workspace: Workspace) -> None:
    office(workspace)
    button = workspace.pars("list ready").button("Close all 44 ready")
    confirm = button["confirm"]
    assert confirm["title"]["text"] == "Close 44 activities?"
    assert confirm["confirm"]["text"] == "Close 44"
    assert confirm["deny"]["text"] == "Cancel"
    assert "any that can't be closed is named" in confirm["text"]["text"]


def test_close_all_closes_exactly_the_ready_ones_and_says_how_many(workspace: Workspace) -> None:
    office(workspace)
    listed = workspace.pars("list ready")
    result = workspace.reply(workspace.click(listed, "Close all 44 ready"))
    assert result.params["replace_original"] is True
    assert "Closed 43 of the 44 ready activities the list showed; 1 not closed." in result.text
    assert "✅ Closed `C-25-01` *Course C-25-01*." in result.text
    assert "✅ …and 23 more closed." in result.text  # twenty named, the rest counted
    assert "⛔ `NOCOUNT` can't be closed yet. PARS still needs for *Closed*: Physician" in (
        result.text
    )
    assert result.buttons == ["Open edit form"]  # to fill in what NOCOUNT lacks
    assert "an admin can reopen an activity with `/pars reopen ID`" in result.text
    assert closed_ids(workspace) == READY  # not NOCOUNT, DRAFT or RUNNING
    assert workspace.pars("list ready").checkbox_options() == ["NOCOUNT"]


def test_what_stopped_being_ready_after_the_list_is_named_and_left_open(
    workspace: Workspace,
) -> None:
    office(workspace)
    listed = workspace.pars("list ready")
    # Between the list and the click: a colleague closes one, another clears a field PARS
    # needs, another moves an end date into the future, one is renamed, and a new one becomes
    # ready.
    assert "Closed `C-25-01`" in workspace.pars("close C-25-01").text
    assert "Updated" in workspace.pars("edit C-25-02 credits=").text
    assert "Updated" in workspace.pars("edit C-25-03 start=2026-01-06 end=2026-12-15").text
    assert "Updated" in workspace.pars("edit C-25-04 id=C-25-04B").text
    seed_ready(workspace, ["LATE-1"])

    result = workspace.reply(workspace.click(listed, "Close all 44 ready"))
    assert "Closed 40 of the 44 ready activities the list showed; 4 not closed." in result.text
    assert "⛔ `C-25-01` is already closed." in result.text
    assert "⛔ `C-25-02` can't be closed yet. PARS still needs for *Active*: AMA PRA" in (
        result.text
    )
    assert "⛔ `C-25-03` can't be closed yet. `C-25-03` ends on 2026-12-15" in result.text
    assert "`NOCOUNT` can't be closed yet" in result.text
    assert "1 activity became ready after the list was shown and was left open: `LATE-1`" in (
        result.text
    )
    closed = closed_ids(workspace)
    assert "C-25-04B" in closed  # renamed, still ready: closed under its new ID
    assert not {"C-25-02", "C-25-03", "LATE-1", "NOCOUNT"} & set(closed)
    assert len(closed) == 41  # 40 by the click, C-25-01 by the colleague


def test_someone_who_may_close_none_gets_no_close_all_and_their_click_changes_nothing(
    workspace: Workspace,
) -> None:
    office(workspace)  # all Alice's
    bobs = workspace.pars("list ready", user=BOB)
    assert bobs.buttons == ["Close selected"]
    assert "None of these is yours: their owner or an admin can close them." in bobs.text

    alices = workspace.pars("list ready")
    clicked = workspace.click(alices, "Close all 44 ready", user=BOB)  # a forged click
    refused = workspace.reply(clicked)
    assert refused.ephemeral
    assert refused.params["replace_original"] is False
    assert f"This list was shown to @{ALICE}, so nothing was closed." in refused.text
    assert closed_ids(workspace) == []
    # Alice's button still works: the refused click did not use it up.
    done = workspace.reply(workspace.click(alices, "Close all 44 ready"))
    assert "Closed 43 of the 44" in done.text


def test_close_all_offers_each_person_what_they_may_close(workspace: Workspace) -> None:
    seed_ready(workspace, ["ALICE-1", "ALICE-2"])
    seed_ready(workspace, ["BOB-1", "NOBODY-1"], owner=BOB)
    with session_scope(workspace.engine) as session:  # as an older import left some
        session.execute(
            sa.update(Activity)
            .where(col(Activity.activity_id) == "NOBODY-1")
            .values(owner_user_id=None)
        )
    alices = workspace.pars("list ready")
    assert "*Ready to close* — 4 activities" in alices.text
    assert alices.buttons == ["Close selected", "Close all 3 ready"]
    assert "Close all closes the 3 of these you may close: yours and those with no owner" in (
        alices.text
    )
    result = workspace.reply(workspace.click(alices, "Close all 3 ready"))
    assert "Closed all 3 ready activities." in result.text
    assert closed_ids(workspace) == ["ALICE-1", "ALICE-2", "NOBODY-1"]

    admins = workspace.pars("list ready", user=ADMIN)
    assert admins.buttons == ["Close selected", "Close all 1 ready"]
    assert admins.button("Close all 1 ready")["confirm"]["title"]["text"] == "Close 1 activity?"
    workspace.reply(workspace.click(admins, "Close all 1 ready", user=ADMIN))
    assert closed_ids(workspace) == ["ALICE-1", "ALICE-2", "BOB-1", "NOBODY-1"]


def test_a_second_click_closes_nothing_more(workspace: Workspace) -> None:
    office(workspace)
    listed = workspace.pars("list ready")
    workspace.reply(workspace.click(listed, "Close all 44 ready"))
    workspace.pars("reopen C-25-05", user=ADMIN)
    again = workspace.reply(workspace.click(listed, "Close all 44 ready"))
    assert "This Close all was already clicked, so nothing more was closed." in again.text
    assert "C-25-05" not in closed_ids(workspace)


def test_a_click_whose_closes_fail_closes_nothing_and_can_be_clicked_again(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    office(workspace)
    listed = workspace.pars("list ready")
    real = service.close_activity
    calls: list[str] = []

    def locked_at_the_tenth(**kwargs: object) -> Activity:
        calls.append(str(kwargs["activity_id"]))
        if len(calls) == 10:  # the database gives up half way through
            raise sa.exc.OperationalError("UPDATE activity", {}, Exception("database is locked"))
        return real(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "close_activity", locked_at_the_tenth)
    failed = workspace.reply(workspace.click(listed, "Close all 44 ready"))
    assert "nothing was changed" in failed.text, failed.text
    assert closed_ids(workspace) == []  # the nine closed before the failure were undone too

    monkeypatch.setattr(service, "close_activity", real)
    again = workspace.reply(workspace.click(listed, "Close all 44 ready"))
    assert "Closed 43 of the 44 ready activities the list showed" in again.text
    assert closed_ids(workspace) == READY


def test_the_ready_list_is_shown_while_an_apply_holds_the_write_lock(workspace: Workspace) -> None:
    office(workspace)
    with writes_blocked(workspace.engine):
        listed = workspace.pars("list ready")
    assert len(listed.checkbox_options()) == 44
    # SQLite: the Close all offer could not be written, so no button (it would close nothing);
    # PostgreSQL: the lock is on the activities only, and the offer is written.
    sqlite = workspace.engine.dialect.name == "sqlite"
    assert ("Close all 44 ready" in listed.buttons) is not sqlite


def test_a_list_older_than_a_day_is_not_acted_on(workspace: Workspace) -> None:
    office(workspace)
    listed = workspace.pars("list ready")
    workspace.clock.set("2026-11-27T09:00")
    answer = workspace.reply(workspace.click(listed, "Close all 44 ready"))
    assert "This list is more than 24 hours old" in answer.text
    assert closed_ids(workspace) == []


@pytest.mark.parametrize("value", ["", "not json", '{"views": ["ready"]}', '{"offer": "nope"}'])
def test_a_damaged_close_all_button_closes_nothing(workspace: Workspace, value: str) -> None:
    office(workspace)
    listed = workspace.pars("list ready")
    listed.button("Close all 44 ready")  # exists
    for block in listed.params["blocks"]:
        for element in block.get("elements") or []:
            if element.get("action_id") == "pars_close_all":
                element["value"] = value
    answer = workspace.reply(workspace.click(listed, "Close all 44 ready"))
    assert "nothing was closed" in answer.text
    assert closed_ids(workspace) == []


def test_hundreds_close_in_one_click_with_a_short_answer(workspace: Workspace) -> None:
    many = [f"M-{n:03d}" for n in range(1, 401)]
    seed_ready(workspace, many)
    listed = workspace.pars("list ready")
    assert "*Ready to close* — 400 activities, page 1 of 8" in listed.text
    result = workspace.reply(workspace.click(listed, "Close all 400 ready"))
    assert "Closed all 400 ready activities." in result.text
    assert "✅ …and 380 more closed." in result.text
    assert len(result.params["blocks"]) <= 50
    assert len(closed_ids(workspace)) == 400
    with Session(workspace.engine) as session:
        assert session.exec(select(CloseOffer)).all()[0].used_at is not None


def test_past_the_limit_close_all_offers_the_first_ones_and_says_so(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(close_offers, "OFFER_LIMIT", 5)  # 1,000 in use
    seed_ready(workspace, [f"C-{n}" for n in range(1, 8)])
    listed = workspace.pars("list ready")
    assert "*Ready to close* — 7 activities" in listed.text
    assert listed.buttons == ["Close selected", "Close the first 5 ready"]
    assert "Close all closes 5 at a time, the first in this list's order" in listed.text
    assert listed.button("Close the first 5 ready")["confirm"]["title"]["text"] == (
        "Close 5 activities?"
    )
    result = workspace.reply(workspace.click(listed, "Close the first 5 ready"))
    assert "Closed all 5 ready activities." in result.text
    assert "2 more ready activities were left open, as Close all closes 5 at a time: " in (
        result.text
    )
    assert "`C-6`, `C-7`" in result.text
    assert closed_ids(workspace) == [f"C-{n}" for n in range(1, 6)]


def test_exactly_the_limit_is_not_past_it(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(close_offers, "OFFER_LIMIT", 5)  # 1,000 in use
    seed_ready(workspace, [f"C-{n}" for n in range(1, 6)])
    listed = workspace.pars("list ready")
    assert listed.buttons == ["Close selected", "Close all 5 ready"]
    seed_ready(workspace, ["LATE-1"])
    result = workspace.reply(workspace.click(listed, "Close all 5 ready"))
    assert "Closed all 5 ready activities." in result.text
    assert "1 activity became ready after the list was shown and was left open: `LATE-1`" in (
        result.text
    )
    assert "at a time" not in result.text


def test_close_all_keeps_to_the_lists_filters(workspace: Workspace) -> None:
    seed_ready(workspace, ["Y25-1", "Y25-2"])
    workspace.seed(
        COMPLETE
        | {"activity_id": "Y24-1", "title": "Course of 2024"}
        | {"start_date": "2024-01-09", "end_date": "2024-06-30"}
    )
    workspace.pars("counts Y24-1 physicians=12 others=3")
    listed = workspace.pars("list ready year=2024")
    assert "*Ready to close in 2024* — 1 activity" in listed.text
    result = workspace.reply(workspace.click(listed, "Close all 1 ready"))
    assert "Closed the ready activity." in result.text
    assert "became ready" not in result.text  # the 2025 ones are another list's
    assert closed_ids(workspace) == ["Y24-1"]
