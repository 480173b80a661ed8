"""How far a one-shot read of local log files has got, for whoever wants to show it.

The collector only counts: a caller passes `on_progress` and draws what it likes (the CLI
draws a bar on a terminal). Counting the files first is a second walk of the folder, cheap
next to reading them, and only done when someone asked for progress.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Progress:
    """Counters of one run; bytes are on-disk bytes (compressed for `.gz`), so that
    `bytes_done / bytes_total` is a fair fraction for an ETA."""

    files_done: int
    files_total: int
    records: int
    errors: int
    bytes_done: int
    bytes_total: int


OnProgress = Callable[[Progress], None]


class ProgressTracker:
    """Counts one run over known files and calls `on_progress` after each file and each
    commit: a batch within a large file (every `BATCH_LINES` lines), or a run of small files
    written together (their record counts arrive with that commit, so they may lag a file)."""

    def __init__(self, on_progress: OnProgress, sizes: Mapping[Path, int]) -> None:
        self._emit = on_progress
        self._sizes = dict(sizes)
        self._total = sum(self._sizes.values())
        self._files = self._records = self._errors = self._bytes = 0
        self._position: Callable[[], int] = lambda: 0
        self._report(0)

    def reading(self, position: Callable[[], int]) -> None:
        """The file being read now, and how to ask how far into it the reader is."""
        self._position = position

    def batch_done(self, records: int, errors: int) -> None:
        self._records += records
        self._errors += errors
        self._report(self._safe_position())

    def file_done(self, path: Path) -> None:
        self._files += 1
        self._bytes += self._sizes.get(path, 0)
        self._position = lambda: 0
        self._report(0)

    def _safe_position(self) -> int:
        try:
            return self._position()
        except (OSError, ValueError):  # the file was closed or is not seekable
            return 0

    def _report(self, within_file: int) -> None:
        done = min(self._bytes + within_file, self._total)
        self._emit(Progress(self._files, len(self._sizes), self._records, self._errors, done,
                            self._total))
