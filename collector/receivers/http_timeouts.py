"""A time limit on request headers, which uvicorn does not bound.

uvicorn (0.54, httptools) arms its keep-alive timer only after a response, and any byte
received cancels it: a client that opens a connection and sends its headers one byte at a
time holds the connection for as long as it likes (slowloris). This protocol closes such a
connection when the headers of a request are not complete in time, answering 408 when the
request had begun and closing silently when nothing was sent: an unasked-for answer on an
idle connection would be read by the client as the answer to its next request.
The body has its own limit, in the receiver (`read_body_within`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_TIMEOUT_408 = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
                b"content-length: %d\r\nconnection: close\r\n\r\n%s")


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """HTTP/1.1 for uvicorn, with `header_timeout` seconds to send each request's headers."""

    header_timeout: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._request_begun = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._request_begun = True
        if self._header_timer is None:  # a request after a response on a kept-alive connection
            self._arm_header_timer()

    def on_headers_complete(self) -> None:
        self._cancel_header_timer()
        self._request_begun = False
        super().on_headers_complete()

    def _arm_header_timer(self) -> None:
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_timed_out)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_timed_out(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        if self._request_begun:
            message = (f"request headers not received within {self.header_timeout:g} s "
                       "(server.header_read_timeout_seconds)").encode()
            self.transport.write(_TIMEOUT_408 % (len(message), message))
        self.transport.close()


def header_timeout_protocol(seconds: float) -> type[HeaderTimeoutProtocol]:
    """The protocol class to give `uvicorn.Config(http=...)`, with this header limit."""
    return type("HeaderTimeoutProtocol", (HeaderTimeoutProtocol,), {"header_timeout": seconds})
