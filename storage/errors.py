"""Typed errors of the store. Each says, in a coordinator's words, what is wrong.

Messages are plain text. A person is named by `person(user_id)` (`@U0123ABCD`) and the error
lists the IDs it names in `people`, so that whoever shows the message (Slack, the CLI) can
render each as it shows people.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


def person(user_id: str) -> str:
    """How a message names a person; list the ID in the error's or problem's `people`."""
    return f"@{user_id}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one field of a record."""

    field: str
    message: str
    # What kind of problem, where the service answers it with an error of its own.
    code: str = ""
    # The user IDs the message names with `person()`.
    people: tuple[str, ...] = ()


class ParsError(Exception):
    """Base of every error a user can cause; its message is safe to show them."""

    def __init__(self, message: str, people: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.people = tuple(dict.fromkeys(u for u in people if u))


class ValidationFailed(ParsError):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = [f"• {p.message}" for p in problems]
        super().__init__(
            "Nothing was saved:\n" + "\n".join(lines), [u for p in problems for u in p.people]
        )


class ActivityNotFound(ParsError):
    def __init__(self, activity_id: str) -> None:
        self.activity_id = activity_id
        super().__init__(
            f"No activity has the ID `{activity_id}`. `/pars list` shows the IDs you have."
        )


class DuplicateActivityId(ParsError):
    def __init__(self, activity_id: str) -> None:
        self.activity_id = activity_id
        super().__init__(
            f"An activity with the ID `{activity_id}` already exists. Use "
            f"`/pars edit {activity_id} ...` to change it, or choose another ID."
        )


class StaleEdit(ParsError):
    """The activity changed after the user loaded it; their version would overwrite it."""

    def __init__(self, activity_id: str, changed_by: str | None, fields: list[str]) -> None:
        self.activity_id = activity_id
        self.changed_by = changed_by
        self.fields = fields
        who = person(changed_by) if changed_by else "Someone"
        what = f"{', '.join(fields)} of " if fields else ""
        super().__init__(
            f"{who} changed {what}`{activity_id}` after you opened it. "
            "Your changes were not saved over theirs.",
            [changed_by] if changed_by else [],
        )


class NotPermitted(ParsError):
    pass


class ActivityClosed(ParsError):
    def __init__(self, activity_id: str) -> None:
        self.activity_id = activity_id
        super().__init__(
            f"`{activity_id}` is closed, so it can no longer be changed. "
            f"An admin can reopen it with `/pars reopen {activity_id}`."
        )


class CloseRefused(ParsError):
    def __init__(
        self, activity_id: str, reason: str, missing: list[str], problems: Sequence[Problem] = ()
    ) -> None:
        self.activity_id = activity_id
        self.missing = missing
        self.problems = list(problems)
        super().__init__(reason, [u for p in self.problems for u in p.people])


@dataclass(frozen=True)
class LowerCount:
    """A cumulative count going down: `previous` on file (or entered) before `new`.

    With `later`, the figure being entered is `previous`, as of a date before a smaller
    figure already on file (`new`).
    """

    category: str
    previous: int
    new: int
    later: bool = False

    def describe(self) -> str:
        if self.later:
            return (
                f"{self.category} {self.previous} is more than the {self.new} on file as of a "
                "later date"
            )
        return f"{self.category} {self.previous} → {self.new}"


class CountDecreaseNeedsConfirmation(ParsError):
    """A cumulative count went down: usually a typo, so the user is asked first."""

    def __init__(
        self, activity_id: str, decreases: list[LowerCount], last_count_id: int | None
    ) -> None:
        self.activity_id = activity_id
        self.decreases = decreases
        # The newest count on file when the user was asked; a confirmation names it back.
        self.last_count_id = last_count_id
        parts = "; ".join(d.describe() for d in decreases)
        if self.higher_than_later:
            what = f"a count as of an earlier date can't be higher than a later one ({parts})"
        else:
            what = f"this would lower them ({parts})"
        super().__init__(
            f"Counts of `{activity_id}` are cumulative, and {what}. Nothing was saved yet."
        )

    @property
    def higher_than_later(self) -> bool:
        """Every figure is as of an earlier date than a smaller one on file, none lowers one."""
        return all(d.later for d in self.decreases)
