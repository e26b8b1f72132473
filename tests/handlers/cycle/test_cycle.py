"""The reporting cycle through Slack: status, checklist, summary form, config, remind, App Home
and the buttons of reminder DMs, every payload checked against slack_sdk's Block Kit models."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from sqlmodel import select

from bot.console import payloads
from bot.local_slack import TEAM_ID
from scheduler.send import run_pass
from storage.db import session_scope
from storage.models import Member, Snooze
from tests.handlers.conftest import (
    ADD_GR,
    ADMIN,
    ALICE,
    BOB,
    COMPLETE,
    Reply,
    Workspace,
    ack_body,
    form_state,
    section_texts,
)


def valid_blocks(blocks: list[dict[str, Any]]) -> None:
    """Every block parses into slack_sdk's models and validates (lengths, counts, fields)."""
    parsed = Block.parse_all(blocks)
    assert [b.to_dict() for b in parsed] == blocks


def valid_view(view: dict[str, Any]) -> None:
    clean = {k: v for k, v in view.items() if k not in {"id", "state"}}
    assert View(**clean).to_dict()["blocks"] == clean["blocks"]


def reminder_pass(workspace: Workspace, when: str) -> list[Reply]:
    workspace.clock.set(when)
    mark = workspace.slack.mark()
    run_pass(
        engine=workspace.engine,
        client=WebClient(token="xoxb-test", base_url=workspace.slack.api_url),
        team_id=TEAM_ID,
        default_zone="America/Chicago",
        instant=workspace.clock.now,
        now=workspace.clock.now,
    )
    return [Reply(c.params) for c in workspace.slack.since(mark) if c.method == "chat.postMessage"]


def test_status_shows_the_checklist_with_the_deadline_and_days_left(workspace: Workspace) -> None:
    workspace.pars(ADD_GR)
    reply = workspace.pars("status year=2025")
    valid_blocks(reply.params["blocks"])
    assert reply.ephemeral
    assert "*PARS reporting for 2025* — due Tuesday, March 31, 2026, 11:59 PM Central" in reply.text
    assert "✅ *1." not in reply.text
    assert "1 of 1 that ended in 2025 still open: `GR-2025` Medicine Grand Rounds" in reply.text
    # The default year is the one being reported now (25 Nov 2026: data year 2026).
    now = workspace.pars("status").text
    assert (
        "*PARS reporting for 2026* — due Wednesday, March 31, 2027, 11:59 PM Central (126 days left"
        in now
    )
    bad = workspace.pars("status year=25")
    assert "`year=25` is not a year" in bad.text


def test_marking_a_step_done_and_undoing_it_with_the_button(workspace: Workspace) -> None:
    done = workspace.pars("checklist agreement done year=2025")
    assert (
        "✅ *1. Accept the annual agreement in PARS*\ndone by @U0ALICE on 2026-11-25" in done.text
    )
    undo = workspace.click(done, "Undo", user=BOB)
    after = workspace.reply(undo)
    valid_blocks(after.params["blocks"])
    assert after.params["replace_original"] is True
    assert "⬜ *1. Accept the annual agreement in PARS*\nnot marked done" in after.text
    refused = workspace.pars("checklist activities done")
    assert "worked out from your activities" in refused.text
    assert "Name a step" in workspace.pars("checklist agreement").text


def test_the_program_summary_form_validates_and_saves_per_year(workspace: Workspace) -> None:
    name = workspace.command("summary year=2025")
    view = workspace.opened_view()
    valid_view(view)
    assert view["title"]["text"] == "Program Summary 2025"
    entries = {
        "advertising_income": "12,500",
        "registration_fees": "48000",
        "government_grants": "0",
        "private_donations": "-1",
    }
    refused = ack_body(workspace.submit(view, form_state(view, **entries)))
    assert refused["response_action"] == "errors"
    assert list(refused["errors"]) == ["private_donations"]
    entries["private_donations"] = "2,500.50"
    assert ack_body(workspace.submit(view, form_state(view, **entries))) == {}
    confirmation = workspace.reply(name)
    assert "Saved the Program Summary for 2025" in confirmation.text
    status = workspace.pars("status year=2025").text
    assert "2025-01-01 → 2025-12-31: advertising and exhibits $12,500.00" in status
    assert "private donations $2,500.50 (total $63,000.50)" in status
    workspace.command("summary year=2025")
    again = workspace.opened_view(2)
    reopened = form_state(again)
    assert reopened["advertising_income"]["value"]["value"] == "12500.00"
    assert reopened["private_donations"]["value"]["value"] == "2500.50"


def test_only_admins_change_the_settings_and_anyone_sees_them(workspace: Workspace) -> None:
    shown = workspace.pars("config").text
    assert "Time zone: America/Chicago (PARS_TIMEZONE)" in shown
    assert "Deadline for 2026: Wednesday, March 31, 2027, 11:59 PM Central (ACCME's default)" in (
        shown
    )
    refused = workspace.pars("config deadline 2026-03-17")
    assert "Only admins change" in refused.text
    set_ = workspace.pars("config deadline 2026-03-17", user=ADMIN).text
    assert "The PARS deadline for 2025 is Tuesday, March 17, 2026, 11:59 PM Central." in set_
    assert "set for this workspace" in workspace.pars("status year=2025").text
    zone = workspace.pars("config timezone America/Los_Angeles", user=ADMIN).text
    assert "Time zone set to America/Los_Angeles" in zone
    assert (
        "Deadline for 2025: Tuesday, March 17, 2026, 11:59 PM Central (Tuesday, March 17, 2026, "
        "9:59 PM Pacific your time) (set by @U0ADMIN)"
    ) in zone
    channel = workspace.pars("config channel <#C0DIGEST|cme-office>", user=ADMIN).text
    assert "The weekly digest goes to #C0DIGEST" in channel or "<#C0DIGEST>" in channel
    assert "not a time zone" in workspace.pars("config timezone Mars/Olympus", user=ADMIN).text
    assert "not a channel" in workspace.pars("config channel #cme", user=ADMIN).text
    assert (
        "falls in 2026" in workspace.pars("config deadline 2027-03-01 year=2025", user=ADMIN).text
    )
    back = workspace.pars("config deadline default year=2025", user=ADMIN).text
    assert (
        "The PARS deadline for 2025 is Tuesday, March 31, 2026, 11:59 PM Central (Tuesday, March "
        "31, 2026, 9:59 PM Pacific your time)."
    ) in back


def test_remind_off_on_and_status(workspace: Workspace) -> None:
    assert "Your reminders are *on*" in workspace.pars("remind status").text
    assert "Your reminders are *off*" in workspace.pars("remind off").text
    with session_scope(workspace.engine) as session:
        member = session.get(Member, (TEAM_ID, ALICE))
        assert member is not None and member.reminders is False
    on = workspace.pars("remind on").text
    assert "Your reminders are *on*" in on and "America/Chicago" in on
    assert "Say `on`, `off` or `status`" in workspace.pars("remind maybe").text


def test_using_the_bot_subscribes_to_the_countdown(workspace: Workspace) -> None:
    workspace.pars("help", user=BOB)
    dms = reminder_pass(workspace, "2027-03-30T09:00")  # 1 day before the 2026 deadline
    assert [d.params["channel"] for d in dms] == ["D0BOB"]
    valid_blocks(dms[0].params["blocks"])
    assert "1 day to the PARS deadline for 2026" in dms[0].text
    assert dms[0].buttons == ["Open checklist"]
    opened = workspace.reply(workspace.click(dms[0], "Open checklist", user=BOB))
    assert "*PARS reporting for 2026*" in opened.text


def test_the_unclosed_reminder_and_its_buttons(workspace: Workspace) -> None:
    workspace.pars(ADD_GR.replace("Medicine Grand Rounds", "Grand Rounds <Cardiology> & More"))
    dms = reminder_pass(workspace, "2026-03-30T09:00")
    unclosed = next(d for d in dms if "ended and is not closed" in d.text)
    valid_blocks(unclosed.params["blocks"])
    # What the user typed is escaped for Slack markup.
    raw = json.dumps(unclosed.params["blocks"])
    assert "Grand Rounds &lt;Cardiology&gt; &amp; More" in raw
    assert unclosed.buttons == ["Close", "Enter counts", "Snooze 3 days"]
    close = workspace.reply(workspace.click(unclosed, "Close"))
    assert "can't be closed yet. PARS still needs for *Active*: Delivery method" in close.text
    workspace.click(unclosed, "Enter counts")
    form = workspace.opened_view()
    valid_view(form)
    assert form["title"]["text"] == "Learner counts"
    workspace.submit(form, form_state(form, physician="1040", other="212"))
    confirmation = workspace.slack.wait_for("chat.postMessage", len(dms) + 1)[-1]
    assert "Recorded learner counts of `GR-2025`" in Reply(confirmation.params).text
    snoozed = workspace.reply(workspace.click(unclosed, "Snooze 3 days"))
    assert "Snoozed `GR-2025`: no reminders about it until after Thu 2 Apr" in snoozed.text
    with session_scope(workspace.engine) as session:
        assert len(session.exec(select(Snooze)).all()) == 1
    assert [d for d in reminder_pass(workspace, "2026-03-31T09:00") if "ended and" in d.text] == []


def _home(workspace: Workspace, user: str = ALICE) -> dict[str, Any]:
    workspace.send_event({"type": "app_home_opened", "user": user, "tab": "home"})
    return workspace.slack.wait_for("views.publish")[-1].params["view"]


def _click_in_home(workspace: Workspace, view: dict[str, Any], label: str) -> None:
    reply = Reply({"blocks": view["blocks"]})
    button = reply.button(label)
    body = payloads.interactive(
        {
            "type": "block_actions",
            "user": {"id": ALICE, "team_id": TEAM_ID},
            "team": {"id": TEAM_ID, "domain": "local"},
            "api_app_id": "A0PARSBOT",
            "container": {"type": "view", "view_id": "V1"},
            "view": {"type": "home", "id": "V1", "blocks": view["blocks"]},
            "trigger_id": "trig-home",
            "actions": [{**button, "type": "button", "action_ts": "1"}],
        }
    )
    workspace.send(body)


def test_app_home_shows_the_checklist_and_what_needs_the_user(workspace: Workspace) -> None:
    workspace.pars(ADD_GR)
    workspace.pars(
        'add-activity id=EM-1 title="Opioid REMS" format=enduring start=2025-03-01 end=2027-02-28'
    )
    view = _home(workspace)
    valid_view(view)
    texts = "\n".join(section_texts(view))
    assert "*PARS reporting for 2026*" in texts
    assert "*Needs you*" in texts
    assert (
        "`GR-2025` *Medicine Grand Rounds* · Regularly scheduled series · ended 2025-12-16" in texts
    )
    assert "`EM-1` *Opioid REMS* · counts as of Dec 31 due" in texts
    publishes = len(workspace.calls("views.publish"))
    _click_in_home(workspace, view, "Snooze 3 days")
    modal = workspace.opened_view()
    assert "Snoozed `GR-2025`" in "\n".join(section_texts(modal))
    workspace.slack.wait_for("views.publish", publishes + 1)
    _click_in_home(workspace, view, "Close")
    refusal = workspace.opened_view(2)
    assert "can't be closed yet" in "\n".join(section_texts(refusal))
    _click_in_home(workspace, view, "Mark done")
    home = workspace.slack.wait_for("views.publish", publishes + 3)[-1].params["view"]
    assert "✅ *1. Accept the annual agreement in PARS*" in "\n".join(section_texts(home))


def test_a_complete_activity_closes_from_its_reminder(workspace: Workspace) -> None:
    workspace.pars(f"{ADD_GR} {COMPLETE}")
    workspace.pars("counts GR-2025 physicians=1040 others=212")
    dms = reminder_pass(workspace, "2026-03-30T09:00")
    unclosed = next(d for d in dms if "ended and is not closed" in d.text)
    assert "ready to close" in unclosed.text
    assert unclosed.buttons == ["Close", "Snooze 3 days"]
    closed = workspace.reply(workspace.click(unclosed, "Close"))
    assert "Closed `GR-2025`" in closed.text
    assert [d for d in reminder_pass(workspace, "2026-03-31T09:00") if "ended and" in d.text] == []


def test_the_weekly_digest_goes_to_the_configured_channel(workspace: Workspace) -> None:
    workspace.pars(ADD_GR)
    workspace.pars(ADD_GR.replace("GR-2025", "BOB-1"), user=BOB)
    workspace.pars("config channel <#C0DIGEST|cme-office>", user=ADMIN)
    tuesday = reminder_pass(workspace, "2026-03-24T09:00")
    assert [d.params["channel"] for d in tuesday if d.params["channel"] == "C0DIGEST"] == []
    monday = reminder_pass(workspace, "2026-03-30T09:00")
    digest = [d for d in monday if d.params["channel"] == "C0DIGEST"]
    assert len(digest) == 1
    valid_blocks(digest[0].params["blocks"])
    text = digest[0].text
    assert "PARS weekly digest" in text
    assert "*PARS reporting for 2025* — due Tuesday, March 31, 2026" in text
    assert "*Ended, not closed:* 2\n• @U0ALICE: 1\n• @U0BOB: 1" in text
    assert [
        d for d in reminder_pass(workspace, "2026-03-30T11:00") if d.params["channel"] == "C0DIGEST"
    ] == []


def test_the_deadline_reads_as_accme_says_it_and_each_reader_sees_their_own_time(
    workspace: Workspace,
) -> None:
    workspace.pars("config timezone America/New_York", user=ADMIN)
    reply = workspace.pars("status year=2026")
    sent = reply.params["blocks"][0]["text"]["text"]
    due = datetime(2027, 3, 31, 23, 59, tzinfo=ZoneInfo("America/Chicago"))
    assert "due Wednesday, March 31, 2027, 11:59 PM Central (" in sent
    # Slack shows the token in each reader's own zone; its fallback is the workspace's.
    assert (
        f"<!date^{int(due.timestamp())}^{{date_long_pretty}} at {{time}}|"
        "Thursday, April 1, 2027, 12:59 AM Eastern> your time)"
    ) in sent


def test_saving_the_summary_after_step_4_is_done_says_so(workspace: Workspace) -> None:
    workspace.pars("checklist summary done year=2025")
    name = workspace.command("summary year=2025")
    view = workspace.opened_view()
    entries = {
        "advertising_income": "0",
        "registration_fees": "48000",
        "government_grants": "0",
        "private_donations": "0",
    }
    assert ack_body(workspace.submit(view, form_state(view, **entries))) == {}
    confirmation = workspace.reply(name).text
    assert "Mark it done" not in confirmation
    assert "Step 4 was marked done by @U0ALICE on 2026-11-25" in confirmation
