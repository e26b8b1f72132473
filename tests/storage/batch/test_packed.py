"""A plan's rows as stored: every row comes back as it was written, in order."""

from __future__ import annotations

from typing import Any

from storage.batch.packed import pack_rows, unpack_rows


def test_rows_come_back_whole_and_in_order_across_many_pieces() -> None:
    # Enough rows that the compressed bytes are read in several pieces, with texts that hold
    # the line ends and non-ASCII characters a cell may hold.
    rows: list[dict[str, Any]] = [
        {"sheet": "Activities", "row": n, "fields": {"title": f"Cardiología\n{n}\u2028é" * (n % 7)}}
        for n in range(20_000)
    ]
    assert list(unpack_rows(pack_rows(iter(rows)))) == rows


def test_a_plan_of_no_rows_comes_back_empty() -> None:
    assert list(unpack_rows(pack_rows([]))) == []


def test_each_object_goes_through_the_hook_innermost_first() -> None:
    seen: list[str] = []

    def hook(found: dict[str, Any]) -> Any:
        seen.append(",".join(found))
        return found

    assert list(unpack_rows(pack_rows([{"a": {"b": 1}}, {"c": 2}]), hook)) == [
        {"a": {"b": 1}},
        {"c": 2},
    ]
    assert seen == ["b", "a", "c"]
