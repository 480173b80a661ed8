"""Long commands show progress on stderr when it is a terminal, and nothing otherwise."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_outcrop
from tqdm import tqdm

SAMPLES = Path(__file__).resolve().parent / "testdata" / "bedrock" / "samples"
ENV = {**os.environ, "OUTCROP_PROFILES__RESOLVE_WITH_API": "false"}


def _with_terminal_stderr(*args: str) -> tuple[int, str, str]:
    """Run `outcrop ARGS` with stderr on a pseudo-terminal and stdout on a pipe."""
    leader, follower = pty.openpty()
    child = subprocess.Popen([sys.executable, "-m", "outcrop", *args], stdout=subprocess.PIPE,
                             stderr=follower, env=ENV, text=True)
    os.close(follower)
    seen = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed its end
            break
        if not chunk:
            break
        seen += chunk
    out, _ = child.communicate(timeout=60)
    os.close(leader)
    return child.returncode, out, seen.decode(errors="replace")


def test_ingest_on_a_terminal_shows_progress_and_keeps_stdout(sample_logs: Path, db_path: str) -> None:
    code, out, err = _with_terminal_stderr("ingest", str(sample_logs), "--db", db_path)
    assert code == 0, err
    assert "ingesting" in err and "elapsed" in err
    assert "records" in out.splitlines()[0]  # the table, unchanged, on stdout


@pytest.fixture
def several(tmp_path: Path) -> Path:
    """Three files of four records each, with distinct request ids."""
    folder = tmp_path / "several"
    folder.mkdir()
    sample = json.loads((SAMPLES / "bedrock-invocation-converse.json").read_text())
    for f in range(3):
        records = [{**sample, "requestId": f"req-{f}-{i}"} for i in range(4)]
        (folder / f"part-{f}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return folder


def test_local_ingest_on_a_terminal_counts_files_and_records(several: Path, db_path: str) -> None:
    code, out, err = _with_terminal_stderr("ingest", str(several), "--db", db_path)
    assert code == 0, err
    assert "ingesting 3/3 files, 12 records" in err
    size = sum(p.stat().st_size for p in several.iterdir())
    total = tqdm.format_sizeof(size, divisor=1024)
    assert f", {total}B/{total}B, " in err  # all the bytes read, of the total counted first
    header, _, row = out.splitlines()[:3]
    assert dict(zip(header.split(), row.split(), strict=True))["records"] == "12"  # stdout unchanged


def test_jobs_on_a_terminal_show_progress(db_path: str) -> None:
    code, _, err = _with_terminal_stderr("jobs", "run", "--all", "--db", db_path)
    assert code == 0, err
    assert "running rebuild_rollups, rollups" in err


def test_no_progress_without_a_terminal_or_with_json(sample_logs: Path, db_path: str) -> None:
    piped = run_outcrop("ingest", str(sample_logs), "--db", db_path, "--format", "json", env=ENV)
    assert piped.returncode == 0 and piped.stderr == ""
    assert json.loads(piped.stdout)[0]["records"] == 2
    code, out, err = _with_terminal_stderr("jobs", "run", "--db", db_path, "--format", "json")
    assert code == 0 and err == ""
    assert [r["job"] for r in json.loads(out)] == ["rollups", "alerts"]  # the scheduled jobs
