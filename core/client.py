"""How the CLI reaches the data: through a running server's API, or the file itself.

DuckDB lets one process write a file, so while `outcrop serve` owns it every command
goes through its API; with no server, commands open the file directly.
"""

from __future__ import annotations

import contextlib
import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from outcrop.core.errors import OutcropError
from outcrop.core.store.readonly import ARROW_STREAM, from_arrow_ipc


def server_file(db_path: str) -> Path:
    """Where a running server announces itself, beside the database file."""
    return Path(db_path + ".server.json")


class ApiError(OutcropError):
    """The server answered with an error; the message is the server's."""


def running_server(db_path: str) -> str | None:
    """Base URL of the live server that owns `db_path`, or None."""
    path = server_file(db_path)
    try:
        info = json.loads(path.read_text())
        pid = int(info["pid"])
        url = str(info["api_url"])
    except (OSError, ValueError, KeyError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=5) as resp:
            return url if resp.status == 200 else None
    except (urllib.error.URLError, OSError):
        return None


def call(base_url: str, path: str, body: dict[str, Any] | None = None, *,
         arrow: bool = False, token: str | None = None, timeout: float = 600, method: str | None = None) -> Any:
    """POST (or GET without body) to the API; Arrow table or decoded JSON back. `method`
    names another (PUT, DELETE: the settings edits)."""
    return _call(base_url, path, body, arrow=arrow, token=token, timeout=timeout, method=method)[0]


def _call(base_url: str, path: str, body: dict[str, Any] | None, *, arrow: bool,
          token: str | None, timeout: float, method: str | None = None) -> tuple[Any, dict[str, str]]:
    data = None if body is None else orjson.dumps(body)
    method = method or ("GET" if data is None else "POST")
    request = urllib.request.Request(base_url + path, data=data, method=method)
    request.add_header("content-type", "application/json")
    if arrow:
        request.add_header("accept", ARROW_STREAM)
    if token:
        request.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            payload = resp.read()
            headers = {k.lower(): v for k, v in resp.headers.items()}
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")
        with contextlib.suppress(ValueError, AttributeError):
            detail = json.loads(detail).get("message", detail)
        raise ApiError(f"server answered {exc.code}: {detail}") from None
    except urllib.error.URLError as exc:
        raise ApiError(f"cannot reach the server at {base_url}: {exc.reason}") from None
    return (from_arrow_ipc(payload) if arrow else orjson.loads(payload)), headers


def query_named(base_url: str, name: str, params: dict[str, Any], limit: int,
                token: str | None = None) -> tuple[pa.Table, bool]:
    """Run a named query on the server; the table and whether it was cut at `limit`."""
    table, headers = _call(base_url, f"/v1/queries/{name}", {"params": params, "limit": limit},
                           arrow=True, token=token, timeout=600)
    return table, headers.get("x-outcrop-truncated") == "true"


def query_table(base_url: str, sql: str, limit: int, token: str | None = None) -> tuple[pa.Table, bool]:
    """Run ad-hoc read-only SQL on the server; the table and whether it was cut at `limit`."""
    table, headers = _call(base_url, "/v1/sql", {"sql": sql, "limit": limit}, arrow=True, token=token, timeout=600)
    return table, headers.get("x-outcrop-truncated") == "true"
