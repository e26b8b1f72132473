"""What PARS still needs of an activity, in words: one wording for every place that says it.

The list itself comes from `rules.still_needs`; this only groups it by the status each field
holds back and names the fields.
"""

from __future__ import annotations

from collections.abc import Sequence

from storage.pars import rules
from storage.pars.fields import label

BLOCKED = (rules.Status.ACTIVE, rules.Status.CLOSED)


def grouped(needs: Sequence[rules.Need]) -> dict[rules.Status, list[str]]:
    """Field labels by the status they hold back, Active first; statuses with none left out."""
    groups: dict[rules.Status, list[str]] = {}
    for status in BLOCKED:
        names = [label(n.field) for n in needs if n.blocks is status]
        if names:
            groups[status] = names
    return groups


def needs_text(needs: Sequence[rules.Need], *, bold: bool = True, most: int | None = None) -> str:
    """ "PARS still needs for *Active*: Credits, Description; for *Closed*: Outcome measures",
    or "" when nothing is missing. `bold` is Slack's mrkdwn; `most` names at most that many
    fields of each status and counts the rest."""
    parts = []
    for status, names in grouped(needs).items():
        shown = names if most is None else names[:most]
        text = ", ".join(shown)
        if len(names) > len(shown):
            text += f" and {len(names) - len(shown)} more"
        parts.append(f"for {f'*{status}*' if bold else status}: {text}")
    return "PARS still needs " + "; ".join(parts) if parts else ""


def column_text(needs: Sequence[rules.Need], status: rules.Status) -> str:
    """The fields holding back one status, for a spreadsheet column ("" when none)."""
    return ", ".join(grouped(needs).get(status, []))
