"""Finding and opening local invocation-log files without reading what is not one.

A folder is walked lazily, in name order (so hours go in order), and the walk stops with
its run. Only regular files named like invocation logs are read: symlinks are never
followed, so nothing outside the folder is reached through one, and a FIFO, socket or
device named like a log is skipped (a FIFO would block the reader forever).
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from outcrop.collector.receivers.budget import RunBudget
from outcrop.core.errors import BadSource

log = logging.getLogger(__name__)

# What the file source reads; Bedrock itself writes `.json.gz` objects.
LOG_SUFFIXES = (".json", ".json.gz", ".jsonl", ".jsonl.gz")


def log_files(root: Path, budget: RunBudget) -> Iterator[Path]:
    """The log files under the resolved `root`, or `root` itself, until the run stops."""
    if not root.is_dir():
        check_log_file(root)
        yield root
        return
    folders = [_entries(root, budget)]
    while folders and not budget.spent():
        entry = next(folders[-1], None)
        if entry is None:
            folders.pop()
        elif entry.is_symlink():
            skip_file(budget, entry.path, "a symlink (not followed)")
        elif entry.is_dir(follow_symlinks=False):
            folders.append(_entries(Path(entry.path), budget))
        elif not entry.name.endswith(LOG_SUFFIXES):
            continue  # not a log by name: not even opened
        elif entry.is_file(follow_symlinks=False):
            yield Path(entry.path)
        else:
            skip_file(budget, entry.path, "not a regular file")


def check_log_file(path: Path) -> None:
    """Raise BadSource unless `path`, named as a source itself, is a regular log file."""
    if not path.name.endswith(LOG_SUFFIXES):
        raise BadSource(f"{path} is not an invocation-log file: the file source reads files named "
                        f"{', '.join('*' + s for s in LOG_SUFFIXES)}")
    if not stat.S_ISREG(path.stat().st_mode):
        raise BadSource(f"{path} is not a regular file")


def open_regular(path: Path, budget: RunBudget) -> IO[bytes] | None:
    """`path` open for reading when it is a regular file; else None, counted as skipped.

    O_NOFOLLOW and O_NONBLOCK make a symlink or FIFO put in its place since the walk fail
    or open at once instead of being followed or blocking; fstat checks what was opened.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        skip_file(budget, str(path), f"not opened: {exc.strerror}")
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        skip_file(budget, str(path), "not a regular file")
        return None
    return os.fdopen(fd, "rb")


def _entries(folder: Path, budget: RunBudget) -> Iterator[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as found:
            return iter(sorted(found, key=lambda entry: entry.name))
    except OSError as exc:
        skip_file(budget, str(folder), f"not listed: {exc.strerror}")
        return iter(())


def skip_file(budget: RunBudget, path: str, why: str) -> None:
    """Count a file (or folder) the run does not read, and say why in the log."""
    budget.skipped += 1
    log.warning("%s: skipped, %s", path, why)
