"""Times shown to users are dates in the provider's time zone (PARS_TIMEZONE), not UTC."""

from __future__ import annotations

from tests.scenario.conftest import ADD_GR, ALICE, COMPLETE, Workspace


def test_an_activity_closed_on_new_years_eve_evening_shows_dec_31(workspace: Workspace) -> None:
    # 8 pm in Chicago on Dec 31 is already 2 am on Jan 1 in UTC.
    workspace.clock.set("2025-12-31T20:00")
    workspace.pars(f"{ADD_GR} {COMPLETE}")
    workspace.pars("counts GR-2025 physicians=1000 others=200")
    workspace.clock.set("2025-12-31T20:30")
    workspace.pars("counts GR-2025 physicians=1040 others=212")
    assert "Closed `GR-2025`" in workspace.pars("close GR-2025").text
    shown = workspace.pars("show GR-2025").text
    assert f"*Closed:* 2025-12-31 by @{ALICE}" in shown
    assert f"Physician learners: 1040 as of 2025-12-16, by @{ALICE} on 2025-12-31" in shown
    assert "2026-01-01" not in shown
