"""Spreadsheets shared in Slack, through the real Bolt app and the local stand-in for Slack:
event -> download from the fake file host -> thread preview -> Apply -> result."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from bot.local_slack import BOT_USER_ID, LocalSlack
from storage.models import Activity
from tests.handlers.conftest import ADMIN, ALICE, BOB, Reply, Workspace
from tests.storage.batch.files import grand_rounds, table, text_file, xlsx

THREAD = "1764100000.000200"


def share(
    workspace: Workspace, name: str, data: bytes, *, user: str = ALICE, url: str | None = None
) -> dict[str, Any]:
    """Share a file in #cme as Slack reports it: a message of subtype file_share."""
    workspace.slack.bot_token = "xoxb-test"
    info = workspace.slack.host_file(name, data, user=user, url=url)
    response = workspace.send_event(
        {
            "type": "message",
            "subtype": "file_share",
            "channel": "C0CME",
            "user": user,
            "text": "",
            "files": [info],
            "ts": THREAD,
        }
    )
    assert response.status == 200
    return info


def final_update(workspace: Workspace, contains: str, count: int = 1) -> Reply:
    calls = workspace.slack.wait_until(
        lambda c: c.method == "chat.update" and contains in str(c.params.get("text", "")), count
    )
    return Reply(calls[count - 1].params)


def activity_ids(workspace: Workspace) -> list[str]:
    with Session(workspace.engine) as session:
        return sorted(session.exec(select(Activity.activity_id)).all())


def test_an_upload_is_previewed_in_its_thread_and_applied_with_a_click(
    workspace: Workspace,
) -> None:
    rows = table([grand_rounds("GR-1"), grand_rounds("GR-2", **{"End date": "2025-02-30"})])
    share(workspace, "activities.xlsx", xlsx(rows))
    preview = final_update(workspace, "Preview of activities.xlsx")
    # Downloaded from the fake file host, with the bot token.
    [download] = workspace.calls("file_download")
    assert download.params["authorization"] == "Bearer xoxb-test"
    posted = workspace.calls("chat.postMessage")[0].params
    assert (posted["channel"], posted["thread_ts"]) == ("C0CME", THREAD)
    text = preview.text
    assert "1 to add · 0 to update · 0 unchanged" in text
    assert "1 row with errors" in text
    assert 'row 3, End date: "2025-02-30" is not a real date' in text
    assert preview.buttons == ["Apply", "Cancel"]
    # The annotated copy, uploaded in the same thread with files upload v2.
    [annotated] = workspace.slack.uploaded()
    assert annotated["thread_ts"] == THREAD and annotated["channel"] == "C0CME"
    assert annotated["name"] == "activities - checked by pars-bot.xlsx"
    sheet = load_workbook(io.BytesIO(annotated["data"])).active
    assert sheet.cell(row=1, column=sheet.max_column).value == "pars-bot messages"
    assert sheet.cell(row=3, column=sheet.max_column).value.startswith("End date:")

    workspace.click(preview, "Apply")
    applied = final_update(workspace, "Applied activities.xlsx")
    assert "1 added" in applied.text and "1 row with errors" in applied.text
    assert "/pars undo-batch B-" in applied.text
    assert activity_ids(workspace) == ["GR-1"]


def test_the_same_file_delivered_twice_is_previewed_once(workspace: Workspace) -> None:
    info = share(workspace, "activities.csv", text_file(table([grand_rounds()])))
    workspace.send_event(
        {
            "type": "file_shared",
            "channel_id": "C0CME",
            "file_id": info["id"],
            "user_id": ALICE,
            "file": {"id": info["id"]},
            "event_ts": THREAD,
        }
    )
    share_again = {  # Slack retrying the message event
        "type": "message",
        "subtype": "file_share",
        "channel": "C0CME",
        "user": ALICE,
        "files": [info],
        "ts": THREAD,
    }
    workspace.send_event(share_again)
    final_update(workspace, "Preview of activities.csv")
    time.sleep(0.3)
    assert len(workspace.calls("chat.postMessage")) == 1
    assert len(workspace.calls("file_download")) == 1


def test_a_double_clicked_apply_applies_once(workspace: Workspace) -> None:
    share(workspace, "a.xlsx", xlsx(table([grand_rounds("GR-1")])))
    preview = final_update(workspace, "Preview of a.xlsx")
    first = workspace.click(preview, "Apply")
    second = workspace.click(preview, "Apply")
    final_update(workspace, "Applied a.xlsx")
    # Whichever click came second (the two run at once) is told, and applies nothing.
    [refusal] = workspace.slack.wait_until(
        lambda c: c.method == "response_url" and c.path.endswith((f"/{first}", f"/{second}"))
    )
    assert "was already applied" in Reply(refusal.params).text
    assert (
        len(
            workspace.slack.wait_until(
                lambda c: c.method == "chat.update" and "Applied" in str(c.params.get("text"))
            )
        )
        == 1
    )
    assert activity_ids(workspace) == ["GR-1"]


def test_only_the_uploader_or_an_admin_may_apply(workspace: Workspace) -> None:
    share(workspace, "a.xlsx", xlsx(table([grand_rounds("GR-1")])))
    preview = final_update(workspace, "Preview of a.xlsx")
    refused = workspace.reply(workspace.click(preview, "Apply", user=BOB))
    assert refused.ephemeral
    assert "Only @U0ALICE, who shared this file, or an admin" in refused.text
    assert activity_ids(workspace) == []
    workspace.click(preview, "Apply", user=ADMIN)
    final_update(workspace, "Applied a.xlsx")
    assert activity_ids(workspace) == ["GR-1"]


def test_cancel_leaves_the_data_untouched(workspace: Workspace) -> None:
    share(workspace, "a.xlsx", xlsx(table([grand_rounds("GR-1")])))
    preview = final_update(workspace, "Preview of a.xlsx")
    workspace.click(preview, "Cancel")
    cancelled = workspace.slack.wait_until(
        lambda c: c.method == "chat.update" and "Cancelled" in str(c.params.get("text"))
    )
    assert "nothing from a.xlsx was changed" in cancelled[0].params["text"]
    late = workspace.reply(workspace.click(preview, "Apply"))
    assert "was cancelled" in late.text
    assert activity_ids(workspace) == []


def test_a_spreadsheet_without_headers_gets_one_short_reply(workspace: Workspace) -> None:
    share(workspace, "notes.csv", text_file([["Name", "When"], ["Rounds", "Tuesday"]]))
    reply = final_update(workspace, "couldn't find a header row")
    assert '"Activity ID", "Title", "Format"' in reply.text and "/pars template" in reply.text
    assert reply.buttons == []
    time.sleep(0.2)
    assert len(workspace.calls("chat.postMessage")) == 1
    assert workspace.calls("files.completeUploadExternal") == []


def redeliver(workspace: Workspace, info: dict[str, Any], ts: str = THREAD) -> None:
    """Slack delivering the share of a file again: its message (a retry), or a new message."""
    event = {"type": "message", "subtype": "file_share", "channel": "C0CME", "user": ALICE,
             "text": "", "files": [info], "ts": ts}  # fmt: skip
    assert workspace.send_event(event).status == 200


def test_a_refused_file_delivered_again_is_refused_once(workspace: Workspace) -> None:
    info = share(workspace, "notes.csv", text_file([["Name", "When"], ["Rounds", "Tuesday"]]))
    final_update(workspace, "couldn't find a header row")
    redeliver(workspace, info)  # Slack's retry of the same message
    redeliver(workspace, info, ts="1764100999.000100")  # and the file shared once more
    time.sleep(0.3)
    assert len(workspace.calls("chat.postMessage")) == 1
    assert len(workspace.calls("file_download")) == 1


def test_a_cancelled_preview_redelivered_by_slack_stays_cancelled(workspace: Workspace) -> None:
    info = share(workspace, "a.xlsx", xlsx(table([grand_rounds("GR-1")])))
    workspace.click(final_update(workspace, "Preview of a.xlsx"), "Cancel")
    workspace.slack.wait_until(
        lambda c: c.method == "chat.update" and "Cancelled" in str(c.params.get("text"))
    )
    redeliver(workspace, info)  # the same message, retried
    time.sleep(0.3)
    assert len(workspace.calls("chat.postMessage")) == 1
    assert len(workspace.calls("file_download")) == 1


def test_a_file_on_another_host_is_refused_and_the_token_stays_home(workspace: Workspace) -> None:
    with LocalSlack() as elsewhere:
        share(workspace, "a.xlsx", b"", url=f"{elsewhere.base}/files-pri/F1/a.xlsx")
        reply = final_update(workspace, "not to Slack's file host")
        assert "was not downloaded" in reply.text
        assert elsewhere.calls == []


def test_files_the_bot_shares_itself_are_left_alone(workspace: Workspace) -> None:
    share(workspace, "mine.xlsx", xlsx(table([grand_rounds()])), user=BOT_USER_ID)
    time.sleep(0.3)
    assert workspace.calls("chat.postMessage") == []


def test_a_file_shared_event_alone_is_answered_in_the_thread_of_its_message(
    workspace: Workspace,
) -> None:
    workspace.slack.bot_token = "xoxb-test"
    info = workspace.slack.host_file("a.xlsx", xlsx(table([grand_rounds()])), user=ALICE)
    info["shares"] = {"public": {"C0CME": [{"ts": THREAD}]}}
    workspace.send_event(
        {
            "type": "file_shared",
            "channel_id": "C0CME",
            "file_id": info["id"],
            "user_id": ALICE,
            "file": {"id": info["id"]},
            "event_ts": THREAD,
        }
    )
    final_update(workspace, "Preview of a.xlsx")
    assert workspace.calls("chat.postMessage")[0].params["thread_ts"] == THREAD


def test_template_export_show_and_undo_batch_commands(workspace: Workspace) -> None:
    reply = workspace.pars("template")
    assert "template is posted here" in reply.text
    [template] = workspace.slack.uploaded()
    assert template["channel"] == "C0CME"
    assert template["name"] == "pars-bot activities template.xlsx"

    done = grand_rounds("GR-1", **{"ACCME Activity ID": "201234567"})
    share(workspace, "a.xlsx", xlsx(table([done])))
    preview = final_update(workspace, "Preview of a.xlsx")
    workspace.click(preview, "Apply")
    applied = final_update(workspace, "Applied a.xlsx")
    batch = applied.text.split("/pars undo-batch ")[1].split("`")[0]

    assert "*ACCME Activity ID:* 201234567" in workspace.pars("show GR-1").text

    exported = workspace.pars("export year=2025")
    assert "posted in a DM" in exported.text
    sent = [u for u in workspace.slack.uploaded(3) if u["name"] == "PARS export 2025.xlsx"]
    assert sent and sent[0]["channel"].startswith("D")

    refused = workspace.pars(f"undo-batch {batch}")
    assert "Only admins can undo a batch" in refused.text
    undone = workspace.pars(f"undo-batch {batch}", user=ADMIN)
    assert f"Undid batch `{batch}`: removed 1 activity it added" in undone.text
    assert activity_ids(workspace) == []


@pytest.mark.parametrize("year", ["1", "1999", "2100"])
def test_an_export_of_a_year_the_bot_does_not_take_names_the_years(
    workspace: Workspace, year: str
) -> None:
    reply = workspace.pars(f"export year={year}")
    assert f'"{year}" is not a data year' in reply.text and "the bot takes 2000 to" in reply.text
    assert workspace.slack.uploaded(0) == []


def test_an_apply_that_fails_half_way_puts_the_preview_back(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 1,200 rows report progress; then the database fails mid-apply (a full disk, a lost
    # connection). Nothing is applied, and the thread offers Apply again.
    share(workspace, "big.csv", text_file(table([grand_rounds(f"A-{i:04d}") for i in range(1200)])))
    preview = final_update(workspace, "Preview of big.csv")

    def disk_full(**_kwargs: Any) -> None:
        raise RuntimeError("disk I/O error")

    monkeypatch.setattr("storage.batch.apply.service.add_many_checked", disk_full)
    told = workspace.reply(workspace.click(preview, "Apply"))
    assert told.ephemeral and "nothing was changed" in told.text
    again = final_update(workspace, "Preview of big.csv", count=2)
    assert again.buttons == ["Apply", "Cancel"]
    assert "1200 to add" in again.text or "1,200 to add" in again.text
    assert activity_ids(workspace) == []
    progress = [c for c in workspace.calls("chat.update") if "Applying big.csv" in str(c.params)]
    assert progress, "progress was shown before the failure"


def test_sharing_a_cancelled_file_again_starts_a_new_preview(workspace: Workspace) -> None:
    info = share(workspace, "a.xlsx", xlsx(table([grand_rounds("GR-1")])))
    preview = final_update(workspace, "Preview of a.xlsx")
    workspace.click(preview, "Cancel")
    workspace.slack.wait_until(
        lambda c: c.method == "chat.update" and "Cancelled" in str(c.params.get("text"))
    )
    # The same Slack file, shared again (Slack's Share keeps the file's ID).
    again = {"type": "message", "subtype": "file_share", "channel": "C0CME", "user": ALICE,
             "text": "", "files": [info], "ts": "1764100999.000100"}  # fmt: skip
    assert workspace.send_event(again).status == 200
    second = final_update(workspace, "Preview of a.xlsx", count=2)
    assert second.buttons == ["Apply", "Cancel"]
    workspace.click(second, "Apply")
    final_update(workspace, "Applied a.xlsx")
    assert activity_ids(workspace) == ["GR-1"]


def test_an_applied_batch_is_never_reported_as_failed(workspace: Workspace) -> None:
    share(workspace, "a.xlsx", xlsx(table([grand_rounds("GR-1")])))
    preview = final_update(workspace, "Preview of a.xlsx")
    # Slack refuses to edit the thread message once the batch is applied (say, rate limits).
    workspace.slack.answers["chat.update"] = {"ok": False, "error": "ratelimited"}
    told = workspace.reply(workspace.click(preview, "Apply"))
    assert told.ephemeral and "Applied a.xlsx" in told.text
    assert "nothing was changed" not in told.text
    assert activity_ids(workspace) == ["GR-1"]


def test_the_preview_is_shown_before_the_annotated_copy_is_made(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The annotated copy is the slowest part of a preview (seconds for 10,000 rows): the
    # preview and its Apply button must not wait for it.
    from storage.batch import preview as previews

    shown_when_made: list[bool] = []
    real = previews.annotated_workbook

    def spy(*args: Any, **kwargs: Any) -> bytes:
        shown_when_made.append(
            any(
                c.method == "chat.update" and "Preview of" in str(c.params.get("text", ""))
                for c in workspace.slack.calls
            )
        )
        return real(*args, **kwargs)

    monkeypatch.setattr(previews, "annotated_workbook", spy)
    share(workspace, "activities.xlsx", xlsx(table([grand_rounds("GR-1")])))
    final_update(workspace, "Preview of activities.xlsx")
    workspace.slack.wait_for("files.completeUploadExternal")
    assert shown_when_made == [True]
