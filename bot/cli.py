"""The `pars-bot` program."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from bot import batch_cli
from bot.app import ConfigurationError, create_app
from bot.settings import Settings
from storage.db import create_db_engine, upgrade

log = logging.getLogger("pars_bot")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pars-bot",
        description="A Slack bot that keeps CME activities ready for ACCME PARS reporting. "
        "With no command: Socket Mode when SLACK_APP_TOKEN is set, else HTTP.",
    )
    parser.add_argument(
        "--no-scheduler", action="store_true", help="do not run reminders in this process"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = sub.add_parser("serve", help="HTTP mode: POST /slack/events, GET /healthz")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--no-scheduler", action="store_true", default=argparse.SUPPRESS)
    socket = sub.add_parser("socket", help="Socket Mode (needs SLACK_APP_TOKEN)")
    socket.add_argument("--no-scheduler", action="store_true", default=argparse.SUPPRESS)
    db = sub.add_parser("db", help="database commands")
    db_sub = db.add_subparsers(dest="db_command", metavar="DB_COMMAND", required=True)
    db_sub.add_parser("upgrade", help="apply migrations")
    console = sub.add_parser("console", help="try the bot in a terminal, no Slack needed")
    console.add_argument("--user", default="U0CONSOLE", help="the Slack user ID you act as")
    sub.add_parser("scheduler", help="run the reminder scheduler alone")
    remind = sub.add_parser("reminders", help="what reminders are due at an instant; send them")
    remind.add_argument("action", choices=["preview", "send"])
    remind.add_argument("--team", help="the workspace (team ID); needed when there are several")
    remind.add_argument("--at", required=True, help="ISO date-time, e.g. 2026-03-30T09:00")
    batch_cli.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING
        if args.command in {"console", "import", "export", "template"}
        else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = Settings()
        return _run(args, settings)
    except ValidationError as error:
        for problem in error.errors():
            name = ".".join(str(p) for p in problem["loc"]).upper()
            print(f"pars-bot: {name}: {problem['msg']}", file=sys.stderr)
        return 2
    except ConfigurationError as error:
        print(f"pars-bot: {error}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "console":
        from bot.console import run_console

        run_console(settings, user_id=args.user)
        return 0
    engine = create_db_engine(settings.database_url)
    if args.command in {"import", "export", "template"}:
        return batch_cli.run_batch_command(args, settings, engine)
    if args.command == "db":
        upgrade(engine)
        print("database is up to date")
        return 0
    if args.command in {"reminders", "scheduler"}:
        from bot import reminders

        upgrade(engine)
        if args.command == "scheduler":
            return reminders.run_alone(settings, engine)
        return reminders.reminders_command(
            settings, engine, args.action, args.team, args.at, sys.stdout
        )
    command = args.command or ("socket" if settings.slack_app_token else "serve")
    scheduler = not args.no_scheduler
    if command == "socket":
        return _socket(settings, engine, scheduler)
    return _serve(
        settings,
        engine,
        args.host if args.command else "0.0.0.0",
        args.port if args.command else 3000,
        getattr(args, "workers", 1),
        scheduler,
    )


def _start_scheduler(settings: Settings, engine: object) -> None:
    from bot.reminders import start_in_process

    start_in_process(settings, engine)  # type: ignore[arg-type]


def _socket(settings: Settings, engine: object, scheduler: bool) -> int:
    if not settings.slack_app_token:
        raise ConfigurationError(
            "SLACK_APP_TOKEN is not set: Socket Mode needs the app-level "
            "token (xapp-...) with the connections:write scope."
        )
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    app = create_app(settings, engine=engine, socket_mode=True)  # type: ignore[arg-type]
    upgrade(engine)  # type: ignore[arg-type]
    if scheduler:
        _start_scheduler(settings, engine)
    log.info("pars-bot in Socket Mode")
    SocketModeHandler(app, settings.slack_app_token).start()
    return 0


def _serve(
    settings: Settings, engine: object, host: str, port: int, workers: int, scheduler: bool
) -> int:
    from gunicorn.app.base import BaseApplication

    from bot.web import create_wsgi_app

    create_app_check = settings.slack_signing_secret and settings.slack_bot_token
    if not create_app_check:
        create_app(settings, engine=engine)  # type: ignore[arg-type]  # raises, naming the variable
    upgrade(engine)  # type: ignore[arg-type]

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", 8)
            self.cfg.set("accesslog", "-")

        def load(self):  # type: ignore[no-untyped-def]
            worker_engine = create_db_engine(settings.database_url)
            app = create_app(settings, engine=worker_engine)  # raises unless the secret is set
            return create_wsgi_app(
                app, worker_engine, signing_secret=settings.slack_signing_secret or ""
            )

    if scheduler:
        # In the arbiter, once, not in each worker; the delivery log keeps sends single anyway.
        # Workers are forked from the arbiter: they must leave its pooled connections alone
        # (SQLAlchemy's advice for os.fork), or their exit could close the scheduler's.
        os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))  # type: ignore[attr-defined]
        _start_scheduler(settings, engine)
    log.info("pars-bot listening on http://%s:%s/slack/events", host, port)
    Server().run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
