"""Shared fixtures: a store on a temporary file and a real Outcrop server on loopback."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from outcrop.core.settings import Settings, load_settings
from outcrop.core.store.writer import Store
from outcrop.server import OutcropServer


def run_outcrop(*args: str, env: dict[str, str] | None = None,
                timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """The `outcrop` command line in a child process, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "outcrop", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def make_settings(**sections: Any) -> Settings:
    """Settings for tests: free ports on loopback, no scheduler unless asked."""
    server = {"http_port": 0, "grpc_port": 0, "api_port": 0, **sections.pop("server", {})}
    jobs = {"enabled": False, **sections.pop("jobs", {})}
    return load_settings(server=server, jobs=jobs, **sections)


@pytest.fixture
def sample_logs(tmp_path: Path) -> Path:
    """A folder `logs` holding the two Bedrock invocation-log samples."""
    folder = tmp_path / "logs"
    folder.mkdir()
    samples = Path(__file__).resolve().parent / "testdata" / "bedrock" / "samples"
    for sample in samples.glob("bedrock-invocation-*.json"):
        shutil.copy(sample, folder / sample.name)
    return folder


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    return str(tmp_path / "outcrop.duckdb")


@pytest.fixture
def store(db_path: str) -> Iterator[Store]:
    s = Store.open(db_path)
    yield s
    s.close()


class RunningServer:
    """An `OutcropServer` running its own event loop in a thread."""

    def __init__(self, settings: Settings, db_path: str) -> None:
        self.server = OutcropServer(settings, db_path)
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, daemon=True)
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError(f"server did not start: {self._error!r}")
        if self._error is not None:
            raise self._error

    def _main(self) -> None:
        try:
            asyncio.run(self.server.run(lambda _: self._ready.set()))
        except BaseException as exc:  # surfaced to the test through _ready
            self._error = exc
            self._ready.set()

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.server.ports.http}"

    @property
    def traces_url(self) -> str:
        return self.http_url + "/v1/traces"

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.server.ports.grpc}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.server.ports.api}"

    @property
    def store(self) -> Store:
        assert self.server.store is not None
        return self.server.store

    def stop(self) -> None:
        self.server.request_stop()
        self._thread.join(30)


@pytest.fixture
def server_factory(db_path: str) -> Iterator[Any]:
    started: list[RunningServer] = []

    def start(**sections: Any) -> RunningServer:
        running = RunningServer(make_settings(**sections), db_path)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def server(server_factory: Any) -> RunningServer:
    running: RunningServer = server_factory()
    return running
