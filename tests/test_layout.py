"""The import rules of docs/CONTRACTS.md, read from the code's own imports.

Floors: `core` (ground) ← `collector`, `analytics` (engines, never each other) ←
`outcrop` (server, api, cli, demo: the one composition root). `dashboard` stands on
`core` only; `collector.normalize` is pure and never touches the store.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FLOORS = ("core", "collector", "analytics", "dashboard")
TOP = ("api", "cli", "demo", "server")
# what each part may import of ours, besides itself
ALLOWED: dict[str, frozenset[str]] = {
    "core": frozenset(),
    "collector": frozenset({"core"}),
    "analytics": frozenset({"core"}),
    "dashboard": frozenset({"core"}),
    "outcrop": frozenset({"core", "collector", "analytics", "dashboard"}),
}


def _part_of(module: str) -> str | None:
    """'outcrop.core.store.writer' -> 'core'; 'outcrop.cli.main' -> 'outcrop'."""
    parts = module.split(".")
    if parts[0] != "outcrop":
        return parts[0] if parts[0] in FLOORS else None  # an un-namespaced import of ours
    if len(parts) == 1 or parts[1] in TOP:
        return "outcrop"
    return parts[1] if parts[1] in FLOORS else None


def _source_files() -> Iterator[tuple[str, Path]]:
    for part in FLOORS:
        for path in sorted((ROOT / part).rglob("*.py")):
            yield part, path
    for path in sorted((ROOT / "outcrop").glob("*.py")):
        yield "outcrop", path
    for sub in TOP:
        for path in sorted((ROOT / "outcrop" / sub).rglob("*.py")):
            yield "outcrop", path


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):  # lazy imports inside functions count too
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def _violations() -> list[str]:
    found = []
    for part, path in _source_files():
        where = path.relative_to(ROOT)
        for line, module in _imports(path):
            target = _part_of(module)
            if target is None or target == part:
                continue
            if not module.startswith("outcrop"):
                found.append(f"{where}:{line} imports {module} outside the outcrop namespace")
            elif target not in ALLOWED[part]:
                found.append(f"{where}:{line}: {part} may not import {module} ({target})")
    return found


def test_each_floor_imports_only_the_floors_below_it() -> None:
    assert _violations() == []


def test_normalisation_never_touches_the_store() -> None:
    normalize = ROOT / "collector" / "normalize"
    bad = [f"{p.name}:{line} {m}" for p in sorted(normalize.glob("*.py"))
           for line, m in _imports(p) if m.startswith("outcrop.core.store") or m == "duckdb"]
    assert bad == []


@pytest.mark.parametrize(("module", "part"), [
    ("outcrop.core.store.writer", "core"),
    ("outcrop.collector.receivers.otlp_http", "collector"),
    ("outcrop.analytics.jobs", "analytics"),
    ("outcrop.cli.main", "outcrop"),
    ("outcrop", "outcrop"),
    ("collector.sources", "collector"),
    ("json", None),
])
def test_modules_are_placed_on_their_floor(module: str, part: str | None) -> None:
    assert _part_of(module) == part


def test_the_rules_catch_an_engine_importing_the_other(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check itself can fail: an analytics module importing collector is reported."""
    for part in FLOORS:
        (tmp_path / part).mkdir()
    (tmp_path / "outcrop").mkdir()
    (tmp_path / "analytics" / "bad.py").write_text(
        "def f():\n    from outcrop.collector.sources import read_log_source_once\n")
    (tmp_path / "core" / "worse.py").write_text("import outcrop.server\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert sorted(_violations()) == [
        "analytics/bad.py:2: analytics may not import outcrop.collector.sources (collector)",
        "core/worse.py:1: core may not import outcrop.server (outcrop)",
    ]
