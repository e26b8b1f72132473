"""Events API requests: App Home, and the message events the bot only acknowledges."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import sqlalchemy as sa

from storage.models import Activity
from tests.conftest import NOW
from tests.handlers.conftest import ALICE, BOB, COMPLETE, GUEST, Workspace, section_texts


def open_home(workspace: Workspace, user: str = ALICE) -> dict[str, Any]:
    response = workspace.send_event({"type": "app_home_opened", "user": user, "tab": "home"})
    assert response.status == 200, (response.status, response.body)
    published = workspace.slack.wait_for("views.publish")[-1].params
    assert published["user_id"] == user
    return published["view"]


def section_of(view: dict[str, Any], heading: str) -> str:
    found = [t for t in section_texts(view) if heading in t]
    assert found, (heading, section_texts(view))
    return "\n".join(found)


def test_app_home_lists_the_users_ended_but_unclosed_activities(workspace: Workspace) -> None:
    workspace.pars(
        'add-activity id=GR-2025 title="Medicine Grand Rounds" format=rss '
        "start=2025-01-07 end=2025-12-16"
    )
    workspace.pars(
        f'add-activity id=DONE-1 title="Tumor Board" format=rss start=2025-01-07 '
        f"end=2025-06-30 {COMPLETE}"
    )
    workspace.pars("counts DONE-1 physicians=10 others=2")
    assert "Closed `DONE-1`" in workspace.pars("close DONE-1").text
    workspace.pars(
        'add-activity id=LC-1 title="Board Review Course" format=live-course '
        "start=2026-11-01 end=2026-12-05"
    )
    workspace.pars(
        'add-activity id=BOB-1 title="Bob Series" format=rss start=2025-01-07 end=2025-12-16',
        user=BOB,
    )

    view = open_home(workspace)
    assert view["type"] == "home"
    unclosed = section_of(view, "*Ended but not closed*")
    assert "`GR-2025` *Medicine Grand Rounds*" in unclosed
    assert "2025-01-07 → 2025-12-16 · _Draft_" in unclosed
    for other in ("DONE-1", "LC-1", "BOB-1"):
        assert other not in unclosed
    running = section_of(view, "*Still running*")
    assert "`LC-1` *Board Review Course*" in running
    assert "GR-2025" not in running


def test_app_home_of_someone_with_nothing_open(workspace: Workspace) -> None:
    workspace.pars(
        'add-activity id=GR-2025 title="Medicine Grand Rounds" format=rss '
        "start=2025-01-07 end=2025-12-16"
    )
    view = open_home(workspace, user=BOB)
    assert "None — well done." in section_of(view, "*Ended but not closed*")
    assert "GR-2025" not in " ".join(section_texts(view))


def test_app_home_with_many_long_titles_is_still_published(workspace: Workspace) -> None:
    workspace.seed(
        *[
            {
                "activity_id": f"EM-{n:02d}",
                "title": "Opioid Analgesic REMS: Safe Prescribing and Patient Counseling "
                f"for Pain Management, Module {n:02d}",
                "format": "enduring",
                "start_date": "2024-01-01",
                "end_date": f"2025-{n % 12 + 1:02d}-15",
            }
            for n in range(1, 31)
        ],
        {
            "activity_id": "LC-RUN",
            "title": "Board Review Course",
            "format": "live-course",
            "start_date": "2026-11-01",
            "end_date": "2026-12-05",
        },
    )
    view = open_home(workspace)
    texts = section_texts(view)
    for text in texts:
        assert len(text) <= 3000  # Slack refuses longer section text
    shown = " ".join(texts)
    assert sum(f"`EM-{n:02d}`" in shown for n in range(1, 31)) == 25
    # Those that do not fit are not dropped silently: the user is told how to see them all.
    assert "…and 5 more: `/pars list unclosed mine`" in shown
    # Many ended activities do not crowd out the running one.
    assert "`LC-RUN` *Board Review Course*" in section_of(view, "*Still running*")


def test_over_a_thousand_ended_says_over_and_how_to_see_them(workspace: Workspace) -> None:
    rows = [
        {
            "team_id": workspace.team_id, "activity_id": f"JN-{n:04d}", "title": "Journal",
            "format": "journal", "start_date": date(2025, 1, 1), "end_date": date(2025, 6, 1),
            "owner_user_id": ALICE, "created_at": NOW, "created_by": ALICE, "updated_at": NOW,
            "updated_by": ALICE, "version": 1,
        }
        for n in range(1_030)
    ]  # fmt: skip
    with workspace.engine.begin() as connection:
        connection.execute(sa.insert(Activity.__table__), rows)
    shown = " ".join(section_texts(open_home(workspace)))
    # The count stops at a thousand: the rest is "over", never a wrong number.
    assert "…and over 975 more: `/pars list unclosed mine`" in shown


def test_the_messages_tab_publishes_nothing(workspace: Workspace) -> None:
    response = workspace.send_event({"type": "app_home_opened", "user": ALICE, "tab": "messages"})
    assert response.status == 200
    open_home(workspace, user=BOB)  # by the time Bob's Home is out, Alice's event was handled
    time.sleep(0.1)
    assert [c.params["user_id"] for c in workspace.calls("views.publish")] == [BOB]


def test_a_message_event_is_acknowledged_and_left_alone(workspace: Workspace) -> None:
    response = workspace.send_event(
        {
            "type": "message",
            "channel": "C0CME",
            "user": ALICE,
            "text": "Has anyone closed Grand Rounds yet?",
            "ts": "1764100000.000100",
            "channel_type": "channel",
        }
    )
    assert response.status == 200
    upload = workspace.send_event(
        {
            "type": "message",
            "subtype": "file_share",
            "channel": "C0CME",
            "user": ALICE,
            "text": "",
            "files": [{"id": "F0PHOTO", "name": "group photo.png"}],
            "ts": "1764100000.000200",
        }
    )
    assert upload.status == 200
    time.sleep(0.2)  # a listener, had one answered, would have by now
    # Talk and pictures are nothing to the bot: no lookup, no answer.
    assert workspace.sent() == []


def test_a_file_shared_event_of_a_picture_is_acknowledged_and_left_alone(
    workspace: Workspace,
) -> None:
    photo = workspace.slack.host_file("group photo.png", b"\x89PNG", user=ALICE)
    response = workspace.send_event(
        {
            "type": "file_shared",
            "channel_id": "C0CME",
            "file_id": photo["id"],
            "user_id": ALICE,
            "file": {"id": photo["id"]},
            "event_ts": "1764100000.000300",
        }
    )
    assert response.status == 200
    time.sleep(0.2)
    # The sender is identified, the file looked at, and nothing is answered.
    assert sorted(c.method for c in workspace.sent()) == ["files.info", "users.info"]


def test_a_guest_gets_no_app_home(workspace: Workspace) -> None:
    workspace.pars(
        'add-activity id=GR-2025 title="Medicine Grand Rounds" format=rss '
        "start=2025-01-07 end=2025-12-16"
    )
    refused = workspace.send_event({"type": "app_home_opened", "user": GUEST, "tab": "home"})
    assert refused.status == 200  # acknowledged, so Slack does not retry
    open_home(workspace, user=ALICE)
    # The guest's event was settled in the middleware before Alice's: hers is the only Home.
    assert [c.params["user_id"] for c in workspace.calls("views.publish")] == [ALICE]


def test_needs_you_says_how_many_more_there_are(workspace: Workspace) -> None:
    # 14 ended series and 3 enduring materials awaiting Dec 31 counts: 10 are shown.
    workspace.seed(
        *[
            {
                "activity_id": f"RSS-{n:02d}",
                "title": f"Series {n}",
                "format": "rss",
                "start_date": "2025-01-07",
                "end_date": f"2025-{n % 12 + 1:02d}-10",
            }
            for n in range(14)
        ],
        *[
            {
                "activity_id": f"EM-{n}",
                "title": f"Module {n}",
                "format": "enduring",
                "start_date": "2025-01-01",
                "end_date": "2027-06-30",
            }
            for n in range(3)
        ],
    )
    view = open_home(workspace)
    texts = section_texts(view)
    assert sum(t.startswith("`RSS-") for t in texts) == 10
    assert "…and 4 more: `/pars list unclosed mine`" in texts
    assert any(t.startswith("…and 3 more enduring materials awaiting counts") for t in texts)
