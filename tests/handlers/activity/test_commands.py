"""/pars commands through signed requests to the real Bolt app."""

from __future__ import annotations

from sqlmodel import Session, func, select

from bot.console.render import render_blocks
from storage.models import Activity, AuditEvent
from tests.handlers.conftest import ADD_GR, ALICE, BOB, COMPLETE, Workspace


def activity_count(workspace: Workspace) -> int:
    with Session(workspace.engine) as session:
        return session.exec(select(func.count()).select_from(Activity)).one()


def test_add_inline_then_show(workspace: Workspace) -> None:
    reply = workspace.pars(ADD_GR)
    assert reply.ephemeral
    assert "Added `GR-2025`" in reply.text
    assert "Draft" in reply.text
    shown = workspace.pars("show GR-2025").text
    assert "Medicine Grand Rounds" in shown
    assert "Regularly scheduled series" in shown
    assert "PARS still needs for *Active*: Delivery method" in shown
    assert "Delivery method" in shown


def test_add_without_id_assigns_a_readable_one(workspace: Workspace) -> None:
    reply = workspace.pars(
        'add-activity title="Journal Club" format=journal start=2025-02-01 end=2025-11-30'
    )
    assert "assigned the ID `2025-0001`" in reply.text
    second = workspace.pars(
        'add-activity title="Journal Club 2" format=journal start=2/1/2025 end=11/30/2025'
    )
    assert "`2025-0002`" in second.text


def test_unknown_key_suggests_and_saves_nothing(workspace: Workspace) -> None:
    reply = workspace.pars('add-activity title="X" fromat=rss start=2025-01-07 end=2025-12-16')
    assert reply.ephemeral
    assert "Did you mean `format=`?" in reply.text
    assert "Usage:" in reply.text
    assert activity_count(workspace) == 0


def test_bad_values_are_all_named_and_nothing_is_saved(workspace: Workspace) -> None:
    reply = workspace.pars('add-activity title="X" format=webinar start=2025-13-01 end=soon')
    assert "Format" in reply.text and "webinar" in reply.text
    assert "Start date" in reply.text and "2025-13-01" in reply.text
    assert "End date" in reply.text and "soon" in reply.text
    assert activity_count(workspace) == 0


def test_end_before_start_and_span_limit(workspace: Workspace) -> None:
    before = workspace.pars('add-activity title="X" format=rss start=2025-06-01 end=2025-05-01')
    assert "before the start date" in before.text
    span = workspace.pars('add-activity title="X" format=rss start=2025-01-01 end=2026-03-01')
    assert "at most 1 year" in span.text
    enduring = workspace.pars(
        'add-activity title="X" format=enduring start=2025-01-01 end=2028-06-01'
    )
    assert "at most 3 years" in enduring.text
    assert activity_count(workspace) == 0


def test_open_quote_is_explained(workspace: Workspace) -> None:
    reply = workspace.pars('add-activity title="Grand Rounds format=rss')
    assert "quote was left open" in reply.text
    assert activity_count(workspace) == 0


def test_unknown_subcommand_suggests(workspace: Workspace) -> None:
    assert "Did you mean `/pars close`?" in workspace.pars("clsoe GR-2025").text


def test_missing_and_unknown_id(workspace: Workspace) -> None:
    assert "Which activity?" in workspace.pars("show").text
    assert "No activity has the ID `NOPE`" in workspace.pars("show NOPE").text


def test_edit_inline_reports_changes_and_audits(workspace: Workspace) -> None:
    workspace.pars(ADD_GR)
    reply = workspace.pars(f"edit GR-2025 {COMPLETE}")
    assert "Updated `GR-2025`" in reply.text
    assert "Ready to Close" in reply.text
    assert "Physician learners" in reply.text  # still missing for Closed
    with Session(workspace.engine) as session:
        events = session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["create", "update"]
    assert events[1].user_id == ALICE
    assert events[1].changes["city"] == {"before": "", "after": "Chicago"}


def test_close_refused_lists_missing_with_edit_button_then_closes(workspace: Workspace) -> None:
    workspace.pars(ADD_GR)
    refused = workspace.pars("close GR-2025")
    assert "can't be closed yet" in refused.text
    assert "Delivery method" in refused.text and "Outcome measures" in refused.text
    refused.button("Open edit form")
    workspace.pars(f"edit GR-2025 {COMPLETE}")
    workspace.pars("counts GR-2025 physicians=1040 others=212")
    closed = workspace.pars("close GR-2025")
    assert "Closed `GR-2025`" in closed.text
    assert "Closed" in workspace.pars("show GR-2025").text
    assert "is closed" in workspace.pars("edit GR-2025 credits=2").text


def test_close_before_end_date_is_refused(workspace: Workspace) -> None:
    workspace.pars(
        'add-activity id=LC-1 title="Course" format=live-course start=2026-11-01 end=2026-12-05'
    )
    assert "can be closed only after its end date" in workspace.pars("close LC-1").text


def test_only_owner_or_admin_changes_an_activity(workspace: Workspace) -> None:
    workspace.pars(ADD_GR, user=ALICE)
    refused = workspace.pars("edit GR-2025 credits=2", user=BOB)
    assert "belongs to @U0ALICE" in refused.text
    assert "only admins" in workspace.pars("reopen GR-2025", user=BOB).text.lower()


def test_workspaces_do_not_see_each_other(workspace: Workspace) -> None:
    workspace.pars(ADD_GR, team="T0OTHER")
    assert "No activity has the ID" in workspace.pars("show GR-2025").text
    assert "Medicine Grand Rounds" in workspace.pars("show GR-2025", team="T0OTHER").text


def test_a_shared_list_goes_to_the_channel_without_buttons(workspace: Workspace) -> None:
    workspace.pars(ADD_GR)
    workspace.pars(f"edit GR-2025 {COMPLETE}")
    private = workspace.pars("list ready")
    assert "Close selected" in [b.label for b in render_blocks(private.params["blocks"]).buttons]
    shared = workspace.pars("list ready share")
    assert not shared.ephemeral
    assert "GR-2025" in shared.text
    rendered = render_blocks(shared.params["blocks"])
    assert rendered.buttons == [] and rendered.checkboxes == []


def test_show_lists_the_count_history(workspace: Workspace) -> None:
    workspace.pars(ADD_GR)
    workspace.pars("counts GR-2025 physicians=500 others=100 as-of=2025-06-30")
    workspace.pars("counts GR-2025 physicians=1040 others=212")
    shown = workspace.pars("show GR-2025").text
    assert "Physician learners:* 1040 (as of 2025-12-16)" in shown
    assert "Count history" in shown
    assert "Physician learners: 500 as of 2025-06-30, by @U0ALICE on 2026-11-25" in shown


def test_a_shared_card_goes_to_the_channel_without_an_edit_button(workspace: Workspace) -> None:
    workspace.pars(ADD_GR)
    assert [
        b.label for b in render_blocks(workspace.pars("show GR-2025").params["blocks"]).buttons
    ] == ["Edit"]
    shared = workspace.pars("show GR-2025 share")
    assert not shared.ephemeral
    assert "Medicine Grand Rounds" in shared.text
    assert render_blocks(shared.params["blocks"]).buttons == []


def test_show_leaves_out_fields_pars_does_not_ask_for(workspace: Workspace) -> None:
    workspace.pars(
        'add-activity id=EM-1 title="Heart Failure Module" format=EM start=2024-03-01 '
        "end=2027-02-28 finder=no"
    )
    shown = workspace.pars("show EM-1").text
    assert "Format:* Enduring material" in shown
    for absent in ("Delivery method", "City", "CME Finder fee", "MOC board", "Joint providers"):
        assert absent not in shown, absent
    workspace.pars(ADD_GR)
    series = workspace.pars("show GR-2025").text
    assert "Delivery method:* —" in series and "City:* —" in series
