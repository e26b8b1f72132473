"""MOC per certifying board, through the real Bolt app and database: the one-line syntax, the
keys of one board until now, the form, show and close."""

from __future__ import annotations

from sqlmodel import Session, select

from storage.models import Activity, AuditEvent
from tests.handlers.conftest import ADD_GR, COMPLETE, Workspace, form_state

ABIM = {
    "board": "ABIM",
    "points": "1.5",
    "credit_types": ["Medical Knowledge", "Practice Assessment"],
    "claim_date": "2026-06-30",
}
ABP = {
    "board": "ABP",
    "points": "1",
    "credit_types": ["Lifelong Learning and Self-Assessment"],
    "claim_date": None,
}
TWO_BOARDS = (
    'moc-boards="abim:1.5:medical knowledge+Practice Assessment:2026-06-30; '
    'ABP:1:Lifelong Learning and Self-Assessment"'
)


def stored(workspace: Workspace) -> Activity:
    with Session(workspace.engine) as session:
        return session.exec(select(Activity)).one()


def audit_rows(workspace: Workspace) -> int:
    with Session(workspace.engine) as session:
        return len(session.exec(select(AuditEvent)).all())


def test_one_entry_per_board_kept_and_shown(workspace: Workspace) -> None:
    reply = workspace.pars(f"{ADD_GR} moc=yes {TWO_BOARDS} moc-attested=yes")
    assert "Added" in reply.text
    activity = stored(workspace)
    assert activity.moc_boards == [ABIM, ABP]
    assert activity.moc_attested is True
    shown = workspace.pars("show GR-2025").text
    assert (
        "*MOC boards:* ABIM: 1.5 points, Medical Knowledge + Practice Assessment, claim by "
        "2026-06-30; ABP: 1 point, Lifelong Learning and Self-Assessment"
    ) in shown
    assert "*MOC attestation of compliance:* yes" in shown


def test_a_bad_entry_is_refused_naming_it_and_the_fix_and_nothing_is_saved(
    workspace: Workspace,
) -> None:
    for typed, said in (
        ('moc-boards="ABIM:1.5:Medical Knowledge; ABX:1"', '"ABX" is not a certifying board'),
        ('moc-boards="ABIM:1.3"', "1.3 MOC points: not a multiple of 0.25"),
        ('moc-boards="ABIM:1; ABIM:2"', "ABIM is given twice: one entry per board"),
        ('moc-boards="ABPth:1"', "did you mean ABPath?"),
        (f'moc-boards="ABIM:1:{"K" * 201}"', "is 201 characters long; at most 200 fit"),
    ):
        reply = workspace.pars(f"{ADD_GR} moc=yes {typed}")
        assert said in reply.text, reply.text
        assert "moc-boards=" in reply.text  # the example of the right form
    # A claim date past the calendar the export writes: named with the years the bot takes.
    reply = workspace.pars(f'{ADD_GR} moc=yes moc-boards="ABIM:1:MK:12/31/0001"')
    assert "MOC boards: claim date 0001-12-31 is outside the years pars-bot accepts" in reply.text
    with Session(workspace.engine) as session:
        assert session.exec(select(Activity)).all() == []
    assert audit_rows(workspace) == 0


def test_the_keys_of_one_board_change_the_first_entry(workspace: Workspace) -> None:
    workspace.pars(f'{ADD_GR} moc=yes moc-board=ABIM moc-credit-type="medical knowledge"')
    assert stored(workspace).moc_boards == [
        {"board": "ABIM", "points": None, "credit_types": ["Medical Knowledge"], "claim_date": None}
    ]
    workspace.pars(f"edit GR-2025 {TWO_BOARDS}")
    workspace.pars("edit GR-2025 moc-credits=2.25")
    assert stored(workspace).moc_boards == [ABIM | {"points": "2.25"}, ABP]
    workspace.pars("edit GR-2025 moc-board=ABA")
    assert [e["board"] for e in stored(workspace).moc_boards or []] == ["ABA", "ABP"]
    reply = workspace.pars(f"edit GR-2025 moc-board=ABIM {TWO_BOARDS}")
    assert "MOC board and MOC boards are both given" in reply.text
    reply = workspace.pars("edit GR-2025 moc-board=")
    assert [e["board"] for e in stored(workspace).moc_boards or []] == ["ABP"]


def test_a_one_board_key_sets_only_its_own_part(workspace: Workspace) -> None:
    # The first board without a claim date: a date as its credit type was saved as one.
    workspace.pars(
        f'{ADD_GR} moc=yes moc-boards="ABP:1:Lifelong Learning and Self-Assessment; '
        'ABIM:1.5:Medical Knowledge+Practice Assessment:2026-06-30"'
    )
    for typed, said in (
        ("moc-credit-type=2026-01-01", '"2026-01-01" is a date, not a credit type'),
        ("moc-credit-type=1.5", '"1.5" is a number, not a credit type'),
        ('moc-credit-type="Medical Knowledge;Patient Safety"', 'a credit type has no ";"'),
        ('moc-credit-type="Medical Knowledge: Patient Safety"', 'a credit type has no ":"'),
    ):
        reply = workspace.pars(f"edit GR-2025 {typed}")
        assert f"MOC credit type: {said}" in reply.text, reply.text
        assert stored(workspace).moc_boards == [ABP, ABIM]
    workspace.pars('edit GR-2025 moc-credit-type="Patient Safety"')
    assert stored(workspace).moc_boards == [ABP | {"credit_types": ["Patient Safety"]}, ABIM]


def test_points_without_a_board_are_refused(workspace: Workspace) -> None:
    reply = workspace.pars(f"{ADD_GR} moc=yes moc-credits=1")
    assert "MOC points and credit types belong to a board: give `moc-board=ABIM` too" in (
        reply.text
    )


def test_moc_no_clears_the_boards_and_the_attestation(workspace: Workspace) -> None:
    workspace.pars(f"{ADD_GR} moc=yes {TWO_BOARDS} moc-attested=yes")
    reply = workspace.pars("edit GR-2025 moc=no")
    assert "MOC boards" in reply.text
    activity = stored(workspace)
    assert (activity.moc_boards, activity.moc_attested) == (None, None)
    reply = workspace.pars('edit GR-2025 moc-boards="ABIM:1:Medical Knowledge"')
    assert "MOC boards is given, but Registered for MOC is no" in reply.text


def test_close_needs_complete_boards_and_the_attestation(workspace: Workspace) -> None:
    workspace.pars(f'{ADD_GR} {COMPLETE} moc=yes moc-boards="ABIM:1.5; ABP"')
    workspace.pars("counts GR-2025 physicians=20 others=3")
    shown = workspace.pars("show GR-2025").text
    assert (
        "for *Closed*: MOC credit types (ABIM), MOC points (ABP), MOC credit types (ABP), "
        "MOC attestation of compliance"
    ) in shown
    refused = workspace.pars("close GR-2025").text
    assert "MOC points (ABP)" in refused and "MOC attestation of compliance" in refused
    workspace.pars(f"edit GR-2025 {TWO_BOARDS} moc-attested=yes")
    assert "✅ Closed `GR-2025`" in workspace.pars("close GR-2025").text
    assert stored(workspace).closed_at is not None


def test_a_credit_type_the_bot_does_not_list_is_kept_and_said(workspace: Workspace) -> None:
    reply = workspace.pars(f'{ADD_GR} moc=yes moc-boards="ABIM:1:Medical Knowlege"')
    assert "Added" in reply.text
    assert '"Medical Knowlege" for ABIM (did you mean Medical Knowledge?)' in reply.text
    assert (stored(workspace).moc_boards or [])[0]["credit_types"] == ["Medical Knowlege"]


def test_the_form_takes_one_board_per_line(workspace: Workspace) -> None:
    workspace.pars(f"{ADD_GR} moc=yes {TWO_BOARDS}")
    workspace.command("edit GR-2025")
    view = workspace.opened_view()
    elements = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert elements["moc_boards"]["multiline"] is True
    assert elements["moc_boards"]["initial_value"] == (
        "ABIM:1.5:Medical Knowledge+Practice Assessment:2026-06-30\n"
        "ABP:1:Lifelong Learning and Self-Assessment"
    )
    assert "One board per line" in elements["moc_boards"]["placeholder"]["text"]
    assert [o["value"] for o in elements["moc_attested"]["options"]] == ["yes", "no"]
    workspace.submit(
        view,
        form_state(
            view,
            moc_boards="ABIM:1.5:Medical Knowledge+Practice Assessment:2026-06-30\n"
            "ABS:3:Self-Assessment",
            moc_attested="yes",
        ),
    )
    activity = stored(workspace)
    assert [e["board"] for e in activity.moc_boards or []] == ["ABIM", "ABS"]
    assert activity.moc_attested is True


def test_the_form_puts_a_bad_entry_under_its_input(workspace: Workspace) -> None:
    workspace.pars(f"{ADD_GR} moc=yes")
    workspace.command("edit GR-2025")
    view = workspace.opened_view()
    response = workspace.submit(view, form_state(view, moc_boards="ABIM:1\nABIM:2"))
    assert response.status == 200
    body = response.body
    assert "moc_boards" in body and "ABIM is given twice" in body
    assert stored(workspace).moc_boards is None
