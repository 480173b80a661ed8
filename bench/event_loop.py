"""Benchmark: does one large export stall everyone else? `/healthz` latency on the read API
while a big gzip OTLP request is decoded, against the same calls on an idle server.

A fresh `outcrop serve` (subprocess, jobs off, temporary file) first answers `/healthz`
idle (the in-run baseline); then one client sends a single large protobuf request
(gzip) while another polls `/healthz` every 20 ms until that request is answered. Both
uvicorn servers of `outcrop serve` share one event loop, so a decoder running on the
loop shows here as a stall; off the loop it costs only the interpreter lock's turns.

    .venv/bin/python bench/event_loop.py               # 150k spans, ~1 minute
    .venv/bin/python bench/event_loop.py --spans 50000
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ingest as bench_ingest  # noqa: E402 - the span builder and server starter of bench/ingest.py


def _healthz_ms(url: str) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(url + "/healthz", timeout=30) as resp:
        resp.read()
    return (time.perf_counter() - started) * 1000


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _big_request(spans: int) -> tuple[bytes, int]:
    """The gzip body and its inflated size."""
    batch = []
    pool = 0
    while len(batch) < spans:
        batch.extend(bench_ingest.make_spans(pool, min(4096, spans - len(batch))))
        pool += 1
    raw = bench_ingest.to_protobuf(batch)
    return gzip.compress(raw, compresslevel=1), len(raw)


def _api_url(db: Path) -> str:
    import json

    return str(json.loads(Path(str(db) + ".server.json").read_text())["api_url"])


def run(spans: int) -> None:
    body, inflated = _big_request(spans)
    # the server's body limits must let the request in: the point is its decoding
    os.environ["OUTCROP_SERVER__MAX_BODY_BYTES"] = str(2 * len(body))
    os.environ["OUTCROP_SERVER__MAX_DECOMPRESSED_BYTES"] = str(2 * inflated)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        proc, ports = bench_ingest.start_server(db)
        try:
            api = _api_url(db)
            idle = [_healthz_ms(api) for _ in range(50)]
            during: list[float] = []
            answered = threading.Event()
            timing: dict[str, float] = {}

            def send() -> None:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{ports['http_port']}/v1/traces", data=body, method="POST",
                    headers={"content-type": "application/x-protobuf", "content-encoding": "gzip"})
                started = time.perf_counter()
                with urllib.request.urlopen(request, timeout=300) as resp:
                    resp.read()
                timing["export_s"] = time.perf_counter() - started
                answered.set()

            sender = threading.Thread(target=send)
            sender.start()
            while not answered.is_set():
                during.append(_healthz_ms(api))
                time.sleep(0.02)
            sender.join()
        finally:
            proc.terminate()
            proc.wait(30)
    idle_p50, idle_max = _percentile(idle, 0.5), max(idle)
    worst = max(during) if during else float("nan")
    size = f"{len(body) / 1e6:.1f} MB gzip, {inflated / 1e6:.0f} MB inflated"
    print(f"one export of {spans:,} spans ({size}) answered in {timing['export_s']:.2f} s")
    print(f"/healthz idle:   p50 {idle_p50:.1f} ms, max {idle_max:.1f} ms  (baseline, {len(idle)} calls)")
    print(f"/healthz during: p50 {_percentile(during, 0.5):.1f} ms, p95 {_percentile(during, 0.95):.1f} ms, "
          f"max {worst:.1f} ms  ({len(during)} calls)")
    print(f"ratio, worst call during / idle p50: {worst / idle_p50:.0f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=150_000)
    args = parser.parse_args()
    run(args.spans)


if __name__ == "__main__":
    main()
