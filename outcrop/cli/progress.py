"""Progress on stderr for long commands, for people only: nothing when stderr is not a
terminal or the output is JSON, so scripts and pipes see exactly what they did before.

Work done by a server (ingest, jobs through its API) reports nothing while it runs, so
the command can only show that it is waiting and for how long: a spinner with elapsed time.
Work done here says how far it is: a local ingest counts files, records and bytes (a bar
with rate and ETA by bytes), the demo counts spans sent and log records written.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from tqdm import tqdm

from outcrop.collector.progress import OnProgress, Progress

REFRESH_SECONDS = 0.2


def wanted(fmt: str) -> bool:
    return fmt != "json" and sys.stderr.isatty()


def _size(stream: TextIO | None = None) -> tuple[int, int]:
    # tqdm draws nothing on a terminal that reports no size (0 x 0, as a bare pty does)
    try:
        size = os.get_terminal_size((stream or sys.stderr).fileno())
    except (OSError, ValueError):  # ValueError: a stream with no file descriptor
        return 80, 24
    return size.columns or 80, size.lines or 24


@contextmanager
def spinner(label: str, enabled: bool) -> Iterator[None]:
    """Show `label` and the elapsed time on stderr until the block ends (then clear it)."""
    if not enabled:
        yield
        return
    columns, lines = _size()
    bar = tqdm(total=None, desc=label, bar_format="{elapsed} elapsed, {desc}", file=sys.stderr,
               leave=False, ncols=columns, nrows=lines)
    done = threading.Event()

    def tick() -> None:
        while not done.wait(REFRESH_SECONDS):
            bar.refresh()

    ticker = threading.Thread(target=tick, name="progress", daemon=True)
    ticker.start()
    try:
        yield
    finally:
        done.set()
        ticker.join()
        bar.close()


# Counts first: a narrow terminal cuts the line at its right edge, and the bar goes first.
FILES_FORMAT = "{desc}, {n_fmt}B/{total_fmt}B, {rate_fmt}, {elapsed} elapsed, {remaining} left {bar}"


@contextmanager
def file_bar(label: str, enabled: bool) -> Iterator[OnProgress | None]:
    """A bar over the bytes of a local read, its files and records in the description;
    yields the collector's `on_progress` callback, or None when nothing is to be shown."""
    if not enabled:
        yield None
        return
    bars: list[tqdm[None]] = []  # made at the first report, which carries the totals

    def show(progress: Progress) -> None:
        if not bars:
            columns, lines = _size()
            bars.append(tqdm(total=progress.bytes_total, bar_format=FILES_FORMAT, file=sys.stderr,
                             leave=False, ncols=columns, nrows=lines, unit="B", unit_scale=True,
                             unit_divisor=1024, desc=_describe(label, progress)))
        bar = bars[0]
        bar.set_description_str(_describe(label, progress), refresh=False)
        bar.update(progress.bytes_done - bar.n)  # draws at most every mininterval
        if progress.files_done == progress.files_total:
            bar.refresh()  # the last state is always drawn, however fast the run was

    try:
        yield show
    finally:
        for bar in bars:
            bar.close()


def _describe(label: str, progress: Progress) -> str:
    errors = f", {progress.errors:,} errors" if progress.errors else ""
    return (f"{label} {progress.files_done:,}/{progress.files_total:,} files, "
            f"{progress.records:,} records{errors}")


PhaseCallback = Callable[[str, int, int], None]


class PhaseBars:
    """One counting bar per phase of a longer job (the demo: spans sent, log records
    written), drawn on `stream` only when it is a terminal. Call it with (phase, done,
    total); a new phase closes the bar of the last one."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stderr
        self.enabled = self._stream.isatty()
        self._phase: str | None = None
        self._bar: tqdm[None] | None = None

    def __call__(self, phase: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        if phase != self._phase or self._bar is None:
            self.close()
            columns, lines = _size(self._stream)
            self._bar = tqdm(total=total, desc=phase, file=self._stream, leave=False,
                             ncols=columns, nrows=lines, unit="", unit_scale=False)
            self._phase = phase
        self._bar.total = total
        self._bar.update(done - self._bar.n)
        if done >= total:
            self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        self._bar, self._phase = None, None
