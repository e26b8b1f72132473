"""The scheduler stands on storage and on handlers' Block Kit layouts, nothing else of Slack's
listeners (DESIGN.md: arrows point down)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_the_scheduler_loads_no_listener() -> None:
    probe = (
        "import sys, scheduler.jobs, scheduler.send, scheduler.plan;"
        "loaded = sorted(m for m in sys.modules if m.startswith(('handlers', 'slack_bolt')));"
        "print(','.join(loaded))"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = run.stdout.strip().split(",")
    assert "slack_bolt" not in loaded
    assert {m for m in loaded if m.startswith("handlers")} <= {
        "handlers",
        "handlers.blocks",
        "handlers.blocks.cycle",
        "handlers.mrkdwn",
    }
