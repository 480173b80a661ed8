"""The shared filters: a time range and group-key values, kept in the page's URL.

The URL is the interface (a shared link opens the same view): `from` and `to` are ISO
8601 UTC or relative (`-7d`, `-24h`, `-30m`, `now`); `tenant`, `route`, `workflow`,
`model`, `region`, `prompt_version` each take one or more values (the key repeated, or
comma-separated). A missing range is the last 24 hours.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import streamlit as st

KEYS: tuple[str, ...] = ("tenant", "route", "workflow", "model", "region", "prompt_version")
DEFAULT_FROM = "-24h"
DEFAULT_TO = "now"
_RELATIVE = re.compile(r"^-(\d+)([dhm])$")
_UNITS = {"d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}
_MINUTE = timedelta(minutes=1)
_DECODED_PLUS = re.compile(r"(T\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d:?\d\d)$")


@dataclass(frozen=True)
class Filters:
    """A resolved view: [start, end) as naive UTC and the values each group key keeps."""

    start: datetime
    end: datetime
    where: dict[str, list[str]] = field(default_factory=dict)

    def params(self) -> dict[str, Any]:
        """The parameters named queries take: `{"from": iso, "to": iso, "where": {...}}`."""
        return {"from": iso(self.start), "to": iso(self.end),
                "where": {k: list(v) for k, v in self.where.items() if v}}

    def previous(self) -> Filters:
        """The period of the same length just before this one, with the same keys."""
        length = self.end - self.start
        return Filters(self.start - length, self.start, {k: list(v) for k, v in self.where.items()})

    @property
    def length(self) -> timedelta:
        return self.end - self.start


def iso(when: datetime) -> str:
    """Naive UTC as ISO 8601 with a `Z`, seconds kept, microseconds only when present."""
    text = when.replace(tzinfo=None).isoformat(timespec="microseconds" if when.microsecond else "seconds")
    return text + "Z"


def now_minute() -> datetime:
    """Now as naive UTC, rounded up to the whole minute.

    Up, so the current minute's calls are in range; whole minutes, so a view stays the
    same (and cacheable) for the minute rather than changing at every rerun.
    """
    now = datetime.now(UTC).replace(tzinfo=None)
    floor = now.replace(second=0, microsecond=0)
    return floor if floor == now else floor + _MINUTE


def parse_time(text: str, now: datetime, name: str = "from") -> datetime:
    """`now`, `-7d` / `-24h` / `-30m` before `now`, or ISO 8601 (UTC unless it says otherwise).

    Raises ValueError naming the parameter and the forms it takes.
    """
    value = text.strip()
    if value == "now":
        return now
    relative = _RELATIVE.match(value)
    if relative:
        return now - int(relative.group(1)) * _UNITS[relative.group(2)]
    try:
        # a `+` offset typed into a URL arrives decoded as a space
        parsed = datetime.fromisoformat(_DECODED_PLUS.sub(r"\1+\2", value.replace("Z", "+00:00")))
    except ValueError:
        raise ValueError(f"{name}={text!r} is not a time: use ISO 8601 UTC (2026-11-20T10:00:00Z), "
                         "a relative time (-7d, -24h, -30m) or now") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def from_query(query: Mapping[str, Sequence[str]], now: datetime) -> tuple[Filters, list[str]]:
    """Filters from URL parameters (each a list of values) and the problems found.

    A bad `from`/`to` (or `to` not after `from`) falls back to the default range, so
    the page still draws; the problem comes back as a message for the user.
    """
    problems: list[str] = []
    start_text = _first(query, "from") or DEFAULT_FROM
    end_text = _first(query, "to") or DEFAULT_TO
    try:
        start = parse_time(start_text, now, "from")
        end = parse_time(end_text, now, "to")
        if end <= start:
            raise ValueError(f"to={end_text!r} must be after from={start_text!r}")
    except ValueError as exc:
        problems.append(f"{exc}; showing from={DEFAULT_FROM} to={DEFAULT_TO} instead")
        start, end = parse_time(DEFAULT_FROM, now), now
    where = {key: values for key in KEYS if (values := _values(query.get(key, ())))}
    return Filters(start, end, where), problems


def _first(query: Mapping[str, Sequence[str]], key: str) -> str | None:
    values = [v for v in query.get(key, ()) if v.strip()]
    return values[0] if values else None


def _values(raw: Sequence[str]) -> list[str]:
    """One list from repeated keys and comma-separated values, blanks dropped, order kept."""
    out: list[str] = []
    for item in raw:
        for part in item.split(","):
            value = part.strip()
            if value and value not in out:
                out.append(value)
    return out


def link(page: str, filters: Filters, **extra: str | Sequence[str] | datetime | None) -> str:
    """A relative URL of `page` with the filters, e.g. `/traces?from=…&model=…&trace_id=…`.

    `extra` adds parameters or replaces a filter's (a group key, `from`/`to` as a
    datetime or text); None drops one. Pass `**{"from": t}` for the reserved word.
    """
    params: dict[str, str | list[str]] = {"from": iso(filters.start), "to": iso(filters.end)}
    params.update({k: list(v) for k, v in filters.where.items() if v})
    for key, value in extra.items():
        if value is None:
            params.pop(key, None)
        elif isinstance(value, datetime):
            params[key] = iso(value)
        elif isinstance(value, str):
            params[key] = value
        else:
            params[key] = [str(v) for v in value]
    return f"/{page.strip('/')}?{urlencode(params, doseq=True)}"


# -- the sidebar ------------------------------------------------------------------------

_LABELS = {"tenant": "Tenant", "route": "Route", "workflow": "Workflow", "model": "Model",
           "region": "Region", "prompt_version": "Prompt version"}


def read_filters(show: bool = True, now: Callable[[], datetime] = now_minute) -> Filters:
    """The filters of st.query_params; with `show`, the sidebar widgets that edit them.

    A widget's change is written back to st.query_params (the URL), so the view can be
    shared as a link. Problems with the URL's values show as one warning line.
    """
    query = {key: st.query_params.get_all(key) for key in ("from", "to", *KEYS)}
    filters, problems = from_query(query, now())
    if show:
        _sidebar(query)
    for problem in problems:
        st.warning(problem)
    return filters


def _sidebar(query: Mapping[str, Sequence[str]]) -> None:
    with st.sidebar:
        st.subheader("Filters")
        _text_widget("from", "From", ",".join(query["from"]) or DEFAULT_FROM,
                     "ISO 8601 UTC (2026-11-20T10:00:00Z) or relative: -7d, -24h, -30m")
        _text_widget("to", "To", ",".join(query["to"]) or DEFAULT_TO, "ISO 8601 UTC, relative, or now")
        for key in KEYS:
            _text_widget(key, _LABELS[key], ", ".join(_values(query[key])), "one value, or several separated by commas")


def _text_widget(key: str, label: str, url_value: str, help_text: str) -> None:
    """A text input that follows the URL: a new URL value replaces what the box holds."""
    state, seen = f"filter_{key}", f"filter_{key}_url"
    if st.session_state.get(seen) != url_value:
        st.session_state[state] = url_value
        st.session_state[seen] = url_value
    st.text_input(label, key=state, help=help_text, on_change=_write_back, args=(key,))


def _write_back(key: str) -> None:
    """Put the widget's value in the URL (or take the parameter out when it is empty or the default)."""
    value = str(st.session_state[f"filter_{key}"]).strip()
    default = {"from": DEFAULT_FROM, "to": DEFAULT_TO}.get(key, "")
    values = [value] if key in ("from", "to") else _values([value])
    if not value or value == default:
        st.query_params.pop(key, None)
        values = [default] if default else []
    else:
        st.query_params[key] = values if len(values) > 1 else values[0]
    shown = ",".join(values) if key in ("from", "to") else ", ".join(values)
    st.session_state[f"filter_{key}"] = shown
    st.session_state[f"filter_{key}_url"] = shown
