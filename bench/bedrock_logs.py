"""Benchmark: Bedrock invocation-log files → DuckDB through the real reader and store.

Generates N realistic records as gzip JSON-lines files, pins the process to one core,
and measures records/s for (1) the in-run baseline, a plain `json` decode of the same
files, (2) decode + parse only (orjson + `parse_record`), and (3) the whole path:
`read_log_source_once` on the folder into a fresh DuckDB file (parse, profile resolution,
`store_bedrock_calls` merge, progress bookkeeping). Prints figures and ratios.

Then many small files, as Bedrock delivers them (--small-records in files of
--per-small-file): the folder in one run, whose small files share transactions, against
one run per file (one transaction per file, as every file had before), each with its
ratio to the baseline decode of the same small files.

    .venv/bin/python bench/bedrock_logs.py [--records 200000] [--small-records 20000]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from outcrop.collector.normalize.bedrock import parse_record
from outcrop.collector.sources import SourceContext, read_log_source_once
from outcrop.core.runtime import tune_gc
from outcrop.core.settings import AttributionSettings, ProfilesSettings, Settings
from outcrop.core.store.writer import Store

TARGET_PER_SECOND = 100_000
PER_FILE = 10_000
MODELS = (
    "us.anthropic.claude-3-5-haiku-20241022-v1:0",
    "anthropic.claude-3-5-sonnet-20240620-v1:0",
    "eu.anthropic.claude-3-7-sonnet-20250219-v1:0",
    "amazon.nova-pro-v1:0",
    "global.anthropic.claude-sonnet-4-20250514-v1:0",
)
TENANTS = ("acme", "globex", "initech", "hooli", "umbrella")


def make_record(rng: random.Random, i: int) -> dict[str, Any]:
    streamed = rng.random() < 0.4
    output_tokens = rng.randint(20, 1500)
    first_byte = rng.randint(150, 900)
    latency = first_byte + output_tokens * rng.randint(8, 20)
    record: dict[str, Any] = {
        "schemaType": "ModelInvocationLog", "schemaVersion": "1.0",
        "timestamp": f"2026-11-20T{i // 36000 % 24:02d}:{i // 600 % 60:02d}:{i // 10 % 60:02d}Z",
        "accountId": "111122223333",
        "identity": {"arn": f"arn:aws:sts::111122223333:assumed-role/app-{i % 7}/session"},
        "region": "us-east-1", "inferenceRegion": "us-west-2",
        "requestId": f"{i:08x}-8c4a-4f55-9b0e-{rng.getrandbits(48):012x}",
        "operation": "InvokeModelWithResponseStream" if streamed else "Converse",
        "modelId": rng.choice(MODELS),
        "requestMetadata": {"tenant": rng.choice(TENANTS), "route": f"/r{i % 11}",
                            "workflow": f"wf-{i % 5}"},
        "input": {"inputContentType": "application/json",
                  "inputBodyJson": {"messages": [{"role": "user",
                                                  "content": [{"text": "Where is my order?"}]}]},
                  "inputTokenCount": rng.randint(100, 8000),
                  "cacheReadInputTokenCount": rng.choice((0, 0, 2048, 4096)),
                  "cacheWriteInputTokenCount": 0},
        "output": {"outputContentType": "application/json", "outputTokenCount": output_tokens},
    }
    if streamed:
        record["output"]["outputBodyJson"] = [
            {"type": "message_start"},
            {"type": "content_block_delta", "delta": {"type": "text_delta", "text": "Sure"}},
            {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
             "usage": {"output_tokens": output_tokens}},
            {"type": "message_stop", "amazon-bedrock-invocationMetrics": {
                "outputTokenCount": output_tokens, "invocationLatency": latency,
                "firstByteLatency": first_byte}},
        ]
    else:
        record["output"]["outputBodyJson"] = {
            "output": {"message": {"role": "assistant", "content": [{"text": "It ships."}]}},
            "stopReason": "end_turn", "metrics": {"latencyMs": latency},
        }
    return record


def generate(folder: Path, count: int, per_file: int = PER_FILE) -> list[Path]:
    rng = random.Random(42)
    paths = []
    for start in range(0, count, per_file):
        lines = [orjson.dumps(make_record(rng, i)) for i in range(start, min(count, start + per_file))]
        path = folder / f"part-{start // per_file:05d}.json.gz"
        path.write_bytes(gzip.compress(b"\n".join(lines) + b"\n", compresslevel=6))
        paths.append(path)
    return paths


def baseline(paths: list[Path]) -> int:
    """Plain stdlib: gunzip and json-decode every line."""
    n = 0
    for path in paths:
        with gzip.open(path, "rb") as stream:
            for line in stream:
                json.loads(line)
                n += 1
    return n


def parse_only(paths: list[Path]) -> int:
    keys, n = AttributionSettings(), 0
    for path in paths:
        with gzip.open(path, "rb") as stream:
            for line in stream:
                parse_record(orjson.loads(line), keys)
                n += 1
    return n


def full_path(folder: Path, db: str) -> int:
    settings = Settings(profiles=ProfilesSettings(resolve_with_api=False))
    store = Store.open(db)
    try:
        totals = read_log_source_once(store, settings, str(folder), datetime(2026, 11, 21))
    finally:
        store.close()
    return int(totals["records"])


def one_run_per_file(paths: list[Path], db: str) -> int:
    """Each file in a run of its own: one transaction per file."""
    settings = Settings(profiles=ProfilesSettings(resolve_with_api=False))
    context = SourceContext.build(settings)
    store = Store.open(db)
    try:
        return sum(int(read_log_source_once(store, settings, str(path), datetime(2026, 11, 21),
                                            context=context)["records"]) for path in paths)
    finally:
        store.close()


def small_files(tmp: Path, count: int, per_file: int) -> None:
    folder = tmp / "small"
    folder.mkdir()
    paths = generate(folder, count, per_file)
    print(f"{count:,} records in {len(paths)} gzip files of {per_file}")
    base = timed("baseline: gunzip + json.loads", baseline, paths)
    each = timed("one run per file (a transaction per file)", one_run_per_file, paths,
                 str(tmp / "each.duckdb"))
    folder_run = timed("the folder in one run (files share transactions)", full_path, folder,
                       str(tmp / "folder.duckdb"))
    print(f"ratio per-file/baseline: {each / base:.3f}   ratio folder/baseline: "
          f"{folder_run / base:.3f}   folder/per-file: {folder_run / each:.1f}x")


def timed(label: str, fn: Any, *args: Any) -> float:
    start = time.perf_counter()
    n = fn(*args)
    seconds = time.perf_counter() - start
    rate: float = n / seconds
    print(f"{label:<44} {n:>9,} records {seconds:8.2f} s {rate:>12,.0f} records/s")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--small-records", type=int, default=20_000,
                        help="records for the many-small-files case (0: skip it)")
    parser.add_argument("--per-small-file", type=int, default=68)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})  # one core: the figure must not depend on the machine
    tune_gc()  # as `outcrop ingest` and `outcrop serve` do
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "logs"
        folder.mkdir()
        paths = generate(folder, args.records)
        size = sum(p.stat().st_size for p in paths)
        print(f"{args.records:,} records in {len(paths)} gzip files, {size / 1e6:.1f} MB")
        base = timed("baseline: gunzip + json.loads", baseline, paths)
        parse = timed("gunzip + orjson + parse_record", parse_only, paths)
        full = timed("read_log_source_once: files -> DuckDB (real store)", full_path, folder,
                     str(Path(tmp) / "bench.duckdb"))
    print(f"ratio parse/baseline: {parse / base:.2f}   ratio full/baseline: {full / base:.2f}")
    verdict = "meets" if full >= TARGET_PER_SECOND else "below"
    print(f"full path {full:,.0f} records/s: {verdict} the {TARGET_PER_SECOND:,}/s target")
    if args.small_records > 0:
        with tempfile.TemporaryDirectory() as tmp:
            small_files(Path(tmp), args.small_records, args.per_small_file)


if __name__ == "__main__":
    main()
