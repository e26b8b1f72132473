"""Files to and from Slack: download a shared file from Slack's own file host only, with the
bot token and never sending it anywhere else; upload with files upload v2."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from slack_sdk import WebClient

from storage.sheets.read import FileRefused, Limits, check_size


def file_host(api_url: str) -> tuple[str, str]:
    """(scheme, host[:port]) of Slack's file host: files.slack.com for slack.com's API, else
    the host of SLACK_API_URL itself (a proxy or a stand-in for Slack)."""
    parts = urlsplit(api_url)
    host = (parts.hostname or "").lower()
    if host == "slack.com" or host.endswith(".slack.com"):
        return "https", "files.slack.com"
    return parts.scheme.lower(), parts.netloc.lower()


def check_url(url: str, api_url: str) -> None:
    parts = urlsplit(url)
    if (parts.scheme.lower(), parts.netloc.lower()) != file_host(api_url):
        shown = parts.netloc or url[:60]
        raise FileRefused(
            f"The file's address points to {shown}, not to Slack's file host, so it was not "
            "downloaded. Upload the spreadsheet itself to Slack (not a link) and try again."
        )


class _SameHostOnly(urllib.request.HTTPRedirectHandler):
    """Follow redirects within Slack's file host only: the token never goes elsewhere."""

    def __init__(self, api_url: str) -> None:
        self.api_url = api_url

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        check_url(newurl, self.api_url)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def download(file: dict[str, Any], *, client: WebClient, limits: Limits) -> bytes:
    """The bytes of a shared file, at most limits.max_bytes (checked before and while reading)."""
    url = file.get("url_private_download") or file.get("url_private") or ""
    api_url = client.base_url
    check_url(url, api_url)
    if isinstance(file.get("size"), int):
        check_size(file["size"], limits)
    opener = urllib.request.build_opener(_SameHostOnly(api_url))
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {client.token}"})
    try:
        with opener.open(request, timeout=60) as response:
            content_type = response.headers.get("Content-Type", "")
            data = response.read(limits.max_bytes + 1)
    except urllib.error.URLError as error:
        raise FileRefused(
            f"I couldn't download {file.get('name', 'the file')} from Slack ({error}). "
            "Please share it again."
        ) from None
    check_size(len(data), limits)
    if content_type.startswith("text/html") and not (file.get("name") or "").endswith(".html"):
        raise FileRefused(
            "Slack didn't let me download the file (it answered with a sign-in page): the app "
            "may lack the files:read scope. Ask your Slack admin to reinstall pars-bot."
        )
    return data


def upload(
    client: WebClient,
    *,
    data: bytes,
    file_name: str,
    channel: str | None,
    thread_ts: str | None = None,
    comment: str | None = None,
) -> None:
    client.files_upload_v2(
        content=data,
        filename=file_name,
        title=file_name,
        channel=channel,
        thread_ts=thread_ts,
        initial_comment=comment,
    )
