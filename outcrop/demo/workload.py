"""Send a seeded synthetic Bedrock workload through the real OTel SDK and OTLP exporter.

Spans carry explicit past timestamps, so a few days of history arrive in seconds. The
LLM spans look like those of a Bedrock client instrumented with the OTel GenAI
conventions: `gen_ai.usage.input_tokens` is Bedrock's *uncached* count, with cache reads
and writes beside it, and ConverseStream spans carry the time to first chunk in seconds.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.semconv._incubating.attributes import aws_attributes, cloud_attributes
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as genai
from opentelemetry.semconv._incubating.attributes import rpc_attributes as rpc
from opentelemetry.semconv.attributes import (
    deployment_attributes,
    error_attributes,
    exception_attributes,
    server_attributes,
    service_attributes,
)
from opentelemetry.trace import Span, Status, StatusCode, Tracer
from opentelemetry.util.types import AttributeValue

from outcrop.demo import catalog, schedule
from outcrop.demo.invocation_logs import write_invocation_logs
from outcrop.demo.plan import Call, Planner, TracePlan

DEFAULT_TRACES_PER_HOUR = 60
# (phase, done, total), e.g. ("spans sent", 1200, 5000): for a progress display
PhaseProgress = Callable[[str, int, int], None]
FLUSH_EVERY_TRACES = 250
FLUSH_TIMEOUT_MS = 60_000


@dataclass(frozen=True)
class WorkloadSummary:
    traces: int  # traces exported
    spans: int  # spans the exporter delivered
    llm_calls: int  # model invocation attempts that reached Outcrop by a span or a log line
    per_tenant: dict[str, int]  # those attempts per tenant
    log_records: int  # invocation-log lines written


def run_workload(
    endpoint: str,
    *,
    now: datetime,
    history_days: float = 3.0,
    live_minutes: float = 10.0,
    traces_per_hour: int = DEFAULT_TRACES_PER_HOUR,
    seed: int = 7,
    log_dir: Path | None = None,
    headers: Mapping[str, str] | None = None,
    on_progress: PhaseProgress | None = None,
) -> WorkloadSummary:
    """Export the workload to `endpoint` (`http://HOST:PORT/v1/traces`; the path is added
    when missing) and, with `log_dir`, write the matching Bedrock invocation logs there.

    `on_progress` is told the spans emitted and the log records written as they go.
    Raises RuntimeError when any span could not be delivered.
    """
    plans = plan_workload(now=now, history_days=history_days, live_minutes=live_minutes,
                          traces_per_hour=traces_per_hour, seed=seed)
    traced = [p for p in plans if p.traced]
    spans = _export(traced, _traces_url(endpoint), headers, seed, on_progress)
    log_records = 0
    if log_dir is not None:
        log_records = write_invocation_logs([c for p in plans for c in p.calls if c.logged],
                                            log_dir, on_progress)
    seen = [c for p in plans for c in p.calls if p.traced or (log_dir is not None and c.logged)]
    per_tenant = Counter(c.tenant for c in seen)
    return WorkloadSummary(len(traced), spans, len(seen), dict(sorted(per_tenant.items())),
                           log_records)


def plan_workload(
    *, now: datetime, history_days: float, live_minutes: float, traces_per_hour: int, seed: int
) -> list[TracePlan]:
    """The whole workload as plain data, in start order; the same seed gives the same plans."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if history_days < 0 or live_minutes < 0 or traces_per_hour <= 0:
        raise ValueError("history_days and live_minutes must be >= 0, traces_per_hour > 0")
    now_ns = _ns(now)
    start_ns = _ns(now - timedelta(days=history_days))
    live_start_ns = max(start_ns, _ns(now - timedelta(minutes=live_minutes)))
    rng = random.Random(f"outcrop-demo:{seed}:schedule")
    bursts = schedule.bursts(rng, start_ns, live_start_ns, now_ns)
    requests = schedule.schedule(rng, start_ns, live_start_ns, now_ns, traces_per_hour, bursts)
    planner = Planner(random.Random(f"outcrop-demo:{seed}:plan"), now_ns, bursts)
    plans = [planner.plan(r) for r in requests]
    # A trace that started before `now` may end after it; keep only finished ones.
    return [p for p in plans if p.steps[0].end_ns <= now_ns]


def call_attributes(call: Call) -> dict[str, AttributeValue]:
    """The attributes of one model-call span, named as the installed semconv package names them."""
    attrs: dict[str, AttributeValue] = {
        genai.GEN_AI_PROVIDER_NAME: "aws.bedrock",
        genai.GEN_AI_SYSTEM: "aws.bedrock",  # the legacy key, still sent by botocore
        genai.GEN_AI_OPERATION_NAME: call.operation,
        genai.GEN_AI_REQUEST_MODEL: call.model_id,
        rpc.RPC_SYSTEM: "aws-api",
        rpc.RPC_SERVICE: "Bedrock Runtime",
        rpc.RPC_METHOD: call.rpc_method,
        aws_attributes.AWS_REQUEST_ID: call.request_id,
        cloud_attributes.CLOUD_REGION: call.region,
        server_attributes.SERVER_ADDRESS: f"bedrock-runtime.{call.region}.amazonaws.com",
    }
    if call.streamed:
        attrs[genai.GEN_AI_REQUEST_STREAM] = True
    if call.error_type is not None:
        attrs[error_attributes.ERROR_TYPE] = call.error_type
        return attrs
    attrs[genai.GEN_AI_USAGE_INPUT_TOKENS] = call.input_tokens
    if call.operation == "embeddings":
        return attrs
    attrs[genai.GEN_AI_USAGE_OUTPUT_TOKENS] = call.output_tokens
    if call.model.supports_cache:
        attrs[genai.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = call.cache_read_tokens
        attrs[genai.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = call.cache_write_tokens
    if call.finish_reason is not None:
        attrs[genai.GEN_AI_RESPONSE_FINISH_REASONS] = (call.finish_reason,)
    # Native-API streams (InvokeModelWithResponseStream) report no first-chunk time on the
    # span, as with botocore; their TTFT comes from the invocation log's firstByteLatency.
    if call.rpc_method == "ConverseStream" and call.ttft_ms is not None:
        attrs[genai.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = call.ttft_ms / 1000.0
    return attrs


class _SeededIds(IdGenerator):
    """Trace and span ids from a seeded generator, so reruns produce the same ids."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def generate_span_id(self) -> int:
        return self._rng.getrandbits(64) or 1

    def generate_trace_id(self) -> int:
        return self._rng.getrandbits(128) or 1


class _CountingExporter(SpanExporter):
    """Wraps the OTLP exporter to count delivered and failed spans."""

    def __init__(self, inner: SpanExporter) -> None:
        self._inner = inner
        self.delivered = 0
        self.failed = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        result = self._inner.export(spans)
        if result is SpanExportResult.SUCCESS:
            self.delivered += len(spans)
        else:
            self.failed += len(spans)
        return result

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._inner.force_flush(timeout_millis)


class _Pipeline:
    """One TracerProvider per demo service (each with its own `service.name`)."""

    def __init__(self, url: str, headers: Mapping[str, str] | None, seed: int) -> None:
        self._ids = _SeededIds(random.Random(f"outcrop-demo:{seed}:ids"))
        self._url, self._headers = url, dict(headers or {})
        self._providers: dict[str, TracerProvider] = {}
        self._tracers: dict[str, Tracer] = {}
        self._exporters: list[_CountingExporter] = []

    def tracer(self, service: str) -> Tracer:
        if service not in self._tracers:
            provider = TracerProvider(resource=_resource(service), id_generator=self._ids)
            exporter = _CountingExporter(OTLPSpanExporter(endpoint=self._url,
                                                          headers=self._headers))
            provider.add_span_processor(BatchSpanProcessor(
                exporter, max_queue_size=16_384, max_export_batch_size=1_024,
                schedule_delay_millis=200))
            self._providers[service], self._exporters = provider, [*self._exporters, exporter]
            self._tracers[service] = provider.get_tracer(catalog.SCOPE_NAME, catalog.SCOPE_VERSION)
        return self._tracers[service]

    def flush(self) -> None:
        for provider in self._providers.values():
            provider.force_flush(FLUSH_TIMEOUT_MS)
        failed = sum(e.failed for e in self._exporters)
        if failed:
            raise RuntimeError(f"{failed} spans could not be exported to {self._url}")

    def shutdown(self) -> int:
        """Stop every provider; the number of spans delivered."""
        for provider in self._providers.values():
            provider.shutdown()
        return sum(e.delivered for e in self._exporters)


def _export(plans: Sequence[TracePlan], url: str, headers: Mapping[str, str] | None,
            seed: int, on_progress: PhaseProgress | None = None) -> int:
    pipeline = _Pipeline(url, headers, seed)
    emitted, total = 0, sum(len(p.steps) for p in plans)
    try:
        for i, plan in enumerate(plans, start=1):
            emitted += _emit(plan, pipeline.tracer(plan.service))
            if on_progress is not None:
                on_progress("spans sent", emitted, total)
            if i % FLUSH_EVERY_TRACES == 0:
                pipeline.flush()  # bounded queue: flush before it could ever overflow
        pipeline.flush()
    finally:
        delivered = pipeline.shutdown()
    if delivered != emitted:
        raise RuntimeError(f"only {delivered} of {emitted} spans reached {url}")
    return delivered


def _emit(plan: TracePlan, tracer: Tracer) -> int:
    spans: list[Span] = []
    for step in plan.steps:
        parent = Context() if step.parent is None else trace.set_span_in_context(spans[step.parent])
        attrs = step.attributes if step.call is None else call_attributes(step.call)
        span = tracer.start_span(step.name, context=parent, kind=step.kind, attributes=attrs,
                                 start_time=step.start_ns)
        if step.error is not None:
            span.set_status(Status(StatusCode.ERROR, step.error))
            if step.call is not None and step.call.error_type is not None:
                span.add_event("exception", {
                    exception_attributes.EXCEPTION_TYPE: step.call.error_type,
                    exception_attributes.EXCEPTION_MESSAGE: step.error,
                }, timestamp=step.end_ns)
        span.end(end_time=step.end_ns)
        spans.append(span)
    return len(spans)


def _resource(service: str) -> Resource:
    return Resource.create({
        service_attributes.SERVICE_NAME: service,
        service_attributes.SERVICE_VERSION: "2.4.1",
        deployment_attributes.DEPLOYMENT_ENVIRONMENT_NAME: catalog.ENVIRONMENT,
        cloud_attributes.CLOUD_PROVIDER: "aws",
    })


def _traces_url(endpoint: str) -> str:
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith("/v1/traces") else f"{endpoint}/v1/traces"


def _ns(when: datetime) -> int:
    return int(when.timestamp() * 1_000_000) * 1_000
