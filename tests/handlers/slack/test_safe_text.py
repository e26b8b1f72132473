"""What users type reaches Slack as text, never as markup; and it is stored as they typed it.

Slack sends a typed `&`, `<`, `>` in slash-command text as `&amp;`, `&lt;`, `&gt;`, and reads
`<...>` in mrkdwn as a ping, a mention or a link. Commands here are sent as Slack sends them.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sqlmodel import Session, select

from handlers.slack.mrkdwn import escape_message
from storage.models import Activity
from tests.handlers.conftest import (
    ADD_GR,
    ALICE,
    BOB,
    COMPLETE,
    Workspace,
    form_state,
    section_texts,
)

TYPED_TITLE = "<!channel> urgent & <http://x|y>"
# The same title as it arrives in the command text from Slack.
SENT_TITLE = "&lt;!channel&gt; urgent &amp; &lt;http://x|y&gt;"
ESCAPED_TITLE = "&lt;!channel&gt; urgent &amp; &lt;http://x|y&gt;"
ADD_URGENT = f'add-activity id=U-1 title="{SENT_TITLE}" format=rss start=2025-01-07 end=2025-12-16'


def stored(workspace: Workspace, activity_id: str) -> Activity:
    with Session(workspace.engine) as session:
        return session.exec(select(Activity).where(Activity.activity_id == activity_id)).one()


def seed_urgent(workspace: Workspace) -> None:
    """U-1 with the title typed where Slack sends it unescaped (a form, later a spreadsheet)."""
    workspace.seed(
        {
            "activity_id": "U-1",
            "title": TYPED_TITLE,
            "format": "rss",
            "start_date": "2025-01-07",
            "end_date": "2025-12-16",
        }
    )


def mrkdwn_of(params: dict[str, Any]) -> str:
    """Every piece of mrkdwn Slack would read in a message or view: its text and its blocks."""
    return json.dumps({"text": params.get("text"), "blocks": params.get("blocks")})


def assert_inert(params: dict[str, Any]) -> None:
    shown = mrkdwn_of(params)
    assert "<!channel>" not in shown
    assert "<http://x" not in shown


def test_a_shared_card_pings_nobody_and_links_nothing(workspace: Workspace) -> None:
    added = workspace.pars(ADD_URGENT)
    assert_inert(added.params)
    shared = workspace.pars("show U-1 share")
    assert not shared.ephemeral
    assert_inert(shared.params)
    assert ESCAPED_TITLE in shared.params["text"]
    assert f"`U-1` *{ESCAPED_TITLE}*" in section_texts(shared.params)[0]
    # Stored exactly as typed, and read back so by the person in Slack.
    assert stored(workspace, "U-1").title == TYPED_TITLE
    assert TYPED_TITLE in shared.text


def test_an_ampersand_is_stored_as_typed(workspace: Workspace) -> None:
    workspace.pars(
        'add-activity id=HL-1 title="Heart &amp; Lung" format=rss start=2025-01-07 '
        'end=2025-12-16 city="A&amp;M" joint-providers="Smith &amp; Jones; R&amp;D Inc"'
    )
    activity = stored(workspace, "HL-1")
    assert activity.title == "Heart & Lung"
    assert activity.city == "A&M"
    assert activity.joint_providers == ["Smith & Jones", "R&D Inc"]
    # Someone who really typed "&lt;" (Slack sends "&amp;lt;") keeps those four characters.
    workspace.pars("edit HL-1 description=&amp;lt;3")
    assert stored(workspace, "HL-1").description == "&lt;3"
    shown = workspace.pars("show HL-1")
    assert "*Heart &amp; Lung*" in mrkdwn_of(shown.params)
    assert "&amp;lt;3" in mrkdwn_of(shown.params)


def test_slack_mentions_and_links_in_commands_still_work(workspace: Workspace) -> None:
    workspace.pars(ADD_GR)
    # Slack sends a real mention and a real link as markup, their & as an entity.
    workspace.pars(
        f"edit GR-2025 owner=<@{BOB}|bob> finder=yes "
        "url=<https://example.org/cme?a=1&amp;b=2|example.org/cme>"
    )
    activity = stored(workspace, "GR-2025")
    assert activity.owner_user_id == BOB
    assert activity.finder_url == "https://example.org/cme?a=1&b=2"
    card = workspace.pars("show GR-2025", user=BOB)
    # The owner is a mention the bot wrote: it must stay one.
    assert f"*Owner:* <@{BOB}>" in mrkdwn_of(card.params)
    assert "https://example.org/cme?a=1&amp;b=2" in mrkdwn_of(card.params)


def test_error_messages_quote_what_was_typed_without_acting_on_it(workspace: Workspace) -> None:
    not_found = workspace.pars("show &lt;!here&gt;")
    assert "`&lt;!here&gt;`" in not_found.params["text"]
    assert "<!here>" not in not_found.params["text"]
    assert not_found.ephemeral
    unknown = workspace.pars("&lt;!channel&gt;")
    assert "`&lt;!channel&gt;` is not a /pars subcommand" in unknown.params["text"]
    bad = workspace.pars('add-activity title="X" format=rss start="&lt;!channel&gt;" end=soon')
    assert_inert(bad.params)
    assert '"&lt;!channel&gt;" is not a date' in bad.params["text"]


def test_a_card_of_a_title_typed_in_the_form_pings_nobody(workspace: Workspace) -> None:
    seed_urgent(workspace)
    shared = workspace.pars("show U-1 share")
    assert_inert(shared.params)
    assert f"`U-1` *{ESCAPED_TITLE}*" in section_texts(shared.params)[0]
    edited = workspace.pars("edit U-1 credits=1")
    assert_inert(edited.params)


def test_a_mention_the_store_writes_in_a_refusal_still_mentions(workspace: Workspace) -> None:
    workspace.pars(ADD_URGENT)
    refused = workspace.pars("edit U-1 credits=1", user=BOB)
    assert f"belongs to <@{ALICE}>" in refused.params["text"]


def test_close_results_and_lists_escape_titles(workspace: Workspace) -> None:
    seed_urgent(workspace)
    workspace.pars(f"edit U-1 {COMPLETE}")
    workspace.pars("counts U-1 physicians=10 others=2")
    listed = workspace.pars("list ready")
    assert_inert(listed.params)
    options = [
        o["text"]["text"]
        for block in listed.params["blocks"]
        for element in block.get("elements") or []
        for o in element.get("options") or []
    ]
    assert options == [f"`U-1` *{ESCAPED_TITLE}*"]
    shared = workspace.pars("list all share")
    assert_inert(shared.params)
    assert ESCAPED_TITLE in mrkdwn_of(shared.params)
    closed = workspace.pars("close U-1")
    assert_inert(closed.params)
    assert f"Closed `U-1` *{ESCAPED_TITLE}*." in mrkdwn_of(closed.params)


def test_a_long_escaped_title_still_fits_a_checkbox(workspace: Workspace) -> None:
    long_title = "R&amp;D " * 15  # 60 characters typed, 120 escaped: more than Slack allows
    workspace.pars(
        f'add-activity id=R-1 title="{long_title}" format=rss start=2025-01-07 end=2025-12-16 '
        f"{COMPLETE}"
    )
    workspace.pars("counts R-1 physicians=10 others=2")
    listed = workspace.pars("list ready")
    options = [
        o["text"]["text"]
        for block in listed.params["blocks"]
        for element in block.get("elements") or []
        for o in element.get("options") or []
    ]
    assert len(options) == 1
    assert len(options[0]) <= 75
    assert options[0].endswith("…")
    assert not re.search(r"&[a-z]*$", options[0].removesuffix("…")), options[0]


def test_the_form_shows_text_as_typed(workspace: Workspace) -> None:
    """Inputs of a modal are plain text: Slack shows them as they are, so no entities."""
    workspace.pars(ADD_URGENT)
    workspace.click(workspace.pars("show U-1"), "Edit")
    view = workspace.opened_view()
    title_input = next(b for b in view["blocks"] if b.get("block_id") == "title")
    assert title_input["element"]["initial_value"] == TYPED_TITLE
    # Saved unchanged, the title stays exactly as it was.
    workspace.submit(view, form_state(view))
    assert stored(workspace, "U-1").title == TYPED_TITLE


def test_app_home_escapes_titles(workspace: Workspace) -> None:
    seed_urgent(workspace)
    response = workspace.send_event({"type": "app_home_opened", "user": ALICE, "tab": "home"})
    assert response.status == 200
    view = workspace.slack.wait_for("views.publish")[-1].params["view"]
    assert_inert(view)
    assert ESCAPED_TITLE in mrkdwn_of(view)


def test_slack_mentions_and_links_are_read_where_a_field_takes_them(workspace: Workspace) -> None:
    # Slack sends `owner=@bob` as <@U0BOB|bob> and a typed address as <https://...|...>, both
    # unescaped; storage never sees that markup.
    workspace.pars(ADD_GR)
    reply = workspace.pars(
        f"edit GR-2025 owner=<@{BOB}|bob> finder=yes "
        "finder-url=<https://cme.example.org/gr|cme.example.org/gr>"
    )
    assert "Updated" in reply.text
    activity = stored(workspace, "GR-2025")
    assert activity.owner_user_id == BOB
    assert activity.finder_url == "https://cme.example.org/gr"


def test_a_title_typed_like_a_link_stays_the_title(workspace: Workspace) -> None:
    workspace.pars(ADD_GR)
    workspace.pars('edit GR-2025 title="&lt;https://x.org|y&gt;"')
    assert stored(workspace, "GR-2025").title == "<https://x.org|y>"


def test_someone_named_in_an_error_is_mentioned_and_a_typed_lookalike_is_not(
    workspace: Workspace,
) -> None:
    workspace.pars(ADD_GR)  # owned by Alice
    refused = workspace.pars("edit GR-2025 credits=2", user=BOB)
    assert f"`GR-2025` belongs to <@{ALICE}>; only they" in refused.params["text"]
    # Only the people the store names become mentions; what else looks like one stays text.
    shown = escape_message(f"@U0EVE <@U0EVE> @{ALICE}X belongs to @{ALICE}.", people=[ALICE])
    assert shown == f"@U0EVE &lt;@U0EVE&gt; @{ALICE}X belongs to <@{ALICE}>."
