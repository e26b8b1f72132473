"""The `pars-bot` program."""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.arguments import parser
from bot.errors import ConfigurationError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.exc import OperationalError

    from bot.settings import Settings

log = logging.getLogger("pars_bot")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Serving workers hand the interpreter lock on after 1 ms, not 5 (see _serve).
SWITCH_INTERVAL_S = 0.001


# Commands that print their own answer: their log shows warnings only, unless --verbose.
QUIET = {"console", "import", "export", "template", "db", "reminders"}


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # What a command needs is imported once it runs: `pars-bot --help` stays instant.
    from pydantic import ValidationError
    from sqlalchemy.exc import OperationalError

    from bot.settings import Settings

    quiet = args.command in QUIET and not args.verbose
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, format=LOG_FORMAT)
    if not args.verbose:
        logging.getLogger("alembic").setLevel(logging.WARNING)
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
    except OperationalError as error:
        # Nothing was written: say which database and why in a line, not with a traceback.
        print(_database_problem(settings, error), file=sys.stderr)
        return 1


def _database_problem(settings: Settings, error: OperationalError) -> str:
    from sqlalchemy.engine import make_url

    from storage.db import is_unreachable

    where = make_url(settings.database_url).render_as_string(hide_password=True)
    reason = str(error.orig or error).strip().splitlines()[0]
    what = "is not answering (or is locked)" if is_unreachable(error) else "cannot be used"
    return f"pars-bot: the database {where} {what}: {reason}. Nothing was changed."


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from storage.db import create_db_engine, upgrade

    if args.command == "console":
        from bot.console import run_console

        run_console(settings, user_id=args.user, files=Path(args.files))
        return 0
    engine = create_db_engine(settings.database_url)
    if args.command in {"import", "export", "template"}:
        from bot import batch_cli

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


def _start_scheduler(settings: Settings, engine: Engine) -> None:
    from bot.reminders import start_in_process

    start_in_process(settings, engine)


def _socket(settings: Settings, engine: Engine, scheduler: bool) -> int:
    if not settings.slack_app_token:
        raise ConfigurationError(
            "SLACK_APP_TOKEN is not set: Socket Mode needs the app-level "
            "token (xapp-...) with the connections:write scope."
        )
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.app import create_app
    from storage.db import upgrade

    app = create_app(settings, engine=engine, socket_mode=True)
    upgrade(engine)
    if scheduler:
        # A thread here is safe: Socket Mode never forks (its client and Bolt's listeners run
        # in threads of this one process).
        _start_scheduler(settings, engine)
    log.info("pars-bot in Socket Mode")
    SocketModeHandler(app, settings.slack_app_token).start()
    return 0


def _serve(
    settings: Settings, engine: Engine, host: str, port: int, workers: int, scheduler: bool
) -> int:
    from gunicorn.app.base import BaseApplication

    from bot import scheduler_process
    from bot.app import create_app
    from bot.web import create_wsgi_app
    from storage.db import create_db_engine, upgrade

    create_app_check = settings.slack_signing_secret and settings.slack_bot_token
    if not create_app_check:
        create_app(settings, engine=engine)  # raises, naming the variable
    upgrade(engine)
    # The workers are forked from this process: they open their own connections, and must
    # inherit none (nor any thread: the scheduler runs in a process of its own).
    engine.dispose()
    arbiter_pid = os.getpid()
    started: list[subprocess.Popen[bytes]] = []

    def start_scheduler(_arbiter: object) -> None:
        if scheduler and not started:
            started.append(scheduler_process.start())

    def stop_scheduler(_arbiter: object = None) -> None:
        # Workers leave through this same stack after fork: only serve stops the scheduler.
        if os.getpid() == arbiter_pid:
            while started:
                scheduler_process.stop(started.pop())

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", 8)
            self.cfg.set("accesslog", "-")
            # Once the port is bound (a second serve on a busy port starts no scheduler).
            self.cfg.set("when_ready", start_scheduler)
            self.cfg.set("on_exit", stop_scheduler)
            if "control_socket_disable" in self.cfg.settings:  # gunicorn >= 24
                # Its control server is a thread of the arbiter, on one socket path per user
                # ($HOME/.gunicorn/gunicorn.ctl) that a second serve would take over.
                self.cfg.set("control_socket_disable", True)

        def load(self):  # type: ignore[no-untyped-def]
            # In each worker: a thread that waits for the interpreter lock (an ack, once its
            # socket is read) gets it after 1 ms of another's CPU work instead of 5 ms.
            sys.setswitchinterval(SWITCH_INTERVAL_S)
            worker_engine = create_db_engine(settings.database_url)
            app = create_app(settings, engine=worker_engine)  # raises unless the secret is set
            return create_wsgi_app(
                app, worker_engine, signing_secret=settings.slack_signing_secret or ""
            )

    log.info("pars-bot listening on http://%s:%s/slack/events", host, port)
    try:
        Server().run()
    finally:
        stop_scheduler()  # also when gunicorn gave up without calling on_exit
    return 0


if __name__ == "__main__":
    sys.exit(main())
