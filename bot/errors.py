"""Errors of the pars-bot program, in a module light enough for `pars-bot --help`."""


class ConfigurationError(Exception):
    """The bot cannot start as configured; the message says which variable to set."""
