"""The activity record as PARS asks it today, through the real Bolt app and database."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from storage.models import Activity, AuditEvent
from tests.handlers.conftest import ADD_GR, Workspace, form_state


def rows(workspace: Workspace, model: Any) -> list[Any]:
    with Session(workspace.engine) as session:
        return list(session.exec(select(model)).all())


def activity(workspace: Workspace) -> Activity:
    [found] = rows(workspace, Activity)
    return found


# --- CME Passport ----------------------------------------------------------------------------


def test_passport_answers_are_kept_and_shown(workspace: Workspace) -> None:
    reply = workspace.pars(
        f"{ADD_GR} passport=yes fee=variable registration=limited url=https://x.org"
    )
    assert "Added" in reply.text
    stored = activity(workspace)
    assert (stored.cme_finder, stored.finder_fee, stored.finder_registration) == (
        True,
        "variable",
        "limited",
    )
    shown = workspace.pars("show GR-2025").text
    assert "*Listed in CME Passport:* yes" in shown
    assert "*CME Passport fee:* Variable" in shown
    assert "*CME Passport registration:* Limited" in shown


def test_finder_and_a_dollar_fee_still_work_and_the_reply_says_how_it_was_read(
    workspace: Workspace,
) -> None:
    reply = workspace.pars(f'{ADD_GR} finder=yes fee=250 registration="Open to all"')
    assert 'CME Passport fee: "250" read as *Yes*; PARS asks only whether there is a fee' in (
        reply.text
    )
    assert activity(workspace).finder_fee == "yes"
    reply = workspace.pars("edit GR-2025 fee=0")
    assert "read as *No, it's free*" in reply.text
    assert activity(workspace).finder_fee == "free"


def test_another_registration_is_refused_naming_the_two(workspace: Workspace) -> None:
    reply = workspace.pars(f'{ADD_GR} passport=yes registration="members only"')
    assert '"members only" is not one of: open, limited' in reply.text
    assert rows(workspace, Activity) == [] and rows(workspace, AuditEvent) == []


def test_show_says_what_the_migration_guessed_until_the_field_is_given_again(
    workspace: Workspace,
) -> None:
    workspace.pars(f"{ADD_GR} passport=yes fee=yes")
    with Session(workspace.engine) as session:
        stored = session.exec(select(Activity)).one()
        stored.conversion_notes = {"finder_fee": 'The fee was $250.00: read as "Yes"'}
        session.add(stored)
        session.commit()
    shown = workspace.pars("show GR-2025").text
    assert '*Converted (CME Passport fee):* The fee was $250.00: read as "Yes"' in shown
    workspace.pars("edit GR-2025 fee=variable")
    assert "Converted" not in workspace.pars("show GR-2025").text
    assert activity(workspace).conversion_notes is None


def test_the_form_offers_the_passport_answers(workspace: Workspace) -> None:
    workspace.pars(f"{ADD_GR} passport=yes fee=free registration=open")
    workspace.command("edit GR-2025")
    view = workspace.opened_view()
    elements = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert [o["value"] for o in elements["finder_fee"]["options"]] == ["yes", "free", "variable"]
    assert elements["finder_fee"]["initial_option"]["value"] == "free"
    assert elements["finder_registration"]["initial_option"]["value"] == "open"
    values = form_state(view, finder_fee="variable", finder_registration="limited")
    workspace.submit(view, values)
    stored = activity(workspace)
    assert (stored.finder_fee, stored.finder_registration) == ("variable", "limited")


# --- delivery method -------------------------------------------------------------------------


def test_a_course_in_the_room_and_streamed_is_one_activity_with_both(workspace: Workspace) -> None:
    reply = workspace.pars(f"{ADD_GR} delivery=in-person,live-streamed")
    assert "Added" in reply.text
    assert activity(workspace).delivery_method == ["in-person", "live-streamed"]
    shown = workspace.pars("show GR-2025").text
    assert "*Delivery method:* In-Person, Live-Streamed" in shown
    # In person is one of them: the place is needed.
    assert "City" in shown and "Country" in shown
    workspace.pars("edit GR-2025 delivery=live-streamed")
    assert activity(workspace).delivery_method == ["live-streamed"]
    workspace.pars("edit GR-2025 delivery=hybrid")
    assert activity(workspace).delivery_method == ["in-person", "live-streamed"]


def test_the_form_offers_the_methods_as_a_multi_select(workspace: Workspace) -> None:
    workspace.pars(f"{ADD_GR} delivery=hybrid")
    workspace.command("edit GR-2025")
    view = workspace.opened_view()
    element = next(b["element"] for b in view["blocks"] if b.get("block_id") == "delivery_method")
    assert element["type"] == "multi_static_select"
    assert [o["value"] for o in element["initial_options"]] == ["in-person", "live-streamed"]
    workspace.submit(view, form_state(view, delivery_method=["live-streamed"]))
    assert activity(workspace).delivery_method == ["live-streamed"]


# --- outcome measures ------------------------------------------------------------------------


def test_outcomes_with_objective_or_subjective_and_today_s_names(workspace: Workspace) -> None:
    workspace.pars(f"{ADD_GR} outcomes=knowledge:objective,patient-health")
    assert activity(workspace).outcome_measures == ["knowledge:objective", "patient-health"]
    shown = workspace.pars("show GR-2025").text
    assert "*Outcome measures:* Learner Knowledge (Objective), Patient Health" in shown
    workspace.pars("edit GR-2025 outcomes=competence,patient-outcomes")
    assert activity(workspace).outcome_measures == ["competence", "patient-health"]


def test_the_form_offers_each_measure_and_its_kinds(workspace: Workspace) -> None:
    workspace.pars(f"{ADD_GR} outcomes=knowledge:objective")
    workspace.command("edit GR-2025")
    view = workspace.opened_view()
    element = next(b["element"] for b in view["blocks"] if b.get("block_id") == "outcome_measures")
    labels = [o["text"]["text"] for o in element["options"]]
    assert "Learner Knowledge (Objective, Subjective)" in labels and "Patient Health" in labels
    assert [o["value"] for o in element["initial_options"]] == ["knowledge:objective"]
    workspace.submit(
        view, form_state(view, outcome_measures=["knowledge:subjective", "community-health"])
    )
    assert activity(workspace).outcome_measures == ["knowledge:subjective", "community-health"]


# --- limits and forms ------------------------------------------------------------------------


def test_help_and_the_form_say_an_rss_s_credits_are_for_the_whole_series(
    workspace: Workspace,
) -> None:
    assert "a weekly one-hour series is about 52 credits" in workspace.pars("help fields").text
    workspace.command("add-activity")
    view = workspace.opened_view()
    credits = next(b["element"] for b in view["blocks"] if b.get("block_id") == "credits")
    assert "the whole series" in credits["placeholder"]["text"]


def test_limits_refuse_with_a_message_and_save_nothing(workspace: Workspace) -> None:
    for typed, words in (
        ("accme-id=AB-12", "digits only"),
        ('commercial-support=yes supporters="Acme:monetary:5000.50"', "whole dollars"),
        ("description=" + "x" * 2501, "at most 2500 fit"),
    ):
        reply = workspace.pars(f"{ADD_GR} {typed}")
        assert words in reply.text
    assert rows(workspace, Activity) == []
