"""Drawing helpers every page shares: the one-line error, the empty state, the spinner."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import streamlit as st

from outcrop.core.settings import ConfigError, ServerSettings, load_settings
from outcrop.dashboard.api_client.base import API_ENV, ApiError

_MAX_ERROR_CHARS = 300


def one_line(exc: BaseException | str) -> str:
    """An error as one readable line: whitespace folded, cut at a few hundred characters."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= _MAX_ERROR_CHARS else text[: _MAX_ERROR_CHARS - 1] + "…"


def error_line(exc: BaseException | str) -> None:
    """Show an API failure as one line (never a traceback)."""
    st.error(one_line(exc))


def otlp_endpoint() -> str:
    """Where producers send OTLP/HTTP: the API's host on `server.http_port`."""
    host = urlsplit(os.environ.get(API_ENV, "")).hostname or "127.0.0.1"
    try:
        port = load_settings().server.http_port
    except ConfigError:  # the page already says what is wrong with the settings
        port = ServerSettings().http_port
    return f"http://{host}:{port}"


def empty_state(what: str = "No LLM calls in this range.") -> None:
    """What to send and how, for a range (or a database) with nothing in it yet."""
    endpoint = otlp_endpoint()
    st.info(f"{what} Send OpenTelemetry traces of your Bedrock calls to **{endpoint}/v1/traces** "
            "(OTLP/HTTP, protobuf or JSON), widen the time range, or run `outcrop demo` for sample data.")
    st.code(f"OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf OTEL_EXPORTER_OTLP_ENDPOINT={endpoint} \\\n"
            "    opentelemetry-instrument python your_app.py", language="sh")


@contextmanager
def loading(text: str = "Loading…") -> Iterator[None]:
    """A spinner while the API answers."""
    with st.spinner(text):
        yield


def section(draw: Callable[[], None]) -> None:
    """One part of a page: its API failure shows as its one line, and the rest still draws."""
    try:
        with loading():
            draw()
    except ApiError as exc:
        error_line(exc)
