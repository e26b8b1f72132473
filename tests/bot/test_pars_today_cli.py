"""`pars-bot import` takes today's PARS record and the older forms of it (a real subprocess)."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.bot.test_batch_cli import database_env
from tests.bot.test_cli import run
from tests.storage.batch.files import grand_rounds, table, text_file


def gr(activity_id: str, **extra: object) -> dict[str, object]:
    row = grand_rounds(activity_id)
    del row["Listed in CME Finder"]
    return row | extra


def imported(tmp_path: Path, engine: Engine, *records: dict[str, object]) -> dict[str, sa.Row]:  # type: ignore[type-arg]
    (tmp_path / "batch.csv").write_bytes(text_file(table(list(records))))
    done = run(
        tmp_path, "import", "batch.csv", "--team", "T0OFFICE", "--apply", **database_env(engine)
    )
    assert "Traceback" not in done.stderr, done.stderr[-1500:]
    assert done.returncode == 0, done.stdout[-1500:]
    with engine.connect() as connection:
        found = connection.execute(sa.text("SELECT * FROM activity")).all()
    return {r.activity_id: r for r in found}


def test_import_takes_the_passport_answers_and_a_dollar_fee(tmp_path: Path, engine: Engine) -> None:
    got = imported(
        tmp_path,
        engine,
        gr("P-1", **{"CME Passport": "yes", "Fee": "Variable", "Registration": "open"}),
        gr("P-2", **{"CME Passport": "yes", "Fee": "$75", "Registration": "Limited"}),
    )
    assert (got["P-1"].finder_fee, got["P-1"].finder_registration) == ("variable", "open")
    assert (got["P-2"].finder_fee, got["P-2"].finder_registration) == ("yes", "limited")


def test_import_takes_delivery_as_a_set(tmp_path: Path, engine: Engine) -> None:
    got = imported(
        tmp_path,
        engine,
        gr("D-1", **{"Delivery method": "in-person, live-streamed"}),
        gr("D-2", **{"Delivery method": "hybrid"}),
    )
    for aid in ("D-1", "D-2"):
        methods = got[aid].delivery_method
        assert (json.loads(methods) if isinstance(methods, str) else methods) == [
            "in-person",
            "live-streamed",
        ]


def test_import_takes_outcomes_by_pars_and_today_s_names(tmp_path: Path, engine: Engine) -> None:
    got = imported(
        tmp_path,
        engine,
        gr("O-1", **{"Outcome measures": "knowledge:objective+subjective, community-health"}),
        gr("O-2", **{"Outcome measures": "Patient outcomes"}),
    )

    def read(value: object) -> object:
        return json.loads(value) if isinstance(value, str) else value

    assert read(got["O-1"].outcome_measures) == [
        "knowledge:objective+subjective",
        "community-health",
    ]
    assert read(got["O-2"].outcome_measures) == ["patient-health"]
