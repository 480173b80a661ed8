"""Benchmark: decoding OTLP trace payloads, the pure-Python decoder (the baseline) against
the native one (outcrop_native), on the same payloads, decode only, one thread.

Each payload is one export request of N spans shaped like an LLM call's (GenAI attributes,
a resource, one event); both protobuf and OTLP/JSON. Prints spans/s for the Python decoder,
for the native decoder to its Arrow batch, and for the native decoder through the adapter
to the same `Decoded` the Python one returns, each with its ratio to the baseline.

    .venv/bin/python bench/native_decode.py [--spans 500] [--payloads 40] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from otlp_payloads import NOW_NS, llm_attrs, request, sid, span  # noqa: E402
from test_otlp_decode_limits import otlp_json  # noqa: E402

from outcrop.collector.decode import native, otlp  # noqa: E402

LIMIT = 4096


def payloads(n_payloads: int, spans: int) -> list[Any]:
    out = []
    for p in range(n_payloads):
        trace = f"{p + 1:032x}"
        batch = []
        for i in range(spans):
            s = span(trace, sid(i + 1), parent=sid(i) if i else None, name="chat claude",
                     start_ns=NOW_NS + i, attrs=llm_attrs(f"req-{p}-{i}", **{
                         "gen_ai.response.finish_reasons": "end_turn", "gen_ai.usage.cache_read_input_tokens": 3000,
                         "gen_ai.request.temperature": 0.2, "outcrop.tenant": f"t{i % 7}",
                         "gen_ai.prompt": "Summarise the incident. " * 8}))
            s.events.add(name="gen_ai.content.first_token", time_unix_nano=NOW_NS + i + 50)
            batch.append(s)
        out.append(request(*batch, resource={"service.name": "bench", "deployment.environment": "prod"}))
    return out


def rate(decode: Callable[[bytes], Any], bodies: list[bytes], spans: int, repeat: int) -> float:
    """Median spans/s over `repeat` passes through every body."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for body in bodies:
            decode(body)
        times.append(time.perf_counter() - t0)
    return spans * len(bodies) / statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spans", type=int, default=500, help="spans per payload")
    parser.add_argument("--payloads", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not native.AVAILABLE:
        sys.exit("outcrop_native is not built: run scripts/setup.sh with cargo on PATH")
    reqs = payloads(args.payloads, args.spans)
    decoder = native.native_decoder(LIMIT)
    print(f"{args.payloads} payloads x {args.spans} spans, decode only, one thread; {native.decoder_name()}")
    for kind, bodies in (("protobuf", [r.SerializeToString() for r in reqs]),
                         ("json", [otlp_json(r) for r in reqs])):
        size = sum(map(len, bodies)) / len(bodies)
        assert getattr(decoder, f"decode_{kind}")(bodies[0]).deferred is None  # decided natively
        python = getattr(otlp, f"decode_{kind}")
        adapter = getattr(native, f"decode_{kind}")
        to_batch = getattr(decoder, f"decode_{kind}")
        base = rate(lambda b, f=python: f(b, LIMIT), bodies, args.spans, args.repeat)  # type: ignore[misc]
        batch = rate(to_batch, bodies, args.spans, args.repeat)
        records = rate(lambda b, f=adapter: f(b, LIMIT), bodies, args.spans, args.repeat)  # type: ignore[misc]
        print(f"{kind} ({size / 1024:.0f} KiB a payload)")
        print(f"  python decoder (baseline)    {base:>12,.0f} spans/s   1.00x")
        print(f"  native -> Arrow batch        {batch:>12,.0f} spans/s   {batch / base:.2f}x")
        print(f"  native -> Decoded (adapter)  {records:>12,.0f} spans/s   {records / base:.2f}x")


if __name__ == "__main__":
    main()
