"""How much one ingest run may read, and whether it must stop now.

Every source checks its run's budget between files (objects, pages) and between lines.
A run that stops commits what it read with its progress, exactly as a finished run does,
so the next run continues where this one stopped: nothing lost, nothing read twice.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from outcrop.core.settings import IngestSettings

Clock = Callable[[], float]


@dataclass
class RunBudget:
    """Bounds of one run (None: unbounded) and what it has used; `stopped` says why it
    stopped (`max_files`, `max_bytes`, `max_seconds` or `cancelled`), once it has."""

    max_files: int | None = None
    max_bytes: int | None = None
    max_seconds: float | None = None
    max_file_bytes: int | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    clock: Clock = time.monotonic
    files: int = 0
    bytes: int = 0
    skipped: int = 0
    stopped: str | None = None
    started: float = field(init=False)

    def __post_init__(self) -> None:
        self.started = self.clock()

    @classmethod
    def from_settings(cls, ingest: IngestSettings, cancel: threading.Event | None = None,
                      clock: Clock = time.monotonic) -> RunBudget:
        return cls(ingest.max_files, ingest.max_bytes, ingest.max_seconds, ingest.max_file_bytes,
                   cancel or threading.Event(), clock)

    def spent(self) -> bool:
        """Whether the run must stop: cancelled, out of time, or out of bytes."""
        if self.stopped is None:
            self.stopped = self._reason()
        return self.stopped is not None

    def take_file(self) -> bool:
        """Count one more file (or object) to read; False when the run must stop first."""
        if self.spent():
            return False
        if self.max_files is not None and self.files >= self.max_files:
            self.stopped = "max_files"
            return False
        self.files += 1
        return True

    def fits(self, size: int) -> bool:
        """Whether a file read from its first byte on every run is small enough to read."""
        return self.max_file_bytes is None or size <= self.max_file_bytes

    def _reason(self) -> str | None:
        if self.cancel.is_set():
            return "cancelled"
        if self.max_bytes is not None and self.bytes >= self.max_bytes:
            return "max_bytes"
        if self.max_seconds is not None and self.clock() - self.started >= self.max_seconds:
            return "max_seconds"
        return None
