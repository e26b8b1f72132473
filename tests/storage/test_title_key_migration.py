"""Migration 0006: activities stored before it get their folded title, and the index."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine

from storage.db import alembic_config
from tests.storage.test_migrations import empty_engine  # noqa: F401  (the fixture)


def test_the_migration_folds_the_titles_already_stored(empty_engine: Engine) -> None:  # noqa: F811
    config = alembic_config(empty_engine)
    command.upgrade(config, "0005")
    with empty_engine.begin() as connection:
        for pk, title in ((1, "Medicine Grand Rounds"), (2, "medicine grand-rounds."), (3, "")):
            connection.execute(
                sa.text(
                    "INSERT INTO activity (id, team_id, activity_id, title, format, start_date, "
                    "end_date, created_at, created_by, updated_at, updated_by, version) VALUES "
                    "(:pk, 'T1', :aid, :title, 'rss', '2025-01-07', '2025-12-16', "
                    "'2025-01-01 00:00:00', 'U1', '2025-01-01 00:00:00', 'U1', 1)"
                ),
                {"pk": pk, "aid": f"A-{pk}", "title": title},
            )
    command.upgrade(config, "0006")
    with empty_engine.connect() as connection:
        keys = connection.execute(sa.text("SELECT id, title_key FROM activity ORDER BY id")).all()
    assert [tuple(k) for k in keys] == [
        (1, "medicinegrandrounds"),
        (2, "medicinegrandrounds"),
        (3, ""),
    ]
    indexes = {i["name"] for i in sa.inspect(empty_engine).get_indexes("activity")}
    assert "ix_activity_team_title_key_start" in indexes
    command.downgrade(config, "0005")
    columns = {c["name"] for c in sa.inspect(empty_engine).get_columns("activity")}
    assert "title_key" not in columns
