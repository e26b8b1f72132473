"""Configuration from the environment (and a .env file), as README.md's table lists it."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from storage.pars.calendar import known_zone, suggest_zone


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    database_url: str = "sqlite:///pars.db"
    pars_timezone: str = "America/Chicago"
    pars_admins: Annotated[frozenset[str], NoDecode] = Field(default_factory=frozenset)

    @field_validator("pars_admins", mode="before")
    @classmethod
    def _split_admins(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("pars_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        # The IANA list only: a host's own `localtime` names that host's setting, which the
        # next host (or the scheduler's process elsewhere) may not share.
        zone = known_zone(value)
        if zone is None:
            suggestion = suggest_zone(value)
            hint = f" (did you mean {suggestion}?)" if suggestion else ""
            raise ValueError(f"{value!r} is not a time zone name such as America/Chicago{hint}")
        return zone.key

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.pars_timezone)
