"""`POST /v1/admin/ingest` reads only configured sources or what lies under a configured
root, one run at a time, and stops when its caller goes away."""

from __future__ import annotations

import gzip
import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import RunningServer

SAMPLES = Path(__file__).parent / "testdata" / "bedrock" / "samples"
CONVERSE = SAMPLES / "bedrock-invocation-converse.json"
NO_API = {"resolve_with_api": False}


def ingest(server: RunningServer, source: str, timeout: float = 60) -> requests.Response:
    return requests.post(server.api_url + "/v1/admin/ingest", json={"source": source}, timeout=timeout)


def count(server: RunningServer, sql: str) -> int:
    return int(server.store.query(sql).to_pylist()[0]["n"])


def logs_folder(path: Path) -> Path:
    path.mkdir(parents=True)
    shutil.copy(CONVERSE, path / "one.json")
    return path


def test_a_folder_outside_every_allowed_root_is_refused_and_not_read(
    server_factory: Any, tmp_path: Path
) -> None:
    elsewhere = logs_folder(tmp_path / "elsewhere")
    server = server_factory(profiles=NO_API)
    answer = ingest(server, str(elsewhere))
    assert answer.status_code == 403
    assert answer.json()["error"] == "SourceRefused"
    assert "ingest.allowed_paths" in answer.json()["message"]
    assert count(server, "SELECT count(*) AS n FROM llm_calls") == 0
    assert count(server, "SELECT count(*) AS n FROM bedrock_log_objects") == 0


def test_dot_dot_and_symlinks_out_of_an_allowed_root_are_refused(
    server_factory: Any, tmp_path: Path
) -> None:
    allowed = logs_folder(tmp_path / "allowed")
    outside = logs_folder(tmp_path / "outside")
    (allowed / "way-out").symlink_to(outside, target_is_directory=True)
    (allowed / "file-out.json").symlink_to(outside / "one.json")
    server = server_factory(profiles=NO_API, ingest={"allowed_paths": [str(allowed)]})
    for source in (allowed / ".." / "outside", allowed / "way-out", allowed / "file-out.json",
                   tmp_path / "allowed-not-really"):
        answer = ingest(server, str(source))
        assert (answer.status_code, answer.json()["error"]) == (403, "SourceRefused"), source
    # a missing path outside the roots is refused like an existing one: no existence oracle
    assert "no such file" not in ingest(server, str(tmp_path / "nowhere")).json()["message"]
    assert count(server, "SELECT count(*) AS n FROM bedrock_log_objects") == 0


def test_a_folder_under_an_allowed_root_is_read_without_following_its_symlinks(
    server_factory: Any, tmp_path: Path
) -> None:
    allowed = logs_folder(tmp_path / "allowed")
    outside = tmp_path / "outside"
    outside.mkdir()
    stream = json.loads((SAMPLES / "bedrock-invocation-stream.json").read_text())
    (outside / "stream.json").write_text(json.dumps(stream))
    (allowed / "link.json").symlink_to(outside / "stream.json")
    (allowed / "sub").symlink_to(outside, target_is_directory=True)
    server = server_factory(profiles=NO_API, ingest={"allowed_paths": [str(tmp_path / "allowed")]})
    answer = ingest(server, str(allowed))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"files": 1, "lines": 1, "records": 1, "errors": 0, "skipped": 2}
    rows = server.store.query("SELECT request_id FROM llm_calls").to_pylist()
    assert rows == [{"request_id": "5d2f0b1e-8c4a-4f55-9b0e-1c2d3e4f5a6b"}]


def test_a_configured_files_source_may_be_ingested_by_an_admin(
    server_factory: Any, tmp_path: Path
) -> None:
    logs = logs_folder(tmp_path / "logs")
    server = server_factory(profiles=NO_API, sources={"files": [{"path": str(logs)}]})
    answer = ingest(server, str(logs / "one.json"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["records"] == 1


def test_a_file_not_named_like_an_invocation_log_is_refused(
    server_factory: Any, tmp_path: Path
) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    server = server_factory(profiles=NO_API, ingest={"allowed_paths": [str(allowed)]})
    answer = ingest(server, str(allowed / "passwd"))
    assert answer.status_code == 400
    assert ".jsonl" in answer.json()["message"]
    assert count(server, "SELECT count(*) AS n FROM ingest_errors") == 0


def test_an_unusable_path_is_a_400_naming_it(server_factory: Any, tmp_path: Path) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "loop.json").symlink_to(allowed / "loop.json")
    server = server_factory(profiles=NO_API, ingest={"allowed_paths": [str(allowed)]})
    for source in (f"{allowed}/a\x00b", str(allowed / "loop.json")):
        answer = ingest(server, source)
        assert (answer.status_code, answer.json()["error"]) == (400, "BadSource"), answer.text
        assert "not a usable path" in answer.json()["message"]


def test_s3_and_cloudwatch_sources_must_be_configured_or_allowed(
    server_factory: Any, tmp_path: Path
) -> None:
    server = server_factory(
        profiles=NO_API, sources={"s3": [{"uri": "s3://logs-bucket/bedrock"}],
                                  "cloudwatch_logs": [{"log_group": "/bedrock/invocations"}]})
    for source, setting in (("s3://other-bucket/bedrock", "ingest.allowed_s3_prefixes"),
                            ("s3://logs-bucket/bedrock-private", "ingest.allowed_s3_prefixes"),
                            ("s3://logs-bucket", "ingest.allowed_s3_prefixes"),
                            ("cloudwatch-logs:///other/group", "ingest.allowed_log_groups")):
        answer = ingest(server, source)
        assert answer.status_code == 403, source
        assert setting in answer.json()["message"]


def test_a_caller_that_goes_away_stops_the_ingest_and_keeps_what_was_read(
    server_factory: Any, tmp_path: Path
) -> None:
    big = big_folder(tmp_path / "big")
    small = logs_folder(tmp_path / "small")
    server = server_factory(profiles=NO_API, ingest={
        "allowed_paths": [str(big), str(small)], "max_seconds": 600})

    with pytest.raises(requests.exceptions.ReadTimeout):  # the client gives up and hangs up
        ingest(server, str(big), timeout=1.5)
    busy = ingest(server, str(small))
    assert busy.status_code == 409, busy.text  # one admin ingest at a time: the first still runs
    assert "already running" in busy.json()["message"]

    read = _records_when_it_stops(server, within=10)
    time.sleep(2)
    assert _records_read(server) == read  # nothing more is read
    assert 0 < read < BIG_RECORDS
    # the file it was in keeps its place for the next run: complete files hold all their
    # lines, at most one is unfinished (none when it stopped between two files; all its
    # lines when it stopped after its last batch, before the file was marked read), and
    # the records kept are exactly those
    unfinished = count(server, "SELECT count(*) AS n FROM bedrock_log_objects WHERE NOT complete")
    complete = count(server, "SELECT count(*) AS n FROM bedrock_log_objects WHERE complete")
    partial = count(server, "SELECT coalesce(sum(records), 0) AS n FROM bedrock_log_objects WHERE NOT complete")
    assert unfinished in (0, 1)
    assert complete * BIG_LINES + partial == read
    assert 0 <= partial <= BIG_LINES
    again = ingest(server, str(small))
    assert again.status_code == 200 and again.json()["records"] == 1


BIG_FILES, BIG_LINES = 40, 20_000
BIG_RECORDS = BIG_FILES * BIG_LINES  # far longer to read than the test waits


def big_folder(path: Path) -> Path:
    path.mkdir()
    record = json.loads(CONVERSE.read_text())
    lines = b"".join(json.dumps({**record, "requestId": f"r{i:06d}"}).encode() + b"\n"
                     for i in range(BIG_LINES))
    packed = gzip.compress(lines, compresslevel=1)
    for n in range(BIG_FILES):
        (path / f"part-{n:02d}.json.gz").write_bytes(packed)
    return path


def _records_read(server: RunningServer) -> int:
    return count(server, "SELECT coalesce(sum(records), 0) AS n FROM bedrock_log_objects")


def _records_when_it_stops(server: RunningServer, within: float) -> int:
    """The records read once two samples a second apart agree, waiting at most `within` s."""
    deadline = time.monotonic() + within
    last = -1
    while time.monotonic() < deadline:
        now = _records_read(server)
        if now == last:
            return now
        last = now
        time.sleep(1.0)
    raise AssertionError(f"the ingest was still reading {within} s after its caller left ({last} records)")

