"""The demo's backfill shows one counting bar per phase on a terminal, nothing elsewhere."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_cli_progress import _with_terminal_stderr

from outcrop.cli.progress import PhaseBars
from outcrop.demo.invocation_logs import write_invocation_logs
from outcrop.demo.workload import plan_workload


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_each_phase_draws_its_count_of_the_total() -> None:
    screen = Terminal()
    bars = PhaseBars(screen)
    for done in (0, 400, 1000):
        bars("spans sent", done, 1000)
    bars("log records written", 120, 120)
    bars.close()
    drawn = screen.getvalue()
    assert "spans sent: 100%" in drawn and "1000/1000" in drawn
    assert "log records written: 100%" in drawn and "120/120" in drawn
    assert drawn.index("1000/1000") < drawn.index("120/120")  # in phase order


def test_nothing_is_drawn_when_the_stream_is_not_a_terminal() -> None:
    piped = io.StringIO()
    bars = PhaseBars(piped)
    bars("spans sent", 10, 10)
    bars.close()
    assert piped.getvalue() == ""


def test_writing_the_logs_reports_records_written_of_the_total(tmp_path: Path) -> None:
    plans = plan_workload(now=datetime(2026, 11, 20, 12, tzinfo=UTC), history_days=0.2,
                          live_minutes=0, traces_per_hour=120, seed=7)
    calls = [c for p in plans for c in p.calls if c.logged]
    seen: list[tuple[str, int, int]] = []
    written = write_invocation_logs(calls, tmp_path, lambda *p: seen.append(p))
    assert written == len(calls) > 0
    assert seen[-1] == ("log records written", written, written)
    assert all(phase == "log records written" and total == written for phase, _, total in seen)


@pytest.mark.e2e
def test_demo_on_a_terminal_shows_each_phase_and_keeps_the_summary(tmp_path: Path) -> None:
    code, out, err = _with_terminal_stderr(
        "demo", "--db", str(tmp_path / "demo.duckdb"), "--exit", "--history-days", "0.1",
        "--http-port", "0", "--grpc-port", "0", "--api-port", "0")
    assert code == 0, err
    sent = re.search(r"Sent (\d+) spans", out)
    written = re.search(r"wrote (\d+) Bedrock invocation-log records", out)
    assert sent and written, out
    assert f"{sent[1]}/{sent[1]}" in err and "spans sent: 100%" in err
    assert f"{written[1]}/{written[1]}" in err and "log records written: 100%" in err
    assert "ingesting the invocation logs" in err and "running jobs" in err
    assert "Usage by tenant" in out and "spans sent" not in out  # progress never on stdout
