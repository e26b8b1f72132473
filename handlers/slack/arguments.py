"""Reading the text after `/pars`: words, quoted values and key=value pairs."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from handlers.slack.errors import UsageError
from handlers.slack.mrkdwn import link_url, mention_id
from storage.pars.fields import (
    FieldSpec,
    control_character,
    parse_url,
    parse_user,
    resolve_key,
    suggest_key,
)

# Slack clients on macOS and iOS turn typed quotes into curly ones.
_SMART_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"'})


def tokenize(text: str, usage: str | None = None) -> list[str]:
    lexer = shlex.shlex(text.translate(_SMART_QUOTES), posix=True, punctuation_chars=False)
    lexer.whitespace_split = True
    # Only double quotes group words: apostrophes are common in titles (Crohn's, Women's).
    lexer.quotes = '"'
    lexer.commenters = ""
    lexer.escape = ""  # a backslash in a title is a backslash
    try:
        return list(lexer)
    except ValueError:
        raise UsageError(
            'A quote was left open: put a closing " after the value, '
            'e.g. title="Medicine Grand Rounds".',
            usage,
        ) from None


@dataclass
class Arguments:
    positional: list[str] = field(default_factory=list)
    pairs: dict[str, str] = field(default_factory=dict)  # key as typed -> value


def split_arguments(tokens: list[str], usage: str) -> Arguments:
    args = Arguments()
    seen: set[str] = set()
    for token in tokens:
        key, sep, value = token.partition("=")
        if not sep:
            args.positional.append(_plain_word(token, usage))
            continue
        if not key:
            raise UsageError(f"`{token}` has no name before the `=`.", usage)
        folded = key.strip().lower()
        if folded in seen:
            raise UsageError(f"`{key}=` is given twice; give each field once.", usage)
        seen.add(folded)
        args.pairs[key.strip()] = value
    return args


def _plain_word(word: str, usage: str) -> str:
    """A word that names an activity or a setting, looked up or stored as it is: the one rule
    on control characters applies to it as to every field (a NUL would crash PostgreSQL's
    lookup). Field values are left to the validator, which names their field."""
    problem = control_character(word)
    if problem is not None:
        shown = "".join("\N{REPLACEMENT CHARACTER}" if control_character(c) else c for c in word)
        raise UsageError(f"`{shown}` {problem}.", usage)
    return word


def unknown_key(key: str, usage: str, extra: tuple[str, ...] = ()) -> UsageError:
    suggestion = suggest_key(key, extra)
    hint = f" Did you mean `{suggestion}=`?" if suggestion else " `/pars help fields` lists them."
    return UsageError(f"`{key}` is not a field I know.{hint}", usage)


# Slack marks up a mention and a typed web address; only the fields that take them read it, so
# a title typed as "<https://x|y>" (which Slack sends escaped) stays a title.
_SLACK_MARKUP: dict[Callable[[str], Any], Callable[[str], str]] = {
    parse_user: mention_id,
    parse_url: link_url,
}


def field_values(pairs: dict[str, str], usage: str) -> dict[str, str]:
    """key=value pairs -> text by field name; an unknown key gets a did-you-mean."""
    values: dict[str, str] = {}
    specs: dict[str, FieldSpec] = {}
    for key, value in pairs.items():
        spec = resolve_key(key)
        if spec is None:
            raise unknown_key(key, usage)
        if spec.name in specs:
            raise UsageError(
                f"`{key}=` and `{specs[spec.name].key}=` name the same field; give it once.", usage
            )
        specs[spec.name] = spec
        values[spec.name] = _SLACK_MARKUP.get(spec.parse, str)(value)
    return values


def no_stray_words(args: Arguments, usage: str, allowed: int = 0) -> None:
    stray = args.positional[allowed:]
    if stray:
        raise UsageError(
            f"I can't read `{stray[0]}`: give fields as key=value, and put quotes around "
            'values with spaces, e.g. title="Medicine Grand Rounds".',
            usage,
        )
