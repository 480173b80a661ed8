"""Run real instrumentation packages and capture the spans they emit.

Golden tests need spans exactly as the published instrumentations write them, not
dicts typed from memory. Each helper instruments boto3 with one package, runs a
callable against the fake Bedrock runtime, uninstruments, and hands back the finished
spans as `SpanRecord`s (the receiver's plain form) — and as JSON for golden files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from opentelemetry import baggage as otel_baggage
from opentelemetry import context as otel_context
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from outcrop.core.records import SpanRecord
from tests.fakes.bedrock_runtime import FakeBedrockRuntime, FakeReply

REGION = "us-east-1"
# tenant.id on the resource is the fallback; a span's own tenant (from baggage) wins.
RESOURCE = {
    "service.name": "golden-app",
    "deployment.environment.name": "test",
    "tenant.id": "resource-tenant",
}

_KINDS = {
    SpanKind.INTERNAL: "internal",
    SpanKind.SERVER: "server",
    SpanKind.CLIENT: "client",
    SpanKind.PRODUCER: "producer",
    SpanKind.CONSUMER: "consumer",
}
_STATUS = {StatusCode.UNSET: "unset", StatusCode.OK: "ok", StatusCode.ERROR: "error"}


def _instrumentor(producer: str) -> Any:
    # Imported lazily: two of the packages share the `opentelemetry.instrumentation`
    # namespace and each patches botocore globally while instrumented.
    if producer == "botocore":
        from opentelemetry.instrumentation.botocore import BotocoreInstrumentor

        return BotocoreInstrumentor()
    if producer == "openinference":
        from openinference.instrumentation.bedrock import BedrockInstrumentor as OIBedrock

        return OIBedrock()
    if producer == "openllmetry":
        from opentelemetry.instrumentation.bedrock import BedrockInstrumentor

        return BedrockInstrumentor()
    raise ValueError(f"unknown producer {producer!r}")


class BaggageToAttributes(SpanProcessor):
    """Copies baggage entries onto each span as it starts, as an application's baggage
    span processor would; this is how tenant/route reach instrumentation spans."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        for key, value in otel_baggage.get_all(parent_context).items():
            span.set_attribute(key, str(value))


@contextmanager
def instrumented(
    producer: str, resource: Mapping[str, Any] | None = None
) -> Iterator[InMemorySpanExporter]:
    """Instrument boto3 with `producer` for the duration of the block."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create(dict(resource or RESOURCE)))
    provider.add_span_processor(BaggageToAttributes())
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = _instrumentor(producer)
    instrumentor.instrument(tracer_provider=provider)
    try:
        yield exporter
    finally:
        instrumentor.uninstrument()
        provider.shutdown()


def bedrock_client(endpoint_url: str, retries: int = 1) -> BaseClient:
    """A bedrock-runtime client aimed at the fake, with dummy credentials."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    # total_max_attempts counts the first try; legacy `max_attempts` counts retries only.
    config = Config(retries={"mode": "standard", "total_max_attempts": retries})
    return boto3.client(
        "bedrock-runtime",
        region_name=REGION,
        endpoint_url=endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=config,
    )


def capture(
    producer: str,
    endpoint_url: str,
    call: Callable[[BaseClient], Any],
    resource: Mapping[str, Any] | None = None,
    retries: int = 1,
    baggage: Mapping[str, str] | None = None,
) -> list[SpanRecord]:
    """Run `call(client)` under `producer`'s instrumentation; return its spans.

    Exceptions from the call (throttles, validation errors) are swallowed: the span
    that recorded them is what the test wants.
    """
    with instrumented(producer, resource) as exporter:
        client = bedrock_client(endpoint_url, retries)
        ctx = otel_context.get_current()
        for key, value in (baggage or {}).items():
            ctx = otel_baggage.set_baggage(key, value, ctx)
        token = otel_context.attach(ctx)
        try:
            call(client)
        except Exception:  # noqa: BLE001 - the error is recorded on the span
            pass
        finally:
            otel_context.detach(token)
        spans = exporter.get_finished_spans()
    return [span_record(span) for span in spans]


def span_record(span: ReadableSpan) -> SpanRecord:
    """Convert an SDK span to the receiver's `SpanRecord` (ids as lowercase hex)."""
    ctx = span.get_span_context()
    assert ctx is not None
    scope = span.instrumentation_scope
    return SpanRecord(
        trace_id=format(ctx.trace_id, "032x"),
        span_id=format(ctx.span_id, "016x"),
        parent_span_id=format(span.parent.span_id, "016x") if span.parent else None,
        name=span.name,
        kind=_KINDS.get(span.kind, "unspecified"),
        start_ns=span.start_time or 0,
        end_ns=span.end_time or 0,
        status_code=_STATUS[span.status.status_code],
        status_message=span.status.description,
        attributes=_plain(span.attributes),
        resource_attributes=_plain(span.resource.attributes),
        events=[
            {"name": e.name, "time_ns": e.timestamp, "attributes": _plain(e.attributes)}
            for e in span.events
        ],
        scope_name=scope.name if scope else None,
        scope_version=scope.version if scope else None,
    )


def _plain(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    # OTel stores sequences as tuples; OTLP decoding yields lists.
    return {k: list(v) if isinstance(v, tuple) else v for k, v in (attributes or {}).items()}


def record_to_json(rec: SpanRecord) -> dict[str, Any]:
    return {
        "trace_id": rec.trace_id,
        "span_id": rec.span_id,
        "parent_span_id": rec.parent_span_id,
        "name": rec.name,
        "kind": rec.kind,
        "start_ns": rec.start_ns,
        "end_ns": rec.end_ns,
        "status_code": rec.status_code,
        "status_message": rec.status_message,
        "attributes": rec.attributes,
        "resource_attributes": rec.resource_attributes,
        "events": rec.events,
        "scope_name": rec.scope_name,
        "scope_version": rec.scope_version,
    }


def record_from_json(obj: Mapping[str, Any]) -> SpanRecord:
    names = {f.name for f in fields(SpanRecord)}
    return SpanRecord(**{k: v for k, v in obj.items() if k in names})


# --- golden scenarios: the same calls for every real producer ------------------------

MODEL = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
GOLDEN_DIR = Path(__file__).parent / "testdata" / "otlp"
PRODUCERS = ("botocore", "openinference", "openllmetry")
_MESSAGES = [{"role": "user", "content": [{"text": "Summarise the incident."}]}]
_ANTHROPIC_BODY = json.dumps(
    {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 512,
        "messages": [{"role": "user", "content": "Summarise the incident."}],
    }
)


def converse(client: BaseClient) -> None:
    client.converse(modelId=MODEL, messages=_MESSAGES)


def converse_stream(client: BaseClient) -> None:
    for _event in client.converse_stream(modelId=MODEL, messages=_MESSAGES)["stream"]:
        pass


def invoke_model(client: BaseClient) -> None:
    client.invoke_model(modelId=MODEL, body=_ANTHROPIC_BODY)["body"].read()


def invoke_stream(client: BaseClient) -> None:
    response = client.invoke_model_with_response_stream(modelId=MODEL, body=_ANTHROPIC_BODY)
    for _event in response["body"]:
        pass


def apply_guardrail(client: BaseClient) -> None:
    # Not an inference call; the fake answers 404, which is fine for the span.
    client.apply_guardrail(
        guardrailIdentifier="gr-1",
        guardrailVersion="1",
        source="INPUT",
        content=[{"text": {"text": "hi"}}],
    )


@dataclass(frozen=True)
class Scenario:
    reply: FakeReply
    call: Callable[[BaseClient], Any]
    baggage: Mapping[str, str] = field(default_factory=dict)


# Every reply is Bedrock-shaped: input_tokens EXCLUDES cache reads and writes.
SCENARIOS: dict[str, Scenario] = {
    "converse_cached": Scenario(
        FakeReply(
            input_tokens=1000, cache_read_tokens=3000, cache_write_tokens=500, output_tokens=200
        ),
        converse,
        {"tenant.id": "acme", "app.route": "/support/summary"},
    ),
    "converse_stream": Scenario(
        FakeReply(input_tokens=1000, cache_read_tokens=3000, output_tokens=200, chunk_delay_s=0.01),
        converse_stream,
    ),
    "invoke_model": Scenario(
        FakeReply(input_tokens=1000, cache_read_tokens=3000, output_tokens=200), invoke_model
    ),
    "invoke_stream": Scenario(
        FakeReply(input_tokens=1000, cache_read_tokens=3000, output_tokens=200), invoke_stream
    ),
    "throttle": Scenario(FakeReply.throttle(), converse),
    "validation_error": Scenario(FakeReply.validation_error(), converse),
}


def run_scenario(producer: str, name: str) -> list[SpanRecord]:
    scenario = SCENARIOS[name]
    with FakeBedrockRuntime([scenario.reply]) as fake:
        return capture(producer, fake.endpoint_url, scenario.call, baggage=scenario.baggage)


def write_inputs() -> None:
    """Re-capture every real-producer golden input: `python -m tests.producers`."""
    GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
    for producer in PRODUCERS:
        for name in SCENARIOS:
            (span,) = run_scenario(producer, name)
            write_span(GOLDEN_DIR / f"{producer}_{name}.input.json", span)
    with FakeBedrockRuntime() as fake:
        (span,) = capture("botocore", fake.endpoint_url, apply_guardrail)
    write_span(GOLDEN_DIR / "botocore_apply_guardrail.input.json", span)


def write_span(path: Path, rec: SpanRecord) -> None:
    obj = {"_source": f"captured from {rec.scope_name} {rec.scope_version} by tests/producers.py"}
    obj |= record_to_json(rec)
    for event in obj["events"]:
        event["attributes"].pop("exception.stacktrace", None)  # machine-specific paths
    if isinstance(obj["status_message"], str):  # OpenInference puts the traceback here
        obj["status_message"] = obj["status_message"].split("Traceback (most recent call last)")[0]
    path.write_text(json.dumps(obj, indent=2, sort_keys=False) + "\n")


if __name__ == "__main__":
    write_inputs()
