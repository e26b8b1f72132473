"""The fields of an activity as people type them: names, parsing, checks.

Slash commands, modals and spreadsheet rows all give text; this module is the one
place that turns text into values and reports every problem of a record at once.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pycountry

from storage.errors import Problem
from storage.pars import rules

DATE_HINT = "YYYY-MM-DD or M/D/YYYY, e.g. 2025-01-07"


class FieldError(ValueError):
    """A value that cannot be read; the message names what the right form is."""


class ControlCharacter(FieldError):
    """A value holding an invisible control character: no example of the field helps."""


# C0 controls but tab, line feed and carriage return; DEL; the C1 controls; lone surrogates.
# PostgreSQL cannot store a NUL and neither database can encode a lone surrogate; the others
# are invisible in Slack and in a spreadsheet, and the C1 ones only come from text decoded with
# the wrong code page. A value holding one is refused, never quietly cleaned: what else was
# lost with it is for the person who typed it to say. The bidirectional embeddings, overrides
# and isolates (U+202A-U+202E, U+2066-U+2069) are refused too: they make a value display in
# another order than it is stored (an ID or title that reads as another). Zero-width joiners
# and the marks LRM/RLM stay: emoji and right-to-left names need them.
_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def control_character(text: str) -> str | None:
    """Why `text` cannot be kept, if it holds an invisible control character."""
    if text.isprintable():  # no control character is printable; asked at C speed, per cell
        return None
    found = _CONTROL.search(text)
    if found is None:
        return None
    return (
        f"holds an invisible control character (U+{ord(found.group()):04X}, character "
        f"{found.start() + 1}); type the value again without it"
    )


def refuse_control_characters(text: str) -> str:
    """`text` as it is, or ControlCharacter: the first check of every value that comes in."""
    if (problem := control_character(text)) is not None:
        raise ControlCharacter(problem)
    return text


_SPACES = re.compile(r"[\s_]+")


def _fold(text: str) -> str:
    return _SPACES.sub("-", text.strip().lower())


def parse_text(limit: int) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = " ".join(raw.split()) if limit <= 500 else raw.strip()
        if len(value) > limit:
            raise FieldError(f"is {len(value)} characters long; at most {limit} fit")
        return value

    return parse


_ACTIVITY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}")


def parse_activity_id(raw: str) -> str:
    value = raw.strip()
    if not _ACTIVITY_ID.fullmatch(value):
        raise FieldError(
            f'"{value}" is not a usable activity ID: use up to 64 letters, digits, '
            "dashes, dots, slashes or underscores, with no spaces (e.g. GR-2025)"
        )
    return value


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DASHED_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
_US_DATE = re.compile(r"\d{1,2}/\d{1,2}/\d{4}")


@functools.lru_cache(maxsize=4096)
def parse_date(raw: str) -> date:
    value = raw.strip()
    try:
        if _ISO_DATE.fullmatch(value):
            return date(int(value[:4]), int(value[5:7]), int(value[8:10]))
        if _DASHED_DATE.fullmatch(value):
            year, month, day = value.split("-")
            return date(int(year), int(month), int(day))
        if _US_DATE.fullmatch(value):
            month, day, year = value.split("/")
            return date(int(year), int(month), int(day))
    except ValueError:
        raise FieldError(f'"{value}" is not a real date') from None
    raise FieldError(f'"{value}" is not a date; use {DATE_HINT}')


# Digits with an optional decimal part, or thousands grouped by commas in their proper places
# ("1,040", "12,500.50"). Anything else with a comma ("1,5", "1,0,4,0") is refused rather than
# guessed at: a decimal comma read as a thousands separator turns 1.5 credits into 15.
_NUMBER = re.compile(r"-?(\d+|\d{1,3}(,\d{3})+)(\.\d+)?|-?\.\d+")
_CURRENCY = "$€£¥"


def parse_decimal(raw: str, *, what: str, currency: bool = False) -> Decimal:
    text = raw.strip()
    value = text[1:].strip() if currency and text[:1] == "$" else text
    if value[:1] in _CURRENCY:
        raise FieldError(f'"{text}" is an amount of money; give {what}')
    if not _NUMBER.fullmatch(value):
        if "," in value and re.fullmatch(r"-?[\d,]*(\.\d+)?", value):
            raise FieldError(
                f'"{text}" is not a number: use a dot for decimals (1.5) and commas only '
                "between groups of three digits (1,040)"
            )
        raise FieldError(f'"{text}" is not a number; give {what}')
    return Decimal(value.replace(",", ""))


def parse_credits(raw: str) -> Decimal:
    number = parse_decimal(raw, what="the credits as a number such as 1, 1.5 or 20.25")
    if number <= 0 or number > rules.MAX_CREDITS:
        raise FieldError(f"must be more than 0 and at most {rules.MAX_CREDITS}")
    if number % rules.CREDIT_STEP != 0:
        raise FieldError(f"{number} is not a multiple of 0.25")
    return number.quantize(Decimal("0.01"))


def parse_money(raw: str) -> Decimal:
    if raw.strip().lower() in {"free", "none", "no fee"}:
        return Decimal("0.00")
    number = parse_decimal(raw, what="an amount in dollars such as 0, 150 or 49.99", currency=True)
    if number < 0:
        raise FieldError("cannot be negative")
    if number > rules.MAX_MONEY:
        raise FieldError(f"${number:,} is more than the ${rules.MAX_MONEY:,} the bot accepts")
    if number != number.quantize(Decimal("0.01")):
        raise FieldError(f'"{raw.strip()}" has fractions of a cent; give dollars and cents')
    return number.quantize(Decimal("0.01"))


@functools.lru_cache(maxsize=4096)
def parse_count(raw: str) -> int:
    text = raw.strip()
    # Spreadsheets hand whole numbers over as 12.0; that is still twelve.
    value = re.sub(r"\.0+$", "", text)
    if not re.fullmatch(r"\d+|\d{1,3}(,\d{3})+", value):
        if re.fullmatch(r"[\d,]+", value):
            raise FieldError(
                f'"{text}" is not a whole number: commas may only separate groups of three '
                "digits (1,040)"
            )
        raise FieldError(f'"{text}" is not a whole number of 0 or more')
    number = int(value.replace(",", ""))
    if number > rules.MAX_LEARNERS:
        raise FieldError(
            f"{number:,} is more than the {rules.MAX_LEARNERS:,} learners the bot accepts"
        )
    return number


YES = {"yes", "y", "true", "1", "x"}
NO = {"no", "n", "false", "0"}


def parse_yes_no(raw: str) -> bool:
    value = raw.strip().lower()
    if value in YES:
        return True
    if value in NO:
        return False
    raise FieldError(f'"{raw.strip()}" is not yes or no')


def choice_parser(
    table: Mapping[str, str], aliases: Mapping[str, str] | None = None
) -> Callable[[str], str]:
    lookup = {_fold(code): code for code in table}
    lookup |= {_fold(label): code for code, label in table.items()}
    lookup |= {_fold(alias): code for alias, code in (aliases or {}).items()}

    def parse(raw: str) -> str:
        code = lookup.get(_fold(raw))
        if code is None:
            raise FieldError(f'"{raw.strip()}" is not one of: {", ".join(table)}')
        return code

    return parse


_parse_format_name = choice_parser(
    {code: f.label for code, f in rules.FORMATS.items()}, rules.FORMAT_ALIASES
)


def parse_format(raw: str) -> str:
    legacy = rules.LEGACY_ACTIVITY_TYPES.get(raw.strip().upper())
    if legacy:
        return legacy[0]
    return _parse_format_name(raw)


def parse_state(raw: str) -> str:
    value = raw.strip().upper()
    if value not in rules.US_STATES:
        raise FieldError(f'"{raw.strip()}" is not a 2-letter US state code')
    return value


def parse_country(raw: str) -> str:
    """An ISO 3166 alpha-3 code, or a country's name; 2-letter codes are refused, not guessed:
    "CA" is California to many people and Canada to ISO."""
    value = raw.strip()
    if re.fullmatch(r"[A-Za-z]{3}", value):
        country = pycountry.countries.get(alpha_3=value.upper())
        if country is None:
            raise FieldError(f'"{value}" is not an ISO 3166 3-letter country code')
        return str(country.alpha_3)
    if re.fullmatch(r"[A-Za-z]{2}|[A-Za-z]\.[A-Za-z]\.?", value):
        letters = value.replace(".", "").upper()
        country = pycountry.countries.get(alpha_2=letters)
        hint = f"; for {country.name} write {country.alpha_3}" if country is not None else ""
        raise FieldError(f'"{value}" is a 2-letter code; PARS takes 3-letter codes{hint}')
    try:
        return str(pycountry.countries.lookup(value).alpha_3)
    except LookupError:
        raise FieldError(f'"{value}" is not a country name or 3-letter country code') from None


def parse_url(raw: str) -> str:
    value = raw.strip()
    if not re.fullmatch(r"https?://[^\s/$.?#][^\s]*", value, flags=re.IGNORECASE):
        raise FieldError(f'"{raw.strip()}" is not a web address starting with https://')
    return value


_DELIVERY_LOOKUP = {_fold(code): [code] for code in rules.DELIVERY_METHODS} | {
    _fold(label): [code] for code, label in rules.DELIVERY_METHODS.items()
}
_DELIVERY_LOOKUP |= {
    _fold(alias): [code]
    for alias, code in {
        "in person": "in-person",
        "live": "live-streamed",
        "virtual": "live-streamed",
        "online": "live-streamed",
        "livestream": "live-streamed",
        "streamed": "live-streamed",
        "live streamed": "live-streamed",
    }.items()
}
# What the bot offered until now ("Hybrid (in person and live-streamed)"): both methods.
_DELIVERY_LOOKUP["hybrid"] = list(rules.HYBRID)
_ASIDE = re.compile(r"\([^)]*\)")


def parse_delivery(raw: str) -> list[str]:
    """One or more delivery methods: `in-person,live-streamed`; `hybrid` is both."""
    codes: set[str] = set()
    for part in re.split(r"[;,+&/\n]|\band\b", _ASIDE.sub("", raw)):
        if not part.strip():
            continue
        found = _DELIVERY_LOOKUP.get(_fold(part))
        if found is None:
            raise FieldError(
                f'"{part.strip()}" is not a delivery method; use any of: '
                + ", ".join(rules.DELIVERY_METHODS)
                + " (hybrid for both)"
            )
        codes.update(found)
    return [code for code in rules.DELIVERY_METHODS if code in codes]


def parse_names(raw: str) -> list[str]:
    # Names of organizations often contain commas, so only ';' and new lines separate them.
    return [" ".join(n.split()) for n in re.split(r"[;\n]", raw) if n.strip()]


_OUTCOME_LOOKUP = {_fold(code): code for code in rules.OUTCOME_MEASURES} | {
    _fold(label): code for code, label in rules.OUTCOME_MEASURES.items()
}
_OUTCOME_LOOKUP |= {_fold(alias): code for alias, code in rules.OUTCOME_ALIASES.items()}
_KIND_WORDS = {"both": tuple(rules.OUTCOME_KINDS)} | {k: (k,) for k in rules.OUTCOME_KINDS}
# "Learner Knowledge (Objective, Subjective)", as the bot shows and exports a measure.
_SHOWN_KINDS = re.compile(r"\(([^)]*)\)\s*$")


def _outcome_part(part: str) -> tuple[str, tuple[str, ...]]:
    """One measure and its kinds: `knowledge:objective`, `Learner Knowledge (Objective)`."""
    text, kinds_text = part, ""
    if shown := _SHOWN_KINDS.search(text):
        text, kinds_text = text[: shown.start()], shown.group(1)
    elif ":" in text:
        text, kinds_text = text.split(":", 1)
    key = _fold(re.sub(r"^\s*((change in)\s+)+", "", text, flags=re.IGNORECASE))
    key = key.replace("/", "-")
    code = _OUTCOME_LOOKUP.get(key) or _OUTCOME_LOOKUP.get(key.removeprefix("learner-"))
    kinds: list[str] = []
    for word in re.split(r"[+&/,]|\band\b", kinds_text):
        if not word.strip():
            continue
        found = _KIND_WORDS.get(word.strip().lower())
        if found is None:
            code = None
            break
        kinds += found
    if code is None:
        raise FieldError(
            f'"{part.strip()}" is not an outcome measure; use any of: '
            + ", ".join(rules.OUTCOME_MEASURES)
            + ", each optionally :objective, :subjective or :both"
        )
    return code, tuple(kinds)


def parse_outcomes(raw: str) -> list[str]:
    chosen: dict[str, set[str]] = {}
    # Commas separate measures, except inside a shown label's "(Objective, Subjective)".
    for part in re.split(r"[;\n]|,(?![^(]*\))", raw):
        if not part.strip():
            continue
        code, kinds = _outcome_part(part)
        chosen.setdefault(code, set()).update(kinds)
    # The tables' order, so that the same choice made in another order is no change.
    return [
        code + (":" + "+".join(k for k in rules.OUTCOME_KINDS if k in kinds) if kinds else "")
        for code, kinds in ((c, chosen[c]) for c in rules.OUTCOME_MEASURES if c in chosen)
    ]


def outcome_label(stored: str) -> str:
    """A stored measure as PARS names it: "Learner Knowledge (Objective)"."""
    code, _, kinds = stored.partition(":")
    name = rules.OUTCOME_MEASURES.get(code, code)
    if not kinds:
        return name
    return f"{name} ({', '.join(rules.OUTCOME_KINDS.get(k, k) for k in kinds.split('+'))})"


SUPPORTERS_HINT = 'e.g. "Acme Pharma:monetary:5000; Beta Devices:in-kind"'


def parse_supporters(raw: str) -> list[dict[str, Any]]:
    supporters: list[dict[str, Any]] = []
    for part in re.split(r"[;\n]", raw):
        if not part.strip():
            continue
        pieces = [p.strip() for p in part.split(":")]
        name = pieces[0]
        kind_raw = pieces[1] if len(pieces) > 1 else ""
        try:
            kind = choice_parser(rules.SUPPORT_KINDS, {"inkind": "in-kind"})(kind_raw)
        except FieldError:
            raise FieldError(
                f'"{part.strip()}" needs a name and monetary or in-kind, {SUPPORTERS_HINT}'
            ) from None
        if not name or len(pieces) > 3:
            raise FieldError(f'"{part.strip()}" is not name:kind[:amount], {SUPPORTERS_HINT}')
        amount: str | None = None
        if kind == "monetary":
            if len(pieces) < 3 or not pieces[2]:
                raise FieldError(
                    f'monetary support from "{name}" needs an amount, {SUPPORTERS_HINT}'
                )
            money = parse_money(pieces[2])
            if money <= 0:
                raise FieldError(f'monetary support from "{name}" must be more than 0')
            if rules.UNCONFIRMED.whole_dollar_support and money % 1:
                raise FieldError(
                    f'monetary support from "{name}" is given in whole dollars, not {money}'
                )
            amount = str(money)
        elif len(pieces) == 3 and pieces[2]:
            raise FieldError(f'in-kind support from "{name}" takes no amount')
        supporters.append({"name": name, "kind": kind, "amount": amount})
    return supporters


MOC_BOARDS_HINT = (
    'one entry per board, separated by ";": board:points:type+type:claim-date, e.g. '
    '"ABIM:1.5:Medical Knowledge+Practice Assessment:2026-06-30; ABP:1:Lifelong Learning"'
)
_BOARD_LOOKUP = {_fold(code): code for code in rules.MOC_BOARDS} | {
    _fold(name): code for code, name in rules.MOC_BOARDS.items()
}
_CREDIT_TYPES = dict(rules.UNCONFIRMED.moc_credit_types)
_CREDIT_TYPE_LOOKUP = {
    board: {_fold(t): t for t in types} for board, types in rules.UNCONFIRMED.moc_credit_types
}


def parse_moc_board(raw: str) -> str:
    """A certifying board by its code or name, any case: `abpath` is ABPath."""
    if not raw.strip():
        raise FieldError("names no board: begin it with one of " + ", ".join(rules.MOC_BOARDS))
    code = _BOARD_LOOKUP.get(_fold(raw))
    if code is not None:
        return code
    close = difflib.get_close_matches(_fold(raw), [_fold(c) for c in rules.MOC_BOARDS], n=1)
    hint = f"; did you mean {_BOARD_LOOKUP[close[0]]}?" if close else ""
    raise FieldError(
        f'"{raw.strip()}" is not a certifying board PARS registers MOC for; use one of: '
        + ", ".join(rules.MOC_BOARDS)
        + hint
    )


def parse_moc_points(raw: str) -> str:
    number = parse_decimal(raw, what="MOC points as a number such as 1, 1.5 or 0.25")
    if number <= 0 or number > rules.MAX_CREDITS:
        raise FieldError(
            f"{number} MOC points: must be more than 0 and at most {rules.MAX_CREDITS}"
        )
    if number % rules.CREDIT_STEP != 0:
        raise FieldError(f"{number} MOC points: not a multiple of 0.25")
    return format(number.quantize(Decimal("0.01")).normalize(), "f")


# As the one credit type an activity had before boards had entries.
MOC_CREDIT_TYPE_LIMIT = 200


def moc_credit_types(board: str, raw: str) -> list[str]:
    """Credit types separated by + or ,: a type the board's (unconfirmed) list has is written
    as the list has it; any other is kept as typed."""
    known = _CREDIT_TYPE_LOOKUP.get(board, {})
    types: list[str] = []
    for part in re.split(r"[+,]", raw):
        text = " ".join(part.split())
        if len(text) > MOC_CREDIT_TYPE_LIMIT:
            raise FieldError(
                f'{board} credit type "{text[:40]}…" is {len(text)} characters long; at most '
                f"{MOC_CREDIT_TYPE_LIMIT} fit"
            )
        if text and (kept := known.get(_fold(text), text)) not in types:
            types.append(kept)
    return types


# How an entry's part is known for points or a claim date rather than credit types.
_POINTS_PIECE = re.compile(r"[\d.,$]+")
_DATE_PIECE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{4}")


def parse_moc_credit_type(raw: str) -> str:
    """The credit types of `moc-credit-type=`, which go into the first entry's text: what that
    text would read as another part, or as another board, is refused here."""
    value = parse_text(MOC_CREDIT_TYPE_LIMIT)(raw)
    for mark, role in ((";", "boards"), (":", "a board's parts")):
        if mark in value:
            raise FieldError(
                f'a credit type has no "{mark}": it separates {role} in moc-boards; join one '
                "board's credit types with + (Medical Knowledge+Patient Safety)"
            )
    for piece in re.split(r"[+,]", value):
        piece = piece.strip()
        if _DATE_PIECE.fullmatch(piece):
            raise FieldError(
                f'"{piece}" is a date, not a credit type: give a claim date in moc-boards '
                "(ABIM:1.5:Medical Knowledge:2026-06-30)"
            )
        if _POINTS_PIECE.fullmatch(piece):
            raise FieldError(
                f'"{piece}" is a number, not a credit type: give points with moc-credits='
            )
    return value


def _moc_entry(part: str) -> dict[str, Any]:
    """One board's entry: the board first, then its points, credit types and claim date, each
    known by its kind (a number, a date, else credit types) in any order."""
    pieces = [p.strip() for p in part.split(":")]
    entry: dict[str, Any] = {
        "board": parse_moc_board(pieces[0]),
        "points": None,
        "credit_types": [],
        "claim_date": None,
    }
    for piece in pieces[1:]:
        if not piece:
            continue
        if _POINTS_PIECE.fullmatch(piece):
            kind, value = "points", parse_moc_points(piece)
        elif _DATE_PIECE.fullmatch(piece):
            kind, value = "claim_date", parse_date(piece).isoformat()
        else:
            kind, value = "credit_types", moc_credit_types(entry["board"], piece)
        if entry[kind]:
            what = kind.replace("_", " ")
            raise FieldError(f"{entry['board']} is given two {what}; give one ({MOC_BOARDS_HINT})")
        entry[kind] = value
    return entry


def parse_moc_boards(raw: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for part in re.split(r"[;\n]", raw):
        if not part.strip():
            continue
        try:
            entry = _moc_entry(part)
        except FieldError as exc:
            raise FieldError(f'entry "{part.strip()}": {exc}') from None
        if any(e["board"] == entry["board"] for e in entries):
            raise FieldError(
                f"{entry['board']} is given twice: one entry per board, with all its credit "
                "types joined by + (ABIM:1:Medical Knowledge+Practice Assessment)"
            )
        entries.append(entry)
    return entries


def render_moc_boards(entries: list[dict[str, Any]]) -> str:
    """Entries as they are typed, read back by parse_moc_boards to the same value."""
    return "; ".join(
        ":".join(
            p
            for p in (
                e["board"],
                e.get("points") or "",
                "+".join(e.get("credit_types") or []),
                e.get("claim_date") or "",
            )
            if p
        )
        for e in entries
    )


def moc_types_note(raw: str, value: Any) -> str | None:
    """Credit types not on a board's list are kept, and said back: a typo is caught here."""
    notes = []
    for entry in value or []:
        listed = _CREDIT_TYPES.get(entry["board"], ())
        for kind in entry["credit_types"]:
            if kind in listed:
                continue
            close = difflib.get_close_matches(kind, listed, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}?)" if close else ""
            notes.append(f'"{kind}" for {entry["board"]}{hint}')
    if not notes:
        return None
    return (
        "MOC credit types kept as typed, not on the bot's (unconfirmed) list of the board's "
        "types: " + "; ".join(notes)
    )


_COMMENDATION_LOOKUP = {
    re.sub(r"[^a-z0-9]", "", text.lower()): code
    for code, name in rules.COMMENDATION_CRITERIA.items()
    for text in (code, name)
}


def parse_commendation(raw: str) -> list[str]:
    """Criteria of the Menu for Accreditation with Commendation by name or number (C1-C16), any
    case or spacing, separated by `;`, `,` or new lines; in the menu's order."""
    codes: set[str] = set()
    for part in re.split(r"[;,\n]", raw):
        if not part.strip():
            continue
        folded = re.sub(r"[^a-z0-9]", "", part.lower())
        code = _COMMENDATION_LOOKUP.get(folded)
        if code is None:
            raise FieldError(
                f'"{part.strip()}" is not a criterion of the Menu for Accreditation with '
                f"Commendation; {_commendation_hint(folded)}"
            )
        codes.add(code)
    return [code for code in rules.COMMENDATION_CRITERIA if code in codes]


def _commendation_hint(folded: str) -> str:
    if re.fullmatch(r"c\d+", folded):  # a number out of range: no name is "close" to it
        return f"they are numbered C1 to C{len(rules.COMMENDATION_CRITERIA)}"
    close = difflib.get_close_matches(folded, list(_COMMENDATION_LOOKUP), n=1, cutoff=0.7)
    if close:
        return f"did you mean {rules.COMMENDATION_CRITERIA[_COMMENDATION_LOOKUP[close[0]]]}?"
    return (
        "give a criterion's name or number, e.g. Engages Teams or C1 (`/pars help fields` "
        "lists them)"
    )


_parse_fee_answer = choice_parser(
    rules.PASSPORT_FEES, {"no": "free", "none": "free", "no fee": "free", "varies": "variable"}
)


def parse_passport_fee(raw: str) -> str:
    """Yes, free or variable; a dollar amount (what the bot took until now) says which."""
    if (answer := _parse_fee_answer_or_none(raw)) is not None:
        return answer
    if not re.search(r"\d", raw):
        raise FieldError(f'"{raw.strip()}" is not one of: {", ".join(rules.PASSPORT_FEES)}')
    amount = parse_money(raw)  # a misread amount ("-5", "1,5") gets the money's own message
    return "yes" if amount > 0 else "free"


def fee_note(raw: str, value: Any) -> str | None:
    """Why a fee given as an amount reads as it does: the amount itself is not kept."""
    if _parse_fee_answer_or_none(raw) is not None:
        return None
    return (
        f'CME Passport fee: "{raw.strip()}" read as *{rules.PASSPORT_FEES[value]}*; '
        "PARS asks only whether there is a fee"
    )


def _parse_fee_answer_or_none(raw: str) -> str | None:
    try:
        return _parse_fee_answer(raw)
    except FieldError:
        return None


def parse_user(raw: str) -> str:
    value = raw.strip()
    if not re.fullmatch(r"[UW][A-Z0-9]{2,}", value):
        raise FieldError(
            f'"{value}" is not a Slack user; mention them (owner=@name) or give a member ID '
            "such as U0123ABCD"
        )
    return value


def parse_accme_id(raw: str) -> str:
    value = raw.strip()
    if value.endswith(".0") and value[:-2].isdigit():  # a number a spreadsheet made a float
        value = value[:-2]
    if not re.fullmatch(r"[0-9]{1,32}", value):
        raise FieldError(
            f'"{value}" is not an ACCME Activity ID: the number PARS assigned, digits only'
        )
    return value


def render(value: Any) -> str:
    """A value as a user would type it back."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, list):
        if value and isinstance(value[0], dict) and "board" in value[0]:
            return render_moc_boards(value)
        if value and isinstance(value[0], dict):
            return "; ".join(
                ":".join(str(p) for p in (s["name"], s["kind"], s.get("amount")) if p)
                for s in value
            )
        return "; ".join(str(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    key: str
    label: str
    parse: Callable[[str], Any]
    example: str
    aliases: tuple[str, ...] = ()
    # What the bot read into a value it took in an older form, said back to the person.
    note: Callable[[str, Any], str | None] | None = None


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "activity_id",
        "id",
        "Activity ID",
        parse_activity_id,
        "id=GR-2025",
        ("activity-id", "provider-activity-id", "internal-id"),
    ),
    FieldSpec(
        "title", "title", "Title", parse_text(500), 'title="Medicine Grand Rounds"', ("name",)
    ),
    FieldSpec(
        "format",
        "format",
        "Format",
        parse_format,
        "format=rss",
        ("activity-format", "activity-type", "type"),
    ),
    FieldSpec(
        "delivery_method",
        "delivery",
        "Delivery method",
        parse_delivery,
        "delivery=in-person,live-streamed",
        ("delivery-method", "method"),
    ),
    FieldSpec(
        "start_date", "start", "Start date", parse_date, "start=2025-01-07", ("start-date", "begin")
    ),
    FieldSpec("end_date", "end", "End date", parse_date, "end=2025-12-16", ("end-date", "finish")),
    FieldSpec("city", "city", "City", parse_text(100), "city=Chicago"),
    FieldSpec("state", "state", "State", parse_state, "state=IL", ("province",)),
    FieldSpec("country", "country", "Country", parse_country, "country=USA"),
    FieldSpec(
        "credits",
        "credits",
        "AMA PRA Category 1 credits",
        parse_credits,
        "credits=1.5",
        # Not "hours": hours of instruction were removed from PARS and are not credits.
        ("ama-credits", "category-1-credits", "credit", "cat1-credits"),
    ),
    FieldSpec(
        "description",
        "description",
        "Description",
        parse_text(rules.UNCONFIRMED.description_max),
        'description="Weekly case conference"',
        ("desc", "activity-description"),
    ),
    FieldSpec(
        "providership",
        "providership",
        "Providership",
        choice_parser(rules.PROVIDERSHIP, {"directly": "direct", "jointly": "joint"}),
        "providership=direct",
        ("provided", "provider-type"),
    ),
    FieldSpec(
        "joint_providers",
        "joint-providers",
        "Joint providers",
        parse_names,
        'joint-providers="Univ. Hospital; State Society"',
        ("joint-provider", "joint"),
    ),
    FieldSpec(
        "cme_finder",
        "passport",
        "Listed in CME Passport",
        parse_yes_no,
        "passport=no",
        ("finder", "cme-finder", "cme-passport"),
    ),
    FieldSpec(
        "finder_fee",
        "fee",
        "CME Passport fee",
        parse_passport_fee,
        "fee=free",
        ("finder-fee", "passport-fee"),
        fee_note,
    ),
    FieldSpec(
        "finder_registration",
        "registration",
        "CME Passport registration",
        choice_parser(
            rules.PASSPORT_REGISTRATION,
            {"open-to-all": "open", "all": "open", "restricted": "limited"},
        ),
        "registration=open",
        ("finder-registration", "passport-registration"),
    ),
    FieldSpec(
        "finder_url",
        "url",
        "CME Passport activity URL",
        parse_url,
        "url=https://cme.example.org/gr",
        ("finder-url", "passport-url", "activity-url", "link"),
    ),
    FieldSpec(
        "outcome_measures",
        "outcomes",
        "Outcome measures",
        parse_outcomes,
        "outcomes=knowledge:objective,patient-health",
        ("outcome-measures", "outcome", "measures"),
    ),
    FieldSpec(
        "commercial_support",
        "commercial-support",
        "Commercial support",
        parse_yes_no,
        "commercial-support=no",
        ("commercial", "support"),
    ),
    FieldSpec(
        "supporters",
        "supporters",
        "Commercial supporters",
        parse_supporters,
        'supporters="Acme Pharma:monetary:5000"',
        ("supporter", "commercial-supporters"),
    ),
    FieldSpec("moc", "moc", "Registered for MOC", parse_yes_no, "moc=no"),
    FieldSpec(
        "moc_boards",
        "moc-boards",
        "MOC boards",
        parse_moc_boards,
        'moc-boards="ABIM:1.5:Medical Knowledge+Practice Assessment:2026-06-30"',
        ("moc-board-entries", "moc-registrations"),
        moc_types_note,
    ),
    FieldSpec(
        "moc_attested",
        "moc-attested",
        "MOC attestation of compliance",
        parse_yes_no,
        "moc-attested=yes",
        ("moc-attestation", "attested", "provider-attestation"),
    ),
    FieldSpec(
        "rems_program",
        "rems",
        "REMS program",
        choice_parser(
            rules.REMS_PROGRAMS, {"opioid": "opioid-analgesic", "opioids": "opioid-analgesic"}
        ),
        "rems=opioid-analgesic",
        ("rems-program", "rems-type"),
    ),
    FieldSpec(
        "rems_id",
        "rems-id",
        "REMS identifier",
        parse_text(100),
        "rems-id=REMS-12345",
        ("rems-identifier", "rems-number"),
    ),
    FieldSpec("mips", "mips", "MIPS", parse_yes_no, "mips=yes", ("mips-eligible",)),
    FieldSpec(
        "commendation_tags",
        "commendation",
        "Commendation tags",
        parse_commendation,
        'commendation="Engages Teams; Improves Performance"',
        ("commendation-tags", "commendation-criteria", "tags"),
    ),
    FieldSpec("owner_user_id", "owner", "Owner", parse_user, "owner=@jane", ("assignee",)),
    FieldSpec(
        "accme_activity_id",
        "accme-id",
        "ACCME Activity ID",
        parse_accme_id,
        "accme-id=201234567",
        ("accme-activity-id", "pars-activity-id", "pars-id"),
    ),
)

# The one-board MOC keys of the bot until now: each edits that part of the first board entry
# (validation.with_entry_one). Not fields of their own: nothing stores or shows them.
ENTRY_ONE: tuple[FieldSpec, ...] = (
    FieldSpec("moc_board", "moc-board", "MOC board", parse_moc_board, "moc-board=ABIM", ("board",)),
    FieldSpec(
        "moc_credit_type",
        "moc-credit-type",
        "MOC credit type",
        parse_moc_credit_type,
        'moc-credit-type="Medical Knowledge"',
        ("moc-type", "moc-credit-types"),
    ),
    FieldSpec(
        "moc_credits",
        "moc-credits",
        "MOC points",
        parse_moc_points,
        "moc-credits=1.5",
        ("moc-points",),
    ),
)
ENTRY_ONE_PARTS = {"moc_board": "board", "moc_credit_type": "credit_types", "moc_credits": "points"}

BY_NAME: dict[str, FieldSpec] = {f.name: f for f in FIELDS}
_BY_KEY: dict[str, FieldSpec] = {}
for _spec in (*FIELDS, *ENTRY_ONE):
    for _k in (_spec.key, _spec.name, *_spec.aliases):
        _BY_KEY[_fold(_k)] = _spec

# Extra names that are not fields but are worth a hint; these are learner counts.
LEARNER_KEYS = {"physicians": "physician", "others": "other"}


def resolve_key(key: str) -> FieldSpec | None:
    return _BY_KEY.get(_fold(key))


def suggest_key(key: str, extra: tuple[str, ...] = ()) -> str | None:
    candidates = [f.key for f in FIELDS] + list(extra)
    close = difflib.get_close_matches(_fold(key), candidates, n=1, cutoff=0.6)
    if close:
        return close[0]
    alias = difflib.get_close_matches(_fold(key), list(_BY_KEY), n=1, cutoff=0.75)
    return _BY_KEY[alias[0]].key if alias else None


def label(name: str) -> str:
    if name.startswith("learners_"):
        return rules.LEARNER_CATEGORIES[name.removeprefix("learners_")]
    if name.startswith("moc_boards:"):  # a part of one board's entry (rules.moc_missing)
        _field, board, part = name.split(":")
        return f"{rules.MOC_PART_LABELS[part]} ({board})"
    return BY_NAME[name].label


# Lists come back as copies: the cache must not hand one caller's list to the next.
_MUTABLE = frozenset(
    {
        "delivery_method",
        "joint_providers",
        "outcome_measures",
        "supporters",
        "moc_boards",
        "commendation_tags",
    }
)


def _copied(value: Any) -> Any:
    if not value:
        return value
    return [
        {k: list(p) if isinstance(p, list) else p for k, p in v.items()}
        if isinstance(v, dict)
        else v
        for v in value
    ]


# Each distinct text of a field, read once: a spreadsheet repeats the same formats, places
# and dates thousands of times. Per field, and emptied when full, so that descriptions or
# URLs different on every row cannot grow it without end.
_PARSED: dict[str, dict[str, tuple[Any, str | None]]] = {f.name: {} for f in FIELDS}
_PARSED_LIMIT = 4096
# Texts that differ on nearly every row: keeping them would only cost.
_DISTINCT = frozenset({"activity_id", "title"})
# The same again for the texts that read as a value, not a problem: most cells of a sheet,
# each answered by one lookup (a blank text reads as None). A list of texts is handed out as
# a copy; a list of entries (supporters, boards) is copied deeper, so it is not kept here.
_VALUES: dict[str, dict[str, Any]] = {f.name: {} for f in FIELDS}
_ENTRIES = frozenset({"supporters", "moc_boards"})
_UNREAD = object()


def _parse_new(name: str, text: str) -> tuple[Any, str | None]:
    """One field's text as a value, or the problem in words; kept for the next time."""
    spec = BY_NAME[name]
    try:
        value = spec.parse(refuse_control_characters(text))
        found: tuple[Any, str | None] = (value if value != [] else None), None
    except ControlCharacter as exc:
        found = None, f"{spec.label}: {exc}"
    except FieldError as exc:
        found = None, f"{spec.label}: {exc} (e.g. `{spec.example}`)"
    # A wrong text is read again where it comes again: a file whose every row quotes its own
    # wrong values would otherwise keep thousands of messages a field (25 MB at the limits).
    if name in _DISTINCT or found[1] is not None:
        return found
    known = _PARSED[name]
    if len(known) >= _PARSED_LIMIT:
        known.clear()
    known[text] = found
    if found[1] is None and name not in _ENTRIES:
        _remember(name, text, found[0])
    return found


def _remember(name: str, text: str, value: Any) -> None:
    known = _VALUES[name]
    if len(known) >= _PARSED_LIMIT:
        known.clear()
    known[text] = value


def _read(name: str, text: str) -> tuple[Any, str | None]:
    """What parse_values makes of a text its quick lookup did not find."""
    if not text or text.isspace():
        if name not in _DISTINCT:
            _remember(name, text, None)
        return None, None
    value, error = _PARSED[name].get(text) or _parse_new(name, text)
    return (_copied(value), None) if name in _MUTABLE and error is None else (value, error)


def input_notes(raw: Mapping[str, str]) -> list[str]:
    """What the bot read into values given in an older form (a fee amount read as Yes)."""
    notes = []
    for name, text in raw.items():
        spec = BY_NAME.get(name)
        if spec is None or spec.note is None or not isinstance(text, str) or not text.strip():
            continue
        value, error = _PARSED[name].get(text) or _parse_new(name, text)
        if error is None and (note := spec.note(text, value)) is not None:
            notes.append(note)
    return notes


def parse_values(raw: Mapping[str, str]) -> tuple[dict[str, Any], list[Problem]]:
    """Text by field name -> values by field name, and every problem found.

    An empty text clears the field (None). A legacy activity-type code that implies a delivery
    method (C, IL) sets it unless the same record gives one.
    """
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    known = _VALUES  # a local: this loop runs for every cell of a spreadsheet
    for name, text in raw.items():
        if type(text) is not str:
            text = "" if text is None else str(text)
        value = known[name].get(text, _UNREAD)
        if value is _UNREAD:
            value, error = _read(name, text)
            if error is not None:
                problems.append(Problem(name, error))
                continue
        elif type(value) is list:
            value = value.copy()
        values[name] = value
    if format_text := raw.get("format"):
        implied = implied_delivery(str(format_text))
        if implied and not (raw.get("delivery_method") or "").strip():
            values["delivery_method"] = [implied]
    return values, problems


_IMPLIED: dict[str, str | None] = {}


def implied_delivery(format_text: str) -> str | None:
    """The delivery method a legacy activity-type code (C, IL) stands for, if the format's
    text is one; known by the text, as each row of a sheet asks."""
    found: Any = _IMPLIED.get(format_text, _UNREAD)
    if found is _UNREAD:
        legacy = rules.LEGACY_ACTIVITY_TYPES.get(format_text.strip().upper())
        found = legacy[1] if legacy else None
        if len(_IMPLIED) >= _PARSED_LIMIT:
            _IMPLIED.clear()
        _IMPLIED[format_text] = found
    return found
