"""The demo's own alert receiver: a loopback HTTP server that keeps each webhook body.

`outcrop demo` points its `demo` channel here, so the notifications the alerts job sends
travel the same path a real receiver's would (JSON POST, retries on failure) and the
demo can print what arrived.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_BODY = 1 << 20


class DemoWebhook:
    """Listens on 127.0.0.1:`port` (any free port when it is taken or 0); `url` is where."""

    def __init__(self, port: int, path: str = "/hook") -> None:
        self.received: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        handler = self._handler()
        try:
            self._httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        except OSError:  # the configured port is in use: any free one will do
            self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}{path}"
        threading.Thread(target=self._httpd.serve_forever, name="demo-webhook", daemon=True).start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("content-length") or 0)
                if 0 < length <= MAX_BODY:
                    try:
                        body = json.loads(self.rfile.read(length))
                    except ValueError:
                        body = None
                    if isinstance(body, dict):
                        with outer._lock:
                            outer.received.append(body)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def bodies(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.received)

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
