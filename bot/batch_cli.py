"""`pars-bot import`, `export` and `template`: batch work from the command line."""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from bot.errors import ConfigurationError
from bot.settings import Settings
from bot.workspace import resolve_team
from storage.activities import Actor
from storage.batch.apply import apply_plan
from storage.batch.export import default_year, export_tsv, export_workbook, fill_year
from storage.batch.plan import row_text
from storage.batch.preview import preview_file
from storage.batch.store import claim_file
from storage.db import session_scope, upgrade
from storage.errors import ParsError
from storage.pars.rules import accepted_years
from storage.settings import workspace_zone
from storage.sheets.fill import report_lines, tsv_bytes
from storage.sheets.workbooks import template_workbook


class CliError(Exception):
    """A refusal to print on stderr, exit code 2."""


def run_batch_command(args: argparse.Namespace, settings: Settings, engine: Engine) -> int:
    from bot.app import utc_now

    now = utc_now()
    out: TextIO = sys.stdout
    try:
        if args.command == "template":
            args.out.write_bytes(template_workbook("counts" if args.counts else "activities"))
            print(f"wrote {args.out}", file=out)
            return 0
        upgrade(engine)
        if args.command == "export":
            return _export(args, engine, now, settings.timezone, out)
        return _import(args, engine, now, settings.timezone, out)
    except (CliError, ConfigurationError, ParsError) as error:
        text = error.message if isinstance(error, ParsError) else str(error)
        print(f"pars-bot: {text}", file=sys.stderr)
        return 2


def _workspace_today(engine: Engine, team: str, now: datetime, default: ZoneInfo) -> date:
    """Today where the workspace is: its `/pars config timezone`, else PARS_TIMEZONE."""
    with session_scope(engine) as session:
        zone = workspace_zone(session=session, team_id=team, default=default)
    return now.astimezone(zone).date()


def _export(
    args: argparse.Namespace, engine: Engine, now: datetime, zone: ZoneInfo, out: TextIO
) -> int:
    into: Path | None = args.into
    if into is not None and not into.is_file():
        raise CliError(f"{into}: no such file")
    team = resolve_team(engine, args.team)
    today = _workspace_today(engine, team, now, zone)
    year = args.year or default_year(today)
    years = accepted_years(today)
    if year not in years:
        raise CliError(f"--year {year}: give a data year from {years[0]} to {years[-1]}")
    if into is not None:
        return _export_into(args, into, engine, team, year, today, out)
    with session_scope(engine) as session:
        make = export_tsv if args.tsv else export_workbook
        made = make(session=session, team_id=team, year=year, today=today)
    args.out.write_bytes(made.data)
    kind = " (tab-delimited)" if args.tsv else ""
    print(f"wrote {args.out}{kind}: {made.activities} activities of data year {year}", file=out)
    return 0


def _export_into(
    args: argparse.Namespace,
    into: Path,
    engine: Engine,
    team: str,
    year: int,
    today: date,
    out: TextIO,
) -> int:
    """Fill the provider's template; exit 0 once written, whatever the report says."""
    with session_scope(engine) as session:
        filled = fill_year(
            session=session,
            team_id=team,
            year=year,
            today=today,
            template=into.read_bytes(),
            file_name=into.name,
        )
    as_text = args.tsv or filled.is_text
    args.out.write_bytes(tsv_bytes(filled.grid) if as_text and not filled.is_text else filled.data)
    report = filled.report
    where = into.name if filled.is_text else f"sheet {report.sheet!r} of {into.name}"
    print(
        f"wrote {args.out}{' (tab-delimited)' if as_text else ''}: {report.activities} "
        f"activities of data year {year} into {where}",
        file=out,
    )
    for line in report_lines(report):
        print(f"  {line}", file=out)
    if not as_text and args.out.suffix.lower() != into.suffix.lower():
        print(
            f"  Note: the template is a {into.suffix} workbook; Excel opens the copy only under "
            f"that extension (rename {args.out.name} to {args.out.stem}{into.suffix}).",
            file=out,
        )
    return 0


def _import(
    args: argparse.Namespace, engine: Engine, now: datetime, zone: ZoneInfo, out: TextIO
) -> int:
    path: Path = args.file
    if not path.is_file():
        raise CliError(f"{path}: no such file")
    team = resolve_team(engine, args.team, first=True)
    today = _workspace_today(engine, team, now, zone)
    actor = Actor(user_id=args.user, is_admin=True)  # whoever runs it holds the database
    claim = claim_file(
        engine=engine, team_id=team, user_id=args.user, file_id=None, file_name=path.name, now=now
    )
    preview = preview_file(
        engine=engine,
        plan_id=claim.plan_id,
        team_id=team,
        actor=actor,
        data=path.read_bytes(),
        file_name=path.name,
        today=today,
    )
    s = preview.summary
    print(
        f"{path.name}: {s.rows} rows: {s.added} to add, {s.updated} to update, "
        f"{s.unchanged} unchanged, {s.counts} with new learner counts, "
        f"{s.closed} to close, {s.errors} with errors",
        file=out,
    )
    for line in preview.first_errors:
        print(f"  {line}", file=out)
    if preview.unknown:
        print("  columns not known (ignored): " + ", ".join(preview.unknown), file=out)
    for note in preview.not_used:
        print(f"  {note}", file=out)
    if not args.apply:
        print("nothing changed (give --apply to apply the valid rows)", file=out)
        return 1 if s.errors else 0
    with session_scope(engine) as session:
        result = apply_plan(
            session=session, team_id=team, plan_id=claim.plan_id, actor=actor, now=now, today=today
        )
    d = result.summary
    print(
        f"applied as batch {result.batch_id}: {d.added} added, {d.updated} updated, "
        f"{d.counts} with learner counts, {d.closed} closed, {d.errors} rows skipped",
        file=out,
    )
    for row, aid, message in result.errors[:10]:
        print(f"  {row_text(row, aid, message)}", file=out)
    return 1 if d.errors else 0
