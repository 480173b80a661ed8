"""Progress on stderr for long commands, for people only: nothing when stderr is not a
terminal or the output is JSON, so scripts and pipes see exactly what they did before.

Work done by a server (ingest, jobs through its API) reports nothing while it runs, so
the command can only show that it is waiting and for how long: a spinner with elapsed time.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from tqdm import tqdm

REFRESH_SECONDS = 0.2


def wanted(fmt: str) -> bool:
    return fmt != "json" and sys.stderr.isatty()


def _size() -> tuple[int, int]:
    # tqdm draws nothing on a terminal that reports no size (0 x 0, as a bare pty does)
    try:
        size = os.get_terminal_size(sys.stderr.fileno())
    except OSError:
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
