"""REMS, MIPS and commendation tags, through the real Bolt app and database: optional, kept,
shown, refused with a suggestion for a near miss, in the form."""

from __future__ import annotations

from sqlmodel import Session, select

from storage.models import Activity, AuditEvent
from tests.handlers.conftest import ADD_GR, Workspace, form_state


def stored(workspace: Workspace) -> Activity:
    with Session(workspace.engine) as session:
        return session.exec(select(Activity)).one()


def test_rems_mips_and_commendation_are_kept_and_shown(workspace: Workspace) -> None:
    reply = workspace.pars(
        f'{ADD_GR} rems=opioid rems-id=OA-2025-77 mips=yes commendation="c14; ENGAGES  teams"'
    )
    assert "Added" in reply.text
    activity = stored(workspace)
    assert (activity.rems_program, activity.rems_id, activity.mips) == (
        "opioid-analgesic",
        "OA-2025-77",
        True,
    )
    assert activity.commendation_tags == ["C1", "C14"]  # in the menu's order
    shown = workspace.pars("show GR-2025").text
    assert "*REMS program:* Opioid Analgesic" in shown
    assert "*REMS identifier:* OA-2025-77" in shown
    assert "*MIPS:* yes" in shown
    assert "*Commendation tags:* Engages Teams, Improves Performance" in shown
    # Optional: nothing of them is needed to close.
    assert "REMS" not in shown.split("PARS still needs")[1].split("\n")[0]


def test_a_near_miss_gets_a_suggestion_and_nothing_is_saved(workspace: Workspace) -> None:
    reply = workspace.pars(f'{ADD_GR} commendation="Engages Team; Improves Perfomance"')
    assert '"Engages Team" is not a criterion of the Menu for Accreditation with Commendation' in (
        reply.text
    )
    assert "did you mean Engages Teams?" in reply.text
    reply = workspace.pars(f"{ADD_GR} rems=methadone")
    assert '"methadone" is not one of: opioid-analgesic, mycophenolate' in reply.text
    reply = workspace.pars(f"{ADD_GR} rems-id=X1")
    assert "REMS identifier is given without its REMS program" in reply.text
    with Session(workspace.engine) as session:
        assert session.exec(select(Activity)).all() == []
        assert session.exec(select(AuditEvent)).all() == []


def test_a_criterion_number_out_of_range_names_the_range(workspace: Workspace) -> None:
    reply = workspace.pars(f"{ADD_GR} commendation=C99")
    assert '"C99" is not a criterion' in reply.text
    assert "they are numbered C1 to C16" in reply.text
    assert "did you mean" not in reply.text  # no name is near a number
    with Session(workspace.engine) as session:
        assert session.exec(select(Activity)).all() == []


def test_the_form_offers_rems_mips_and_the_criteria(workspace: Workspace) -> None:
    workspace.pars(f"{ADD_GR} commendation=C4")
    workspace.command("edit GR-2025")
    view = workspace.opened_view()
    elements = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert [o["value"] for o in elements["rems_program"]["options"]] == [
        "opioid-analgesic",
        "mycophenolate",
    ]
    assert [o["value"] for o in elements["mips"]["options"]] == ["yes", "no"]
    tags = elements["commendation_tags"]
    assert tags["type"] == "multi_static_select" and len(tags["options"]) == 16
    assert [o["value"] for o in tags["initial_options"]] == ["C4"]
    workspace.submit(
        view,
        form_state(
            view,
            rems_program="mycophenolate",
            rems_id="MY-9",
            mips="no",
            commendation_tags=["C4", "C16"],
        ),
    )
    activity = stored(workspace)
    assert (activity.rems_program, activity.rems_id, activity.mips) == (
        "mycophenolate",
        "MY-9",
        False,
    )
    assert activity.commendation_tags == ["C4", "C16"]
