"""The three floors of DESIGN.md, checked on the source: arrows point down only.

bot -> handlers -> storage, scheduler -> storage (and handlers' layouts); storage imports none
of ours and knows nothing of Slack's markup; the scheduler loads no listener.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OURS = ("bot", "handlers", "storage", "scheduler")


def _modules(package: str) -> dict[str, ast.Module]:
    found = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = ast.parse(path.read_text(), str(path))
    return found


def _imports(tree: ast.Module) -> set[str]:
    """Every module of ours a module imports, at its top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from handlers.cycle import messages` imports the module handlers.cycle.messages.
            for alias in node.names:
                module = f"{node.module}.{alias.name}"
                is_module = (ROOT / module.replace(".", "/")).with_suffix(".py").exists()
                names.add(module if is_module else node.module)
    return {n for n in names if n.split(".")[0] in OURS}


def _third_party(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _is_layout(module: str) -> bool:
    """A module that builds messages (layouts, action IDs) and defines no listener."""
    return module.endswith(".messages") or module == "handlers.slack.mrkdwn"


def test_storage_imports_nothing_above_it_and_no_slack_library() -> None:
    for name, tree in _modules("storage").items():
        upward = {n for n in _imports(tree) if not n.startswith("storage")}
        assert not upward, f"{name} imports {upward}"
        slack = {n for n in _third_party(tree) if n.startswith(("slack_sdk", "slack_bolt"))}
        assert not slack, f"{name} imports {slack}"


def test_handlers_import_no_bot_and_no_scheduler() -> None:
    for name, tree in _modules("handlers").items():
        upward = {n for n in _imports(tree) if n.startswith(("bot", "scheduler"))}
        assert not upward, f"{name} imports {upward}"


def test_the_scheduler_imports_storage_and_layouts_only() -> None:
    for name, tree in _modules("scheduler").items():
        for imported in _imports(tree):
            assert imported.startswith(("scheduler", "storage")) or _is_layout(imported), (
                f"{name} imports {imported}"
            )


def test_layout_modules_define_no_listener() -> None:
    for name, tree in _modules("handlers").items():
        if not _is_layout(name):
            continue
        defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert "register" not in defined, name
        others = {i for i in _imports(tree) if i.startswith("handlers") and not _is_layout(i)}
        assert not others, f"{name} imports {others}, more of handlers than layouts"


# Slack's markup: <@U123>, <#C123>, <!channel>, <!date^...>, <https://...|label>.
SLACK_MARKUP = re.compile(r"<[@#!]|<https?:[^>]*\||<mailto:")


def _strings(tree: ast.Module) -> list[tuple[int, str]]:
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def test_storage_writes_and_parses_no_slack_markup() -> None:
    for name, tree in _modules("storage").items():
        for line, text in _strings(tree):
            assert not SLACK_MARKUP.search(text), f"{name}:{line} has Slack markup: {text!r}"


def test_the_markup_check_sees_mentions_and_links() -> None:
    tree = ast.parse('who = f"<@{user}> changed it"\nlink = "<https://x|label>"\nok = "a < b"')
    found = {text for _line, text in _strings(tree) if SLACK_MARKUP.search(text)}
    assert found == {"<@", "<https://x|label>"}


def test_the_scheduler_loads_no_listener() -> None:
    probe = (
        "import sys, scheduler.jobs, scheduler.send, scheduler.plan;"
        "loaded = sorted(m for m in sys.modules if m.startswith(('handlers', 'slack_bolt')));"
        "print(','.join(loaded))"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = set(run.stdout.strip().split(","))
    assert "slack_bolt" not in loaded
    packages = {"handlers", "handlers.cycle", "handlers.slack"}
    assert {m for m in loaded if m.startswith("handlers")} - packages == {
        "handlers.cycle.messages",
        "handlers.slack.messages",
        "handlers.slack.mrkdwn",
    }
