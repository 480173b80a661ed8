"""The dashboard's one way to the data: the server's read API, never the DuckDB file.

`Api` wraps `outcrop.core.client`; every failure (server down, timeout, 4xx/5xx, an
answer that does not decode) becomes an `ApiError` with one line a page can show.
"""

from __future__ import annotations

import http.client
import os
from typing import Any

import pyarrow as pa
import streamlit as st

from outcrop.core.client import ApiError, call, query_named
from outcrop.core.settings import ConfigError, Settings, load_settings

__all__ = ["API_ENV", "Api", "ApiError", "current_api", "dashboard_settings"]

# Set by `outcrop dashboard` for its Streamlit child: the API's base URL.
API_ENV = "OUTCROP_DASHBOARD_API"
DEFAULT_TIMEOUT_SECONDS = 30.0
_SESSION_KEY = "outcrop_api"


class Api:
    """A read-API client: base URL, the reader token when the server wants one."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token or None
        self.timeout = timeout

    def __repr__(self) -> str:  # never the token
        return f"Api({self.base_url!r})"

    def named(self, name: str, params: dict[str, Any], limit: int | None = None) -> pa.Table:
        """POST /v1/queries/{name}: the named query's rows as Arrow (at most `limit`, else the server's cap)."""
        if limit is None:
            return self._guarded(lambda: call(self.base_url, f"/v1/queries/{name}", {"params": params},
                                              arrow=True, token=self.token, timeout=self.timeout))
        return self._guarded(lambda: query_named(self.base_url, name, params, limit, self.token)[0])

    def get(self, path: str) -> Any:
        """GET `path` (with its query string): the decoded JSON."""
        return self._guarded(lambda: call(self.base_url, path, None, token=self.token, timeout=self.timeout))

    def post(self, path: str, body: dict[str, Any]) -> Any:
        """POST a JSON body to `path`: the decoded JSON."""
        return self._guarded(lambda: call(self.base_url, path, body, token=self.token, timeout=self.timeout))

    def table(self, path: str, body: dict[str, Any] | None = None) -> pa.Table:
        """An Arrow table from `path`: GET without a body, POST with one."""
        return self._guarded(lambda: call(self.base_url, path, body, arrow=True, token=self.token,
                                          timeout=self.timeout))

    def _guarded(self, fn: Any) -> Any:
        try:
            return fn()
        except ApiError:
            raise
        except (TimeoutError, ConnectionError, http.client.HTTPException) as exc:
            raise ApiError(f"cannot reach the server at {self.base_url}: {exc or type(exc).__name__}") from None
        except (ValueError, pa.ArrowException) as exc:  # a body that is neither the JSON nor the Arrow asked for
            raise ApiError(f"the server at {self.base_url} answered something unreadable: {exc}") from None
        except OSError as exc:
            raise ApiError(f"cannot reach the server at {self.base_url}: {exc}") from None


def dashboard_settings() -> Settings:
    """The settings (outcrop.toml and OUTCROP_* variables), or an ApiError naming the bad key."""
    try:
        return load_settings()
    except ConfigError as exc:
        raise ApiError(f"configuration error: {exc}") from None


def current_api() -> Api:
    """The API this session reads: `OUTCROP_DASHBOARD_API` (set by `outcrop dashboard`), else
    the local server of the settings; the token is `server.api_token`. Read once a session."""
    cached = st.session_state.get(_SESSION_KEY)
    if isinstance(cached, Api):
        return cached
    settings = dashboard_settings()
    url = os.environ.get(API_ENV) or f"http://127.0.0.1:{settings.server.api_port}"
    api = Api(url, settings.server.api_token)
    st.session_state[_SESSION_KEY] = api
    return api
