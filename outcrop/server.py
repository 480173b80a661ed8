"""`outcrop serve`: one process that owns the database and hosts everything else.

Receivers (OTLP/HTTP, OTLP/gRPC), the read API, pollers and the scheduler share one
`Store`. SIGTERM/SIGINT stop the listeners, drain the write queue, commit and exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import uvicorn

from outcrop.analytics.scheduler import start_scheduler
from outcrop.api.app import ApiHandlers, create_api
from outcrop.collector.receivers.http_timeouts import header_timeout_protocol
from outcrop.collector.receivers.otlp_grpc import start_grpc_server
from outcrop.collector.receivers.otlp_http import create_app
from outcrop.collector.decode import decoder_name
from outcrop.collector.sources import configured_sources
from outcrop.collector.trace_ingest import TraceIngest
from outcrop.core.client import server_file
from outcrop.core.clock import utcnow
from outcrop.core.errors import OutcropError
from outcrop.core.live_settings import LiveSettings
from outcrop.core.runtime import tune_gc
from outcrop.core.settings import Settings
from outcrop.core.store.writer import Store

log = logging.getLogger(__name__)


class ListenError(OutcropError):
    """A listener could not bind its address; names the setting to change."""


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to us (we run two of them)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class Ports:
    http: int = 0
    grpc: int = 0
    api: int = 0


def _bind(host: str, port: int, key: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ListenError(f"cannot listen on {host}:{port} ({key}): {exc.strerror}. Is another "
                          "server running? Stop it, or choose another port.") from None
    sock.set_inheritable(True)
    return sock


class OutcropServer:
    def __init__(self, settings: Settings, db_path: str, clock: Callable[[], datetime] = utcnow) -> None:
        self.settings = settings
        self.db_path = db_path
        self.clock = clock
        self.ports = Ports()
        self.store: Store | None = None
        self.live: LiveSettings | None = None
        self._servers: list[_QuietServer] = []
        self._scheduler: Any = None
        self._stopping = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def run(self, on_ready: Callable[[OutcropServer], None] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        cfg = self.settings.server
        decoder_name()  # a bad OUTCROP_DECODER stops the start here, naming the variable
        with contextlib.ExitStack() as undo:  # a failed start releases what it had opened
            http_sock = undo.enter_context(_bind(cfg.host, cfg.http_port, "server.http_port"))
            api_sock = undo.enter_context(_bind(cfg.host, cfg.api_port, "server.api_port"))
            self.ports.http = http_sock.getsockname()[1]
            self.ports.api = api_sock.getsockname()[1]
            self.store = Store.open(self.db_path, queue_max=cfg.queue_max_batches,
                                    group_max=cfg.group_commit_max_batches, memory_limit=cfg.memory_limit)
            undo.callback(self.store.close)
            ingest = TraceIngest(self.store, self.settings, self.clock)
            # the file's settings with the sections edited through the API (stored in the
            # database) applied; the API and the scheduled jobs read `live.current` each time
            self.live = LiveSettings.load(self.store, self.settings)
            handlers = ApiHandlers(self.store, self.live, self.clock)
            grpc_server = self._start_grpc(ingest)
            undo.callback(lambda: grpc_server.stop(grace=None).wait(10))
            tasks = self._serve((create_app(ingest, cfg), http_sock), (create_api(handlers), api_sock))
            try:
                self._scheduler = self._start_jobs()
                await self._until_started(tasks)
            except BaseException:
                await self._stop_listeners(tasks)
                if self._scheduler is not None:
                    self._scheduler.shutdown(wait=True)
                raise
            undo.pop_all()  # started: from here on _shutdown releases everything
        tune_gc()
        handlers.ready = True
        self._announce()
        if on_ready is not None:
            on_ready(self)
        await self._stopping.wait()
        await self._shutdown(grpc_server, tasks)

    def _start_grpc(self, ingest: TraceIngest) -> Any:
        cfg = self.settings.server
        try:
            grpc_server, self.ports.grpc = start_grpc_server(ingest, cfg)
        except RuntimeError as exc:
            reason = str(exc).rstrip(".")
            raise ListenError(f"cannot listen on {cfg.host}:{cfg.grpc_port} (server.grpc_port): {reason}. "
                              "Is another server running? Stop it, or choose another port.") from None
        return grpc_server

    def _serve(self, otlp: tuple[Any, socket.socket], api: tuple[Any, socket.socket]) -> list[asyncio.Task[None]]:
        # both ports: a time limit on request headers, which uvicorn does not bound
        bounded: dict[str, Any] = {"http": header_timeout_protocol(self.settings.server.header_read_timeout_seconds)}
        tasks = []
        for (app, sock), options in ((otlp, bounded), (api, bounded)):
            # proxy_headers off: the socket peer decides who is local (outcrop.api.guard)
            config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                    timeout_graceful_shutdown=10, proxy_headers=False, **options)
            server = _QuietServer(config)
            self._servers.append(server)
            tasks.append(asyncio.create_task(server.serve(sockets=[sock])))
        self._install_signals()
        return tasks

    async def _until_started(self, tasks: list[asyncio.Task[None]]) -> None:
        """Wait for both listeners; a listener that ends before it started is a failed start."""
        while not all(s.started for s in self._servers):
            ended = [t for t in tasks if t.done()]
            if ended:
                with contextlib.suppress(SystemExit):  # uvicorn exits when its startup fails, having logged why
                    ended[0].result()
                raise ListenError("a listener stopped while starting; see the log above")
            await asyncio.sleep(0.02)

    async def _stop_listeners(self, tasks: list[asyncio.Task[None]]) -> None:
        for server in self._servers:
            server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)

    def request_stop(self) -> None:
        """Ask the server to drain and stop; safe from any thread or a signal handler."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.request_stop)

    def _start_jobs(self) -> Any:
        if not self.settings.jobs.enabled:
            return None
        assert self.store is not None and self.live is not None
        pollers: Any = configured_sources(self.settings)  # fn(Store, now) fits the scheduler's fn(WriteStore, now)
        live = self.live
        return start_scheduler(self.store, self.settings, pollers, clock=self.clock, current=lambda: live.current)

    def _announce(self) -> None:
        info = {
            "pid": os.getpid(),
            "api_url": f"http://{_url_host(self.settings.server.host)}:{self.ports.api}",
            "http_port": self.ports.http,
            "grpc_port": self.ports.grpc,
            "started_at": self.clock().isoformat(),
        }
        path = server_file(self.db_path)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(info))
        os.replace(tmp, path)
        log.info("serving %s: OTLP/HTTP :%d, OTLP/gRPC :%d, API :%d; OTLP decoder: %s", self.db_path,
                 self.ports.http, self.ports.grpc, self.ports.api, decoder_name())

    async def _shutdown(self, grpc_server: Any, tasks: list[asyncio.Task[None]]) -> None:
        log.info("stopping: draining the write queue")
        grpc_stopped = grpc_server.stop(grace=5)
        await self._stop_listeners(tasks)
        await asyncio.to_thread(grpc_stopped.wait, 10)
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
        assert self.store is not None
        await asyncio.to_thread(self.store.close)
        with contextlib.suppress(FileNotFoundError):
            server_file(self.db_path).unlink()
        log.info("stopped; all acknowledged data is committed")


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def serve_forever(server: OutcropServer, on_ready: Callable[[OutcropServer], None] | None = None) -> None:
    """Run `server` on this thread until SIGTERM/SIGINT or `request_stop`."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(server.run(on_ready))
    else:
        uvloop.run(server.run(on_ready))


def serve(settings: Settings, db_path: str, on_ready: Callable[[OutcropServer], None] | None = None) -> None:
    serve_forever(OutcropServer(settings, db_path), on_ready)
