"""Stored codes as PARS names them: the one table both the replies and the sheets read, so a
label added for one is shown by both."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from storage.pars import rules
from storage.pars.fields import outcome_label


def _table(table: Mapping[str, str]) -> Callable[[str], str]:
    return lambda code: table.get(code, code)


# Fields holding one code.
_ONE: dict[str, Callable[[str], str]] = {
    "format": rules.format_label,
    "providership": _table(rules.PROVIDERSHIP),
    "finder_fee": _table(rules.PASSPORT_FEES),
    "finder_registration": _table(rules.PASSPORT_REGISTRATION),
    "rems_program": _table(rules.REMS_PROGRAMS),
}

# Fields holding a list of codes.
_MANY: dict[str, Callable[[str], str]] = {
    "delivery_method": _table(rules.DELIVERY_METHODS),
    "outcome_measures": outcome_label,
    "commendation_tags": _table(rules.COMMENDATION_CRITERIA),
}


def has_labels(name: str) -> bool:
    return name in _ONE or name in _MANY


def labels(name: str, value: Any) -> str | list[str]:
    """A coded field's stored value as its label, or its list of labels (codes no table knows
    stay as they are); only for fields where has_labels(name)."""
    if name in _ONE:
        return _ONE[name](value)
    return [_MANY[name](code) for code in value]
