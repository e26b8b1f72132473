"""The add/edit modal of `/pars add-activity` and `/pars edit ID`, submitted as Slack does."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from storage.models import Activity, AuditEvent
from storage.pars import rules
from storage.pars.fields import FIELDS
from tests.handlers.conftest import (
    ADMIN,
    ALICE,
    BOB,
    Workspace,
    ack_body,
    form_state,
    section_texts,
)

GR_ENTRIES: dict[str, Any] = {
    "activity_id": "GR-2025",
    "title": "Medicine Grand Rounds",
    "format": "rss",
    "start_date": "2025-01-07",
    "end_date": "2025-12-16",
    "delivery_method": "in-person",
    "city": "Chicago",
    "state": "IL",
    "country": "USA",
    "credits": "1",
    "description": "Weekly case conference",
    "providership": "direct",
    "cme_finder": "no",
    "outcome_measures": ["knowledge", "competence"],
}
ADD_GR = (
    'add-activity id=GR-2025 title="Medicine Grand Rounds" format=rss start=2025-01-07 '
    "end=2025-12-16 delivery=in-person city=Chicago state=IL country=USA credits=1 "
    'description="Weekly case conference" providership=direct finder=no outcomes=knowledge'
)


def stored(workspace: Workspace, activity_id: str) -> Activity | None:
    with Session(workspace.engine) as session:
        return session.exec(select(Activity).where(Activity.activity_id == activity_id)).first()


def all_activities(workspace: Workspace) -> list[Activity]:
    with Session(workspace.engine) as session:
        return list(session.exec(select(Activity)).all())


def audit(workspace: Workspace) -> list[AuditEvent]:
    with Session(workspace.engine) as session:
        return list(session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all())


def inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}


def open_add_form(workspace: Workspace) -> tuple[str, dict[str, Any]]:
    name = workspace.command("add-activity")
    return name, workspace.opened_view()


def test_add_without_arguments_opens_a_form_with_every_field(workspace: Workspace) -> None:
    name = workspace.command("add-activity")
    opened = workspace.slack.wait_for("views.open")[0].params
    assert opened["trigger_id"] == f"trig-{name}"
    view = opened["view"]
    assert view["type"] == "modal"
    assert view["title"]["text"] == "New activity"
    assert view["submit"]["text"] == "Save"
    fields = inputs(view)
    assert list(fields) == [f.name for f in FIELDS]
    assert [fields[f.name]["label"]["text"] for f in FIELDS] == [f.label for f in FIELDS]
    required = [name for name, block in fields.items() if not block.get("optional")]
    assert required == ["title", "format", "start_date", "end_date"]

    fmt = fields["format"]["element"]
    assert fmt["type"] == "static_select"
    assert [o["value"] for o in fmt["options"]] == list(rules.FORMATS)
    assert [o["text"]["text"] for o in fmt["options"]] == [f.label for f in rules.FORMATS.values()]
    assert "initial_option" not in fmt
    assert fields["start_date"]["element"]["type"] == "datepicker"
    assert fields["end_date"]["element"]["type"] == "datepicker"
    owner = fields["owner_user_id"]["element"]
    assert owner == {**owner, "type": "users_select", "initial_user": ALICE}
    outcomes = fields["outcome_measures"]["element"]
    assert outcomes["type"] == "multi_static_select"
    # Each measure alone, objective, subjective or both.
    assert [o["value"] for o in outcomes["options"]][:4] == [
        "knowledge",
        "knowledge:objective",
        "knowledge:subjective",
        "knowledge:objective+subjective",
    ]
    assert len(outcomes["options"]) == 4 * len(rules.OUTCOME_MEASURES)
    assert "e.g. 2025-0042" in fields["activity_id"]["element"]["placeholder"]["text"]
    # Opening the form is the whole answer to the command: no message yet.
    assert not workspace.calls("response_url")
    assert all_activities(workspace) == []


def test_submitting_the_add_form_saves_and_confirms_where_the_command_was_typed(
    workspace: Workspace,
) -> None:
    name, view = open_add_form(workspace)
    response = workspace.submit(view, form_state(view, **GR_ENTRIES))
    assert ack_body(response) == {}  # the modal closes

    reply = workspace.reply(name)
    assert reply.ephemeral
    assert "Added `GR-2025` *Medicine Grand Rounds* — PARS status: *Ready to Close*" in reply.text
    needs = "PARS still needs for *Closed*: Commercial support, Physician learners, Other learners"
    assert needs in reply.text
    assert reply.buttons == ["Fill in the rest"]
    assert "assigned" not in reply.text

    activity = stored(workspace, "GR-2025")
    assert activity is not None
    assert activity.title == "Medicine Grand Rounds"
    assert activity.format == "rss"
    assert activity.credits == Decimal("1.00")
    assert activity.outcome_measures == ["knowledge", "competence"]
    assert activity.cme_finder is False
    assert (activity.owner_user_id, activity.created_by) == (ALICE, ALICE)
    assert activity.joint_providers is None and activity.supporters is None
    assert not workspace.calls("chat.postMessage")


def test_an_empty_activity_id_gets_an_assigned_one(workspace: Workspace) -> None:
    workspace.pars(
        'add-activity title="Journal Club" format=journal start=2025-02-01 end=2025-11-30'
    )  # takes 2025-0001
    name, view = open_add_form(workspace)
    entries = GR_ENTRIES | {"activity_id": None, "title": "Tumor Board"}
    assert ack_body(workspace.submit(view, form_state(view, **entries))) == {}
    reply = workspace.reply(name)
    assert "Added `2025-0002` *Tumor Board*" in reply.text
    assert "The bot assigned the ID `2025-0002`." in reply.text
    assert stored(workspace, "2025-0002") is not None


def test_the_owner_picked_in_the_form_owns_the_activity(workspace: Workspace) -> None:
    name, view = open_add_form(workspace)
    workspace.submit(view, form_state(view, **GR_ENTRIES, owner_user_id=BOB))
    assert "Added `GR-2025`" in workspace.reply(name).text
    activity = stored(workspace, "GR-2025")
    assert activity is not None and activity.owner_user_id == BOB
    assert activity.created_by == ALICE


def test_bad_values_are_shown_under_their_inputs_and_nothing_is_saved(
    workspace: Workspace,
) -> None:
    name, view = open_add_form(workspace)
    bad = GR_ENTRIES | {"start_date": "2025-06-01", "end_date": "2025-05-01", "credits": "1.3"}
    body = ack_body(workspace.submit(view, form_state(view, **bad)))
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {"end_date", "credits"}
    assert "End date 2025-05-01 is before the start date 2025-06-01" in body["errors"]["end_date"]
    assert "1.3 is not a multiple of 0.25" in body["errors"]["credits"]
    assert all_activities(workspace) == []
    assert not workspace.calls("response_url")

    # The form stays open with the entries; corrected, it saves.
    good = bad | {"end_date": "2025-12-16", "credits": "1.25"}
    assert ack_body(workspace.submit(view, form_state(view, **good))) == {}
    assert "Added `GR-2025`" in workspace.reply(name).text
    activity = stored(workspace, "GR-2025")
    assert activity is not None and activity.credits == Decimal("1.25")


def test_a_span_too_long_and_a_typed_bad_state_are_named(workspace: Workspace) -> None:
    _name, view = open_add_form(workspace)
    bad = GR_ENTRIES | {"end_date": "2026-03-01", "state": "Illinois"}
    body = ack_body(workspace.submit(view, form_state(view, **bad)))
    assert body["response_action"] == "errors"
    assert "at most 1 year" in body["errors"]["end_date"]
    assert "not a 2-letter US state code" in body["errors"]["state"]
    assert all_activities(workspace) == []


def test_a_taken_activity_id_is_refused_under_the_id(workspace: Workspace) -> None:
    workspace.pars(ADD_GR)
    _name, view = open_add_form(workspace)
    body = ack_body(workspace.submit(view, form_state(view, **GR_ENTRIES | {"title": "Another"})))
    assert body["response_action"] == "errors"
    assert "already exists" in body["errors"]["activity_id"]
    assert [a.title for a in all_activities(workspace)] == ["Medicine Grand Rounds"]


def test_an_expired_response_url_gets_the_confirmation_by_dm(workspace: Workspace) -> None:
    name, view = open_add_form(workspace)
    workspace.slack.expired_response_urls.add(workspace.slack.response_url(name))
    assert ack_body(workspace.submit(view, form_state(view, **GR_ENTRIES))) == {}

    posted = workspace.slack.wait_for("chat.postMessage")[0].params
    opened = workspace.calls("conversations.open")
    assert [c.params["users"] for c in opened] == [ALICE]
    assert posted["channel"] == "D0ALICE"
    assert "Added `GR-2025` *Medicine Grand Rounds*" in posted["text"]
    assert "Fill in the rest" in json.dumps(posted["blocks"])
    # The response URL was tried first (and answered 404).
    assert len(workspace.calls("response_url")) == 1
    assert stored(workspace, "GR-2025") is not None


def test_edit_opens_the_form_filled_in(workspace: Workspace) -> None:
    workspace.pars(ADD_GR)
    name = workspace.command("edit gr-2025")
    opened = workspace.slack.wait_for("views.open")[0].params
    assert opened["trigger_id"] == f"trig-{name}"
    view = opened["view"]
    assert view["title"]["text"] == "Edit GR-2025"
    fields = inputs(view)
    assert list(fields) == [f.name for f in FIELDS]
    el = {name: block["element"] for name, block in fields.items()}
    assert el["activity_id"]["initial_value"] == "GR-2025"
    assert el["title"]["initial_value"] == "Medicine Grand Rounds"
    assert el["format"]["initial_option"]["value"] == "rss"
    assert [o["value"] for o in el["delivery_method"]["initial_options"]] == ["in-person"]
    assert el["start_date"]["initial_date"] == "2025-01-07"
    assert el["end_date"]["initial_date"] == "2025-12-16"
    assert el["credits"]["initial_value"] == "1"
    assert el["cme_finder"]["initial_option"]["value"] == "no"
    assert [o["value"] for o in el["outcome_measures"]["initial_options"]] == ["knowledge"]
    assert el["owner_user_id"]["initial_user"] == ALICE
    assert "initial_option" not in el["commercial_support"]
    assert "initial_value" not in el["joint_providers"]
    assert not workspace.replies(name)


def test_saving_the_edit_form_unchanged_changes_nothing(workspace: Workspace) -> None:
    joint = ADD_GR.replace("providership=direct", "providership=joint")
    workspace.pars(joint + ' joint-providers="Univ. Hospital; State Society"')
    workspace.pars(
        'edit GR-2025 commercial-support=yes supporters="Acme:monetary:5000; Beta:in-kind"'
    )
    name = workspace.command("edit GR-2025")
    view = workspace.opened_view()
    assert ack_body(workspace.submit(view, form_state(view))) == {}
    reply = workspace.reply(name)
    assert "No change to `GR-2025`" in reply.text
    assert [e.action for e in audit(workspace)] == ["create", "update"]


def test_submitting_the_edit_form_updates_and_audits(workspace: Workspace) -> None:
    workspace.pars(ADD_GR)
    name = workspace.command("edit GR-2025")
    view = workspace.opened_view()
    changes = {"credits": "1.5", "city": "Evanston", "commercial_support": "no"}
    assert ack_body(workspace.submit(view, form_state(view, **changes))) == {}

    reply = workspace.reply(name)
    assert reply.ephemeral
    assert "Updated `GR-2025` *Medicine Grand Rounds*" in reply.text
    assert "• AMA PRA Category 1 credits: 1 → 1.5" in reply.text
    assert "• City: Chicago → Evanston" in reply.text
    assert "• Commercial support: — → no" in reply.text
    assert "PARS still needs for *Closed*: Physician learners, Other learners" in reply.text

    activity = stored(workspace, "GR-2025")
    assert activity is not None
    assert (activity.credits, activity.city, activity.commercial_support) == (
        Decimal("1.50"),
        "Evanston",
        False,
    )
    events = audit(workspace)
    assert [e.action for e in events] == ["create", "update"]
    assert events[1].user_id == ALICE
    assert events[1].changes == {
        "city": {"before": "Chicago", "after": "Evanston"},
        "credits": {"before": "1", "after": "1.5"},
        "commercial_support": {"before": "", "after": "no"},
    }


def test_a_stale_edit_keeps_the_entries_and_says_who_changed_what(workspace: Workspace) -> None:
    workspace.pars(ADD_GR)
    name = workspace.command("edit GR-2025")
    view = workspace.opened_view()
    # While Alice has the form open, an admin changes the credits inline.
    assert "Updated `GR-2025`" in workspace.pars("edit GR-2025 credits=2", user=ADMIN).text

    body = ack_body(workspace.submit(view, form_state(view, credits="1.5", city="Evanston")))
    assert body["response_action"] == "update"
    again = body["view"]
    notice = " ".join(section_texts(again))
    assert f"<@{ADMIN}> changed AMA PRA Category 1 credits of `GR-2025`" in notice
    assert "You both changed AMA PRA Category 1 credits: the form shows your value" in notice
    kept = {name: block["element"] for name, block in inputs(again).items()}
    assert kept["credits"]["initial_value"] == "1.5"
    assert kept["city"]["initial_value"] == "Evanston"
    assert kept["title"]["initial_value"] == "Medicine Grand Rounds"
    assert kept["format"]["initial_option"]["value"] == "rss"
    assert [o["value"] for o in kept["outcome_measures"]["initial_options"]] == ["knowledge"]
    assert kept["owner_user_id"]["initial_user"] == ALICE
    # Nothing of Alice's was saved over the admin's change.
    activity = stored(workspace, "GR-2025")
    assert activity is not None and (activity.credits, activity.city) == (
        Decimal("2.00"),
        "Chicago",
    )
    assert not workspace.replies(name)

    # Saving the updated form again is a deliberate overwrite.
    assert ack_body(workspace.submit(again, form_state(again))) == {}
    reply = workspace.reply(name)
    assert "Updated `GR-2025`" in reply.text
    assert "• AMA PRA Category 1 credits: 2 → 1.5" in reply.text
    assert "• City: Chicago → Evanston" in reply.text
    activity = stored(workspace, "GR-2025")
    assert activity is not None and (activity.credits, activity.city) == (
        Decimal("1.50"),
        "Evanston",
    )
    events = audit(workspace)
    assert [(e.action, e.user_id) for e in events] == [
        ("create", ALICE),
        ("update", ADMIN),
        ("update", ALICE),
    ]
    assert set(events[2].changes) == {"credits", "city"}


def test_a_stale_form_takes_in_changes_the_user_did_not_make(workspace: Workspace) -> None:
    workspace.pars(ADD_GR)
    name = workspace.command("edit GR-2025")
    view = workspace.opened_view()
    workspace.pars("edit GR-2025 credits=2", user=ADMIN)

    body = ack_body(workspace.submit(view, form_state(view, city="Evanston")))
    again = body["view"]
    notice = " ".join(section_texts(again))
    assert "Their changes are in the form below, with yours. Save to keep both." in notice
    kept = {name: block["element"] for name, block in inputs(again).items()}
    assert kept["credits"]["initial_value"] == "2"  # the admin's, not the stale 1
    assert kept["city"]["initial_value"] == "Evanston"

    assert ack_body(workspace.submit(again, form_state(again))) == {}
    assert "• City: Chicago → Evanston" in workspace.reply(name).text
    activity = stored(workspace, "GR-2025")
    assert activity is not None and (activity.credits, activity.city) == (
        Decimal("2.00"),
        "Evanston",
    )


def test_a_form_still_saves_after_the_activity_was_renamed(workspace: Workspace) -> None:
    workspace.pars(ADD_GR)
    name = workspace.command("edit GR-2025")
    view = workspace.opened_view()
    workspace.pars("edit GR-2025 id=GR-2025-A", user=ADMIN)

    body = ack_body(workspace.submit(view, form_state(view, city="Evanston")))
    assert body["response_action"] == "update"
    again = body["view"]
    kept = {name: block["element"] for name, block in inputs(again).items()}
    assert kept["activity_id"]["initial_value"] == "GR-2025-A"  # the admin's new ID
    assert kept["city"]["initial_value"] == "Evanston"

    assert ack_body(workspace.submit(again, form_state(again))) == {}
    assert "Updated `GR-2025-A`" in workspace.reply(name).text
    renamed = stored(workspace, "GR-2025-A")
    assert renamed is not None and renamed.city == "Evanston"
    assert stored(workspace, "GR-2025") is None


def test_someone_elses_activity_gets_no_form(workspace: Workspace) -> None:
    workspace.pars(ADD_GR)
    reply = workspace.reply(workspace.command("edit GR-2025", user=BOB))
    assert "belongs to @U0ALICE" in reply.text
    assert reply.ephemeral
    assert not workspace.calls("views.open")


def test_a_form_saved_after_a_reassignment_is_refused(workspace: Workspace) -> None:
    workspace.pars(ADD_GR)
    workspace.command("edit GR-2025")
    view = workspace.opened_view()
    workspace.pars(f"edit GR-2025 owner=<@{BOB}|bob>", user=ADMIN)
    body = ack_body(workspace.submit(view, form_state(view, credits="3")))
    assert body["response_action"] == "errors"
    assert f"belongs to @{BOB};" in body["errors"]["title"]  # plain text: no markup
    activity = stored(workspace, "GR-2025")
    assert activity is not None and activity.credits == Decimal("1.00")


def test_edit_of_a_closed_activity_does_not_open_the_form(workspace: Workspace) -> None:
    workspace.pars(ADD_GR + " commercial-support=no")
    workspace.pars("counts GR-2025 physicians=1040 others=212")
    assert "Closed `GR-2025`" in workspace.pars("close GR-2025").text
    reply = workspace.pars("edit GR-2025")
    assert "`GR-2025` is closed" in reply.text
    assert reply.ephemeral
    assert not workspace.calls("views.open")


def test_an_enduring_material_is_not_asked_for_a_delivery_method_or_location(
    workspace: Workspace,
) -> None:
    workspace.pars(
        'add-activity id=EM-1 title="Opioid REMS module" format=enduring '
        "start=2025-01-01 end=2027-06-30 credits=2"
    )
    name = workspace.command("edit EM-1")
    view = workspace.opened_view()
    shown = inputs(view)
    for field in ("delivery_method", "city", "state", "country"):
        assert field not in shown
    assert "credits" in shown and "format" in shown
    assert ack_body(workspace.submit(view, form_state(view, credits="2.5"))) == {}
    assert "AMA PRA Category 1 credits: 2 → 2.5" in workspace.reply(name).text
    # Changed to a series in the form, it is asked next time.
    workspace.pars("edit EM-1 format=rss end=2025-12-31")
    workspace.command("edit EM-1")
    assert "delivery_method" in inputs(workspace.opened_view(2))
