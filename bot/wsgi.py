"""WSGI entry for gunicorn: `gunicorn 'bot.wsgi:application'`.

Run `pars-bot db upgrade` once before starting several workers; this module does not migrate,
so that workers never race each other on the schema.
"""

from __future__ import annotations

from bot.app import create_app
from bot.settings import Settings
from bot.web import create_wsgi_app
from storage.db import create_db_engine

settings = Settings()
engine = create_db_engine(settings.database_url)
application = create_wsgi_app(
    create_app(settings, engine=engine),  # raises unless SLACK_SIGNING_SECRET is set
    engine,
    signing_secret=settings.slack_signing_secret or "",
)
