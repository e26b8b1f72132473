"""Which workspace a CLI command works on: the one every command resolves the same way."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bot.app import ConfigurationError
from storage.db import session_scope
from storage.settings import known_teams


def resolve_team(engine: Engine, given: str | None) -> str:
    """`--team` as given; without it, the database's only workspace."""
    if given:
        return given.strip()
    with session_scope(engine) as session:
        known = known_teams(session=session)
    if len(known) == 1:
        return known[0]
    if not known:
        raise ConfigurationError(
            "The database holds no workspace yet: give --team T (a Slack team ID, e.g. T0123ABCD)."
        )
    raise ConfigurationError(
        f"The database holds {len(known)} workspaces ({', '.join(known)}): choose one with --team."
    )
