"""Times shown to users are dates in the provider's time zone (PARS_TIMEZONE), not UTC."""

from __future__ import annotations

from tests.handlers.conftest import ADD_GR, ADMIN, ALICE, COMPLETE, Workspace


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


def test_the_workspaces_own_time_zone_decides_today_everywhere(workspace: Workspace) -> None:
    # Half past midnight on Dec 17 in Chicago is still the evening of Dec 16 in Los Angeles:
    # for an office that set its zone to Los Angeles, a series ending Dec 16 has not ended.
    workspace.clock.set("2025-12-10T12:00")
    workspace.pars(f"{ADD_GR} {COMPLETE}")
    workspace.pars("counts GR-2025 physicians=1040 others=212")
    workspace.pars("config timezone America/Los_Angeles", user=ADMIN)
    workspace.clock.set("2025-12-17T00:30")  # Chicago, the PARS_TIMEZONE of this bot
    refused = workspace.pars("close GR-2025").text
    assert "ends on 2025-12-16; an activity can be closed only after its end date" in refused
    assert "_Active_" in workspace.pars("list").text
    workspace.clock.set("2025-12-17T02:30")  # 00:30 in Los Angeles: Dec 17 there too
    assert "Closed `GR-2025`" in workspace.pars("close GR-2025").text
