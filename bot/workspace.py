"""Which workspace a CLI command works on: the one every command resolves the same way."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bot.errors import ConfigurationError
from storage.db import session_scope
from storage.settings import known_teams


def resolve_team(engine: Engine, given: str | None, *, first: bool = False) -> str:
    """`--team` as given, if the database knows it; without it, the database's only workspace.

    With `first` (an import), a workspace the database does not know yet is taken while it
    holds none: the first file of a new installation.
    """
    with session_scope(engine) as session:
        known = known_teams(session=session)
    if given:
        team = given.strip()
        if team in known or (first and not known):
            return team
        held = f"it holds {', '.join(known)}" if known else "it holds none yet"
        raise ConfigurationError(f"No workspace {team} in the database: {held}.")
    if len(known) == 1:
        return known[0]
    if not known:
        raise ConfigurationError(
            "The database holds no workspace yet: give --team T (a Slack team ID, e.g. T0123ABCD)."
        )
    raise ConfigurationError(
        f"The database holds {len(known)} workspaces ({', '.join(known)}): choose one with --team."
    )
