"""Every SQL file under sql/ has the one header form, and SQL stays out of Python strings.

The header (STYLE.md, "SQL lives in sql/"): a first line `-- <name>: <what it computes>`
naming the file, continuation lines as needed, `-- params: none` or the placeholders the
statement binds (`$1 = ...` positional, `$name = ...` named), and `-- grain: ...` where the
statement produces rows. Named read queries (sql/queries/) declare instead the public
parameters of the read API (`-- params: from, to, by, where`, parsed by analytics/queries.py),
each of which binds a known set of placeholders.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from outcrop.core.sql import SQL_DIR

ROOT = Path(__file__).resolve().parent.parent
SQL_FILES = sorted(SQL_DIR.rglob("*.sql"))
# Folders whose files run in the order of a number prefix; the header names the file
# without it (010_otps.sql -> `-- otps:`). Migrations keep their number in the name.
ORDERED = ("macros", "views")
# Files made only of DDL/DELETE/UPDATE need no grain; statements producing rows do.
ROW_STATEMENT = re.compile(r"^\s*(SELECT|WITH|INSERT|CREATE\s+(OR\s+REPLACE\s+)?(TEMP\s+)?TABLE\s+\w+\s+AS)\b", re.I)
PLACEHOLDER = re.compile(r"\$(\d+|[A-Za-z_]\w*)")
DECLARED = re.compile(r"(?:^|,)\s*\$(\d+|[A-Za-z_]\w*)\b")
# Public parameter of a named query -> the placeholders analytics/queries.py binds for it.
_TILES = {f"{t}_{e}" for t in ("m1", "m2", "h1", "h2", "d") for e in ("lo", "hi")}
_KEYS = ("tenant", "route", "workflow", "model", "region", "prompt_version", "feature", "user_id")
PUBLIC = {
    "from": {"lo", "hi", "hour_lo", "hour_hi", "minutes"} | _TILES,
    "to": set(),
    "by": {f"by_{k}" for k in _KEYS} | {f"f_{k}" for k in _KEYS},
    "where": {f"f_{k}" for k in _KEYS},
    "grain": {"grain"},
    "trace_id": {"trace_id"},
    "call_id": {"call_id"},
    "limit": {"limit"},
    "status": {"status"},
    "min_duration_ms": {"min_duration_ms"},
    "min_cost_usd": {"min_cost_usd"},
    "request_id": {"request_id"},
    "stages": {"stage_names", "stage_patterns", "stage_order", "llm_stage"},
}


def _rel(path: Path) -> str:
    return path.relative_to(SQL_DIR).as_posix()


def _header(text: str) -> list[str]:
    """The comment lines at the top of a file, without their `--`."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        lines.append(line[2:].strip())
    return lines


def _field(header: list[str], key: str) -> str | None:
    found = [line[len(key) + 1:].strip() for line in header if line.startswith(f"{key}:")]
    assert len(found) <= 1, f"more than one `-- {key}:` line"
    return found[0] if found else None


def strip_sql(text: str) -> str:
    """The statement text with comments, string literals and quoted identifiers blanked,
    so that a `$x` or `?` inside them is not taken for a placeholder."""
    return re.sub(r"--[^\n]*|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"", " ", text)


def placeholders(text: str) -> set[str]:
    """Placeholders the statement binds; each `?` counts as the next positional one."""
    body = strip_sql(text)
    found = set(PLACEHOLDER.findall(body))
    found |= {str(i) for i in range(1, body.count("?") + 1)}
    return found


def _expected_name(path: Path) -> str:
    stem = path.stem
    if path.parent.name in ORDERED:
        stem = re.sub(r"^\d+_", "", stem)
    return stem


@pytest.mark.parametrize("path", SQL_FILES, ids=_rel)
def test_header_names_the_file_and_declares_params_and_grain(path: Path) -> None:
    text = path.read_text()
    header = _header(text)
    assert header, f"{_rel(path)}: no header comment"
    name, sep, what = header[0].partition(":")
    assert sep and what.strip(), f"{_rel(path)}: first line must be `-- <name>: <what it computes>`"
    assert name == _expected_name(path), f"{_rel(path)}: header names {name!r}, file is {_expected_name(path)!r}"
    params = _field(header, "params")
    assert params is not None, f"{_rel(path)}: no `-- params:` line"
    body = strip_sql(text)
    if ROW_STATEMENT.match(body.strip()) and path.parent.name != "migrations":
        assert _field(header, "grain"), f"{_rel(path)}: a statement producing rows needs `-- grain:`"
    used = placeholders(text)
    if path.parent.name == "queries":
        _check_public_params(path, params, used)
        return
    declared = set() if params == "none" else set(DECLARED.findall(params))
    assert params == "none" or declared, f"{_rel(path)}: params must be `none` or `$x = ...` items"
    assert declared == used, (f"{_rel(path)}: params declares {sorted(declared)}, "
                              f"statement binds {sorted(used)}")


def _check_public_params(path: Path, params: str, used: set[str]) -> None:
    names = [p.strip() for p in params.split(",") if p.strip()]
    unknown = [n for n in names if n not in PUBLIC]
    assert not unknown, f"{_rel(path)}: unknown public params {unknown}"
    bound = set().union(*(PUBLIC[n] for n in names)) if names else set()
    assert used <= bound, f"{_rel(path)}: binds {sorted(used - bound)}, which no declared param provides"


def test_placeholder_scan_skips_comments_and_strings() -> None:
    text = "-- x: y\n-- params: $a\nSELECT $a, '$b?', \"$c\" -- $d ?\nFROM t WHERE x = ?"
    assert placeholders(text) == {"a", "1"}


# Python modules that may still hold SQL statements in strings, and why. Anything else
# keeps its statements in sql/ and reads them with load_sql.
ALLOWED_SQL_STRINGS: dict[str, str] = {
    "collector/merge.py": "the invocation upsert's SET list is generated from _INVOCATION_COLUMNS",
    "collector/receivers/cloudwatch_metrics.py": "the upsert's columns are generated from METRICS",
    "analytics/pricing.py": "_replace refills one of two tables with a generated number of `?`",
    "core/store/macros.py": "the fingerprint macro's body is the digest computed at install",
    "core/store/readonly.py": "wraps the caller's ad-hoc SQL (LIMIT, json_serialize_sql check)",
    "core/store/writer.py": "trivial connection checks: the warm-up count and lock_configuration",
    "analytics/queries.py": "wraps a named query in its LIMIT",
    "collector/inheritance.py": "drops the temporary tables its statements made (DROP TABLE IF EXISTS)",
    "outcrop/demo/runner.py": "asks the server, as ad-hoc SQL through its API, whether the file holds calls",
}
# a statement's first words (any case), not an English sentence that starts with a keyword
SQL_START = re.compile(
    r"\s*(SELECT\s|INSERT\s+INTO\s|UPDATE\s+\w+\s+SET\s|DELETE\s+FROM\s|WITH\s+\w+\s+AS\s"
    r"|CREATE\s+(OR|TABLE|TEMP|VIEW|MACRO|INDEX|SEQUENCE|UNIQUE)\b|DROP\s+(TABLE|VIEW|MACRO|INDEX|SEQUENCE)\b"
    r"|ALTER\s+TABLE\s|SET\s+(GLOBAL\s+)?\w+\s*=|PRAGMA\s|COPY\s|ATTACH\s)", re.I)
PACKAGES = ("core", "collector", "analytics", "outcrop/api", "outcrop/cli", "outcrop/demo", "outcrop/server.py")


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring nodes: prose that may start with a SQL word ("Insert spans ...")."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def sql_strings(source: str) -> list[int]:
    """Lines of string constants (f-string parts included) that start a SQL statement."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = [v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
            text = "".join(parts)
            skip |= {id(v) for v in node.values}
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            text = node.value
        else:
            continue
        if SQL_START.match(text):
            found.append(node.lineno)
    return found


def test_sql_string_scan_finds_statements_not_docstrings() -> None:
    source = '''def f(t):
    """Insert spans and calls once."""
    a = "select 1 from x"
    b = f"DELETE FROM {t}"
'''
    assert sql_strings(source) == [3, 4]


def test_sql_strings_only_in_allowed_modules() -> None:
    found = {}
    for package in PACKAGES:
        root = ROOT / package
        for path in sorted(root.rglob("*.py")) if root.is_dir() else [root]:
            lines = sql_strings(path.read_text())
            rel = path.relative_to(ROOT).as_posix()
            if lines and rel not in ALLOWED_SQL_STRINGS:
                found[rel] = lines
    assert not found, f"SQL in Python strings (move it to sql/ and load_sql it): {found}"


def test_allowed_modules_still_hold_sql() -> None:
    stale = [rel for rel in ALLOWED_SQL_STRINGS if not sql_strings((ROOT / rel).read_text())]
    assert not stale, f"no SQL strings left in {stale}: drop them from ALLOWED_SQL_STRINGS"
