"""One settings section as TOML text, the form `outcrop.toml` takes, for people to edit.

Only what settings sections hold: scalars, arrays of scalars, tables of scalars (written
inline, like a budget's `scope = { tenant = "acme" }`) and arrays of such tables (written
`[[section.key]]`). TOML has no null, so a None value is left out; every settings key
whose value can be None defaults to None, so reading the text back gives the same section.
`tomllib.loads(section_toml(name, values))[name]` equals `values` without its None entries.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def section_toml(section: str, values: Mapping[str, Any]) -> str:
    """`[section]` with its plain keys, then each list of tables as `[[section.key]]` blocks."""
    plain = {k: v for k, v in values.items() if v is not None and not _is_table_list(v)}
    tables = {k: v for k, v in values.items() if _is_table_list(v)}
    lines = [f"[{_key(section)}]"]
    lines += [f"{_key(k)} = {_value(v)}" for k, v in plain.items()]
    for key, entries in tables.items():
        for entry in entries:
            lines += ["", f"[[{_key(section)}.{_key(key)}]]"]
            lines += [f"{_key(k)} = {_value(v)}" for k, v in entry.items() if v is not None]
    return "\n".join(lines) + "\n"


def _is_table_list(value: Any) -> bool:
    # an empty list stays `key = []`: TOML reads it back as a list either way
    return isinstance(value, Sequence) and not isinstance(value, str) and bool(value) and all(
        isinstance(v, Mapping) for v in value)


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        # a JSON string with ASCII escapes is a valid TOML basic string
        return json.dumps(value)
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items() if v is not None)
        return f"{{ {inner} }}" if inner else "{}"
    if isinstance(value, Sequence):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {type(value).__name__}")
