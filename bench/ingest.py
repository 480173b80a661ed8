"""Benchmark: OTLP span ingest through a real `outcrop serve`, protobuf/HTTP, JSON/HTTP, gRPC,
with the native decoder (column-wise normalisation) and the pure-Python one side by side.

For each protocol and decoder a fresh server runs as a subprocess pinned to core 0 (jobs
disabled, temporary DuckDB file, OUTCROP_DECODER set), and a separate load-generator
process pinned to core 1 sends pre-encoded OTLP payloads of GenAI-heavy traces (512 spans
a request, like the OTel BatchSpanProcessor) over several concurrent connections:

1. full load: closed loop, every connection sends again as soon as it is answered;
   durable spans/s counts only acknowledged spans (the server answers after COMMIT);
2. half load: open loop at half the measured maximum, latency measured from the
   scheduled send time (so a stalled server cannot hide its queue).

Then the server is stopped and the file reopened to check that every acknowledged span
is there. The in-run ceilings, on the server's one core with no server: the same
payloads decoded natively, normalised and inserted in commit groups of 16 requests
(`SpanColumnsWrite.write_many` + COMMIT), the same through the Python decoder
(`build_span_batch` + `write_span_batches`), and the DuckDB Arrow insert alone. Peak RSS
is the server's VmHWM.

    .venv/bin/python bench/ingest.py            # ~12 minutes (60 s at half load per run)
    .venv/bin/python bench/ingest.py --quick    # ~3 minutes
    .venv/bin/python bench/ingest.py --decoders native --protocols protobuf
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing as mp
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

SPANS_PER_REQUEST = 512
POOL = 8  # distinct pre-encoded payloads per protocol; ids are renumbered per send
TARGETS = {"protobuf": 100_000, "json": 60_000, "grpc": 100_000}
CEILING_RATIO_TARGET = 0.7
GROUP = 16  # requests per commit group in the ceilings (the server's groups are what the queue holds)
P99_TARGET_MS = 100.0
RSS_TARGET_BYTES = 1 << 30
SERVER_CORE, LOAD_CORE = 0, 1
GRPC_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"

# Every trace id starts with MARKER (and every aws.request_id holds its hex form); each
# send replaces it with a fresh sequence number, so no two requests share a span or a
# request id and no insert is a cheap conflict. Same length: protobuf framing holds.
MARKER = bytes.fromhex("5aa50ff03cc39669")
MARKER_HEX = MARKER.hex().encode()

MODELS = (
    "us.anthropic.claude-3-5-haiku-20241022-v1:0",
    "anthropic.claude-3-5-sonnet-20240620-v1:0",
    "us.anthropic.claude-sonnet-4-20250514-v1:0",
    "amazon.nova-pro-v1:0",
)
TENANTS = ("acme", "globex", "initech", "hooli", "umbrella", "stark", "wayne")
ROUTES = ("/chat", "/support/answer", "/search", "/summarise", "/agent/run")
WORKFLOWS = ("support-bot", "rag-answer", "doc-summary", "triage-agent")


# -- traces ------------------------------------------------------------------------------


@dataclass
class Span:
    trace_id: bytes
    span_id: bytes
    parent: bytes
    name: str
    kind: int  # OTLP enum: 1 internal, 2 server, 3 client
    start_ns: int
    end_ns: int
    attrs: dict[str, Any]
    status: int = 0
    events: list[tuple[str, int, dict[str, Any]]] = field(default_factory=list)


RESOURCE = {
    "service.name": "assistant-api", "service.version": "2.14.1",
    "service.instance.id": "assistant-api-7d9c6-xk2lp", "deployment.environment.name": "prod",
    "cloud.provider": "aws", "cloud.platform": "aws_ecs", "cloud.region": "us-east-1",
    "host.name": "ip-10-0-12-34.ec2.internal", "telemetry.sdk.language": "python",
    "telemetry.sdk.name": "opentelemetry", "telemetry.sdk.version": "1.39.1",
}


def _llm_attrs(rng: random.Random, request_id: str, streaming: bool) -> dict[str, Any]:
    model = rng.choice(MODELS)
    output_tokens = rng.randint(30, 1200)
    attrs: dict[str, Any] = {
        "rpc.system": "aws-api", "rpc.service": "Bedrock Runtime",
        "rpc.method": "ConverseStream" if streaming else "Converse",
        "aws.request_id": request_id, "aws.region": "us-east-1", "cloud.region": "us-east-1",
        "server.address": "bedrock-runtime.us-east-1.amazonaws.com", "server.port": 443,
        "http.response.status_code": 200, "retry_attempts": 0,
        "gen_ai.system": "aws.bedrock", "gen_ai.provider.name": "aws.bedrock",
        "gen_ai.operation.name": "chat", "gen_ai.request.model": model,
        "gen_ai.response.model": model, "gen_ai.request.max_tokens": 2048,
        "gen_ai.request.temperature": 0.2, "gen_ai.request.top_p": 0.9,
        "gen_ai.usage.input_tokens": rng.randint(200, 9000),
        "gen_ai.usage.output_tokens": output_tokens,
        "gen_ai.usage.cache_read.input_tokens": rng.choice((0, 0, 1024, 4096)),
        "gen_ai.usage.cache_creation.input_tokens": 0,
        "gen_ai.response.finish_reasons": [rng.choice(("end_turn", "end_turn", "max_tokens"))],
        "gen_ai.response.id": f"msg_bdrk_{rng.getrandbits(64):016x}",
        "gen_ai.request.stream": streaming,
    }
    if streaming:
        attrs["gen_ai.response.time_to_first_chunk"] = round(rng.uniform(0.2, 1.2), 3)
    return attrs


def make_trace(rng: random.Random, trace_no: int, pool_no: int, start_ns: int) -> list[Span]:
    """Root (tenant/route/workflow), retrieval, prompt, 1-2 LLM client spans, guardrail."""
    trace_id = MARKER + pool_no.to_bytes(2, "big") + trace_no.to_bytes(6, "big")
    ids = iter(range(1, 100))

    def child(name: str, kind: int, offset_ms: int, ms: int, attrs: dict[str, Any]) -> Span:
        return Span(trace_id, next(ids).to_bytes(8, "big"), root.span_id, name, kind,
                    start_ns + offset_ms * 1_000_000, start_ns + (offset_ms + ms) * 1_000_000, attrs)

    root = Span(trace_id, next(ids).to_bytes(8, "big"), b"", "POST /v1/chat", 2, start_ns,
                start_ns + 4_000_000_000, {
                    "http.request.method": "POST", "http.route": "/v1/chat",
                    "url.scheme": "https", "http.response.status_code": 200,
                    "tenant.id": rng.choice(TENANTS), "route": rng.choice(ROUTES),
                    "workflow.name": rng.choice(WORKFLOWS), "user.id": f"user-{rng.randint(1, 5000)}",
                    "feature": "answer", "client.address": "10.0.3.17",
                })
    spans = [root, child("retrieve_documents", 1, 5, 80, {
        "db.system": "opensearch", "db.operation": "search", "retrieval.top_k": 8,
        "retrieval.documents": 8, "server.address": "vpc-search.us-east-1.es.amazonaws.com",
    }), child("render_prompt", 1, 90, 3, {
        "prompt.template": "support-answer", "prompt.version": "v7", "prompt.tokens_estimate": 2300,
    })]
    for n in range(rng.choice((1, 1, 2))):
        streaming = rng.random() < 0.5
        request_id = f"{MARKER_HEX.decode()}-{pool_no:04x}-{trace_no:06x}-{n}"
        llm = child("chat " + rng.choice(MODELS), 3, 100 + n * 1500, 1400, _llm_attrs(rng, request_id, streaming))
        spans.append(llm)
    spans.append(child("apply_guardrail", 3, 3400, 150, {
        "rpc.system": "aws-api", "rpc.service": "Bedrock Runtime", "rpc.method": "ApplyGuardrail",
        "guardrail.id": "gr-3f9a", "guardrail.version": "4", "guardrail.action": "NONE",
        "server.address": "bedrock-runtime.us-east-1.amazonaws.com", "cloud.region": "us-east-1",
    }))
    return spans


def make_spans(pool_no: int, count: int = SPANS_PER_REQUEST) -> list[Span]:
    rng = random.Random(1000 + pool_no)
    start = int(time.time() * 1e9) - 3_600_000_000_000
    spans: list[Span] = []
    for trace_no in itertools.count():
        spans.extend(make_trace(rng, trace_no, pool_no, start + trace_no * 7_000_000))
        if len(spans) >= count:
            return spans[:count]  # a batch cuts its last trace, as a real exporter's does
    raise AssertionError("unreachable")


# -- encodings ---------------------------------------------------------------------------


def to_protobuf(spans: list[Span]) -> bytes:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue

    def value(v: Any) -> AnyValue:
        if isinstance(v, bool):
            return AnyValue(bool_value=v)
        if isinstance(v, int):
            return AnyValue(int_value=v)
        if isinstance(v, float):
            return AnyValue(double_value=v)
        if isinstance(v, list):
            return AnyValue(array_value=ArrayValue(values=[value(x) for x in v]))
        return AnyValue(string_value=str(v))

    def kvs(attrs: dict[str, Any]) -> list[KeyValue]:
        return [KeyValue(key=k, value=value(v)) for k, v in attrs.items()]

    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    rs.resource.attributes.extend(kvs(RESOURCE))
    ss = rs.scope_spans.add()
    ss.scope.name, ss.scope.version = "opentelemetry.instrumentation.botocore.bedrock-runtime", "0.60b1"
    for s in spans:
        pb = ss.spans.add(trace_id=s.trace_id, span_id=s.span_id, parent_span_id=s.parent, name=s.name,
                          kind=s.kind, start_time_unix_nano=s.start_ns, end_time_unix_nano=s.end_ns)
        pb.attributes.extend(kvs(s.attrs))
        pb.status.code = s.status
    return req.SerializeToString()


def to_json(spans: list[Span]) -> bytes:
    """OTLP/JSON as the spec writes it: hex ids, int64 as strings, camelCase."""

    def value(v: Any) -> dict[str, Any]:
        if isinstance(v, bool):
            return {"boolValue": v}
        if isinstance(v, int):
            return {"intValue": str(v)}
        if isinstance(v, float):
            return {"doubleValue": v}
        if isinstance(v, list):
            return {"arrayValue": {"values": [value(x) for x in v]}}
        return {"stringValue": str(v)}

    def kvs(attrs: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"key": k, "value": value(v)} for k, v in attrs.items()]

    doc = {"resourceSpans": [{
        "resource": {"attributes": kvs(RESOURCE)},
        "scopeSpans": [{
            "scope": {"name": "opentelemetry.instrumentation.botocore.bedrock-runtime", "version": "0.60b1"},
            "spans": [{
                "traceId": s.trace_id.hex(), "spanId": s.span_id.hex(),
                **({"parentSpanId": s.parent.hex()} if s.parent else {}),
                "name": s.name, "kind": s.kind, "startTimeUnixNano": str(s.start_ns),
                "endTimeUnixNano": str(s.end_ns), "attributes": kvs(s.attrs), "status": {"code": s.status},
            } for s in spans],
        }],
    }]}
    return json.dumps(doc, separators=(",", ":")).encode()


def payload_pool(protocol: str) -> list[bytes]:
    encode = to_json if protocol == "json" else to_protobuf
    return [encode(make_spans(i)) for i in range(POOL)]


def renumber(payload: bytes, seq: int) -> bytes:
    """The payload with every trace id and request id made unique to this send."""
    new = (0x4000_0000_0000_0000 | seq).to_bytes(8, "big")
    return payload.replace(MARKER, new).replace(MARKER_HEX, new.hex().encode())


# -- load generator (its own process, pinned to the other core) -----------------------------


class Sender:
    """One connection to the server; `send` returns True when the spans were acknowledged."""

    def __init__(self, protocol: str, ports: dict[str, int]) -> None:
        self.protocol = protocol
        if protocol == "grpc":
            import grpc

            self._channel = grpc.insecure_channel(
                f"127.0.0.1:{ports['grpc_port']}",
                options=[("grpc.use_local_subchannel_pool", 1), ("grpc.max_send_message_length", 64 << 20)],
            )
            self._export = self._channel.unary_unary(GRPC_METHOD)  # bytes in, bytes out
        else:
            import http.client

            self._http = http.client.HTTPConnection("127.0.0.1", ports["http_port"], timeout=60)
            self._headers = {"Content-Type": "application/json" if protocol == "json"
                             else "application/x-protobuf"}

    def send(self, body: bytes) -> bool:
        if self.protocol == "grpc":
            import grpc

            try:
                self._export(body, timeout=60)
            except grpc.RpcError:
                return False
            return True
        self._http.request("POST", "/v1/traces", body=body, headers=self._headers)
        response = self._http.getresponse()
        response.read()
        return response.status == 200

    def close(self) -> None:
        if self.protocol == "grpc":
            self._channel.close()
        else:
            self._http.close()


@dataclass
class Phase:
    acked_spans: int = 0
    failed: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        lat = sorted(self.latencies_ms)
        return {
            "spans_per_s": self.acked_spans / self.seconds if self.seconds else 0.0,
            "acked_spans": self.acked_spans, "failed": self.failed, "requests": len(lat),
            "p50_ms": _percentile(lat, 0.50), "p99_ms": _percentile(lat, 0.99),
        }


def _percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_phase(senders: list[Sender], pool: list[bytes], seqs: Iterator[int], seconds: float,
              rate_per_s: float | None) -> Phase:
    """Closed loop when rate is None; otherwise open loop at `rate_per_s` requests/s."""
    phase, lock = Phase(), threading.Lock()
    start = time.perf_counter()
    deadline = start + seconds
    slots = itertools.count()

    def worker(sender: Sender) -> None:
        while True:
            seq = next(seqs)
            body = renumber(pool[seq % len(pool)], seq)
            if rate_per_s is None:
                began = time.perf_counter()
            else:
                began = start + next(slots) / rate_per_s  # latency counts from the schedule
                time.sleep(max(0.0, began - time.perf_counter()))
            if began >= deadline:
                return
            ok = sender.send(body)
            elapsed = time.perf_counter() - began
            with lock:
                phase.latencies_ms.append(elapsed * 1000)
                if ok:
                    phase.acked_spans += SPANS_PER_REQUEST
                else:
                    phase.failed += 1
            if not ok:
                time.sleep(0.05)  # pushed back (429/503/RESOURCE_EXHAUSTED): the exporter's retry pause

    threads = [threading.Thread(target=worker, args=(s,)) for s in senders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    phase.seconds = time.perf_counter() - start
    return phase


def load_generator(protocol: str, ports: dict[str, int], plan: dict[str, float], out: Any) -> None:
    """Entry point of the load process: warm up, full load, then half the measured rate."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {LOAD_CORE})
    pool = payload_pool(protocol)
    seqs = itertools.count(1)
    senders = [Sender(protocol, ports) for _ in range(int(plan["connections"]))]
    try:
        run_phase(senders, pool, seqs, plan["warmup_s"], None)
        full = run_phase(senders, pool, seqs, plan["full_s"], None).summary()
        half_rate = full["spans_per_s"] / 2 / SPANS_PER_REQUEST
        senders += [Sender(protocol, ports) for _ in range(int(plan["connections"]))]
        half = run_phase(senders, pool, seqs, plan["half_s"], max(half_rate, 0.5)).summary()
    finally:
        for s in senders:
            s.close()
    out.send({"full": full, "half": half, "payload_bytes": statistics.mean(len(p) for p in pool),
              "sent_seqs": next(seqs) - 1})


# -- server ------------------------------------------------------------------------------


def _pin_server() -> None:
    os.sched_setaffinity(0, {SERVER_CORE})


def start_server(db: Path, decoder: str) -> tuple[subprocess.Popen[bytes], dict[str, int]]:
    env = {**os.environ, "OUTCROP_JOBS__ENABLED": "false", "PYTHONPATH": str(ROOT), "OUTCROP_DECODER": decoder}
    cmd = [sys.executable, "-m", "outcrop", "serve", "--db", str(db),
           "--http-port", "0", "--grpc-port", "0", "--api-port", "0"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            preexec_fn=_pin_server if hasattr(os, "sched_setaffinity") else None)
    info_path = Path(str(db) + ".server.json")
    deadline = time.monotonic() + 60
    while not info_path.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"server did not start (exit code {proc.poll()})")
        time.sleep(0.05)
    info = json.loads(info_path.read_text())
    return proc, {"http_port": info["http_port"], "grpc_port": info["grpc_port"]}


def peak_rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def bench_protocol(protocol: str, decoder: str, plan: dict[str, float], tmp: Path) -> dict[str, Any]:
    db = tmp / f"{protocol}-{decoder}.duckdb"
    proc, ports = start_server(db, decoder)
    try:
        ctx = mp.get_context("spawn")
        receiver, sender = ctx.Pipe(duplex=False)
        load = ctx.Process(target=load_generator, args=(protocol, ports, plan, sender))
        load.start()
        result: dict[str, Any] = receiver.recv()
        load.join()
        result["rss_bytes"] = peak_rss_bytes(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute("SELECT count(*) FROM spans").fetchone()
        result["rows"] = int(row[0]) if row else 0
    finally:
        con.close()
    return result


# -- in-run ceiling: the same work with no server -------------------------------------------


def ceiling(protocol: str, decoder: str, requests: int, tmp: Path) -> float:
    """decode + normalise + insert + COMMIT in commit groups of GROUP requests, one thread."""
    from outcrop.collector.decode import native, otlp
    from outcrop.collector.normalize.attribution import key_plan
    from outcrop.collector.normalize.columns import typed_keys
    from outcrop.collector.span_batch import SpanWrite, build_span_batch
    from outcrop.collector.span_columns import SpanColumns, SpanColumnsWrite
    from outcrop.core.settings import AttributionSettings
    from outcrop.core.store.writer import apply_migrations, connect

    pool, keys, now = payload_pool(protocol), AttributionSettings(), datetime.now()
    typed = typed_keys(key_plan(keys))
    con = connect(str(tmp / f"ceiling-{protocol}-{decoder}.duckdb"), read_only=False)
    apply_migrations(con)
    bodies = [renumber(pool[i % POOL], i + 1) for i in range(requests)]

    def write(body: bytes) -> Any:
        if decoder == "native":
            decode = native.decode_json_batch if protocol == "json" else native.decode_protobuf_batch
            return SpanColumnsWrite(SpanColumns(decode(body, 16 * 1024, typed=typed).batch, keys, None, now), now)
        decode = otlp.decode_json if protocol == "json" else otlp.decode_protobuf
        return SpanWrite(build_span_batch(decode(body, 16 * 1024).records, keys, bound_tenant=None,
                                          received_at=now), now)

    start = time.perf_counter()
    for first in range(0, requests, GROUP):
        writes = [write(body) for body in bodies[first:first + GROUP]]
        con.begin()
        type(writes[0]).write_many(con, writes)
        con.commit()
    seconds = time.perf_counter() - start
    con.close()
    return requests * SPANS_PER_REQUEST / seconds


def insert_ceiling(requests: int, tmp: Path) -> float:
    """The DuckDB Arrow insert alone: prebuilt tables, INSERT spans + llm_calls, COMMIT per group."""
    from outcrop.collector.decode.otlp import decode_protobuf
    from outcrop.collector.span_batch import build_span_batch
    from outcrop.core.settings import AttributionSettings
    from outcrop.core.store.writer import apply_migrations, connect

    pool, keys, now = payload_pool("protobuf"), AttributionSettings(), datetime.now()
    batches = [build_span_batch(decode_protobuf(renumber(pool[i % POOL], i + 1), 16 * 1024).records,
                                keys, bound_tenant=None, received_at=now) for i in range(requests)]
    con = connect(str(tmp / "ceiling-insert.duckdb"), read_only=False)
    apply_migrations(con)
    import pyarrow as pa

    start = time.perf_counter()
    for first in range(0, requests, GROUP):
        group = batches[first:first + GROUP]
        con.begin()
        con.register("_in_spans", pa.concat_tables([b.spans for b in group]))
        con.execute("INSERT INTO spans BY NAME SELECT * FROM _in_spans ON CONFLICT DO NOTHING")
        con.register("_in_calls", pa.concat_tables([b.calls for b in group]))
        con.execute("INSERT INTO llm_calls BY NAME SELECT * FROM _in_calls ON CONFLICT DO NOTHING")
        con.commit()
    seconds = time.perf_counter() - start
    con.close()
    return requests * SPANS_PER_REQUEST / seconds


# -- report ------------------------------------------------------------------------------


def report(results: dict[tuple[str, str], dict[str, Any]], ceilings: dict[tuple[str, str], float],
           insert_only: float) -> None:
    print()
    head = (f"{'protocol':<10}{'decoder':<8}{'spans/s':>10}{'target':>9}{'p50 ms':>9}{'p99 ms':>9}"
            f"{'½ p50':>9}{'½ p99':>9}{'RSS MiB':>9}{'ceiling/s':>11}{'srv/ceil':>9}{'vs py':>7}")
    print(head)
    print("-" * len(head))
    for (protocol, decoder), r in results.items():
        full, half = r["full"], r["half"]
        python = results.get((protocol, "python"))
        vs_python = full["spans_per_s"] / python["full"]["spans_per_s"] if python else float("nan")
        print(f"{protocol:<10}{decoder:<8}{full['spans_per_s']:>10,.0f}{TARGETS[protocol]:>9,}"
              f"{full['p50_ms']:>9.1f}{full['p99_ms']:>9.1f}{half['p50_ms']:>9.1f}{half['p99_ms']:>9.1f}"
              f"{r['rss_bytes'] / 2**20:>9.0f}{ceilings[(protocol, decoder)]:>11,.0f}"
              f"{full['spans_per_s'] / ceilings[(protocol, decoder)]:>9.2f}{vs_python:>7.2f}")
    print(f"\nceiling, DuckDB Arrow insert only (spans + llm_calls, groups of {GROUP} requests): "
          f"{insert_only:,.0f} spans/s")
    print("½ = open loop at half the measured maximum, latency from the scheduled send time; "
          "vs py = spans/s against the Python decoder's on the same protocol")
    for (protocol, decoder), r in results.items():
        full, half = r["full"], r["half"]
        checks = [
            ("throughput", full["spans_per_s"] >= TARGETS[protocol]),
            ("ceiling ratio", full["spans_per_s"] / ceilings[(protocol, decoder)] >= CEILING_RATIO_TARGET),
            ("p99 at half load", half["p99_ms"] < P99_TARGET_MS),
            ("RSS", r["rss_bytes"] < RSS_TARGET_BYTES),
            ("durable", r["rows"] >= full["acked_spans"] + half["acked_spans"]),
        ]
        verdict = ", ".join(f"{name} {'ok' if ok else 'MISSED'}" for name, ok in checks)
        print(f"{protocol:<9} {decoder:<7} {verdict}; {r['rows']:,} rows stored, "
              f"{full['failed'] + half['failed']} pushed back, {r['payload_bytes'] / 1024:.0f} KiB/request")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short phases (~3 minutes in all)")
    parser.add_argument("--protocols", default="protobuf,json,grpc")
    parser.add_argument("--decoders", default="native,python")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--half-seconds", type=float, help="length of the half-load phase (default 60, quick 5)")
    args = parser.parse_args()
    if (os.cpu_count() or 1) < 2:
        sys.exit("needs two cores: one for the server, one for the load generator")
    plan = {"connections": args.connections, "warmup_s": 2.0 if args.quick else 3.0,
            "full_s": 6.0 if args.quick else 20.0,
            "half_s": args.half_seconds or (5.0 if args.quick else 60.0)}
    ceiling_requests = 32 if args.quick else 96
    protocols, decoders = args.protocols.split(","), args.decoders.split(",")
    print(f"{os.cpu_count()} cores, {SPANS_PER_REQUEST} spans/request, {args.connections} connections, "
          f"full {plan['full_s']:.0f} s, half {plan['half_s']:.0f} s")
    with tempfile.TemporaryDirectory(prefix="outcrop-bench-") as name:
        tmp = Path(name)
        runs = [(p, d) for p in protocols for d in decoders]
        results = {(p, d): bench_protocol(p, d, plan, tmp) for p, d in runs}
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {SERVER_CORE})  # the ceiling gets the server's one core
        kinds = {"grpc": "protobuf"}
        measured = {(k, d): ceiling(k, d, ceiling_requests, tmp) for k, d in {(kinds.get(p, p), d) for p, d in runs}}
        ceilings = {(p, d): measured[(kinds.get(p, p), d)] for p, d in runs}
        insert_only = insert_ceiling(ceiling_requests, tmp)
    report(results, ceilings, insert_only)


if __name__ == "__main__":
    main()
