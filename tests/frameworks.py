"""Run real agent frameworks and LLM SDKs against the fake Bedrock runtime; capture their spans.

tests/producers.py instruments a bare boto3 client. The producers here sit higher up —
Strands Agents, OpenLIT, LangChain (`ChatBedrockConverse`) under OpenInference's or
OpenLLMetry's instrumentation, the Langfuse SDK — and each writes its own spans, with
its own idea of input tokens, TTFT units and errors. Each runner makes one call for a
scenario and returns every finished span; `llm_span` picks the one that is the model call.

No network: every call goes to the fake on loopback, and the packages' own telemetry and
price-list downloads are switched off (`quiet_environment`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.config import Config
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from outcrop.core.records import SpanRecord
from tests.fakes.bedrock_runtime import FakeBedrockRuntime, FakeReply
from tests.producers import MODEL, REGION, RESOURCE, span_record

# The fake's known answers, checked by hand in the expected files: Bedrock reports
# inputTokens without the cache and a totalTokens that includes it (1000 + 3000 + 200 + 150).
UNCACHED, CACHE_READ, CACHE_WRITE, OUTPUT = 1000, 3000, 200, 150
FIRST_TOKEN_DELAY_S = 0.2
TENANT, ROUTE = "acme", "/support/summary"

_CACHED = FakeReply(
    input_tokens=UNCACHED,
    cache_read_tokens=CACHE_READ,
    cache_write_tokens=CACHE_WRITE,
    output_tokens=OUTPUT,
)
FRAMEWORK_SCENARIOS: dict[str, FakeReply] = {
    "converse_cached": _CACHED,
    "converse_stream": FakeReply(
        input_tokens=UNCACHED,
        cache_read_tokens=CACHE_READ,
        cache_write_tokens=CACHE_WRITE,
        output_tokens=OUTPUT,
        first_token_delay_s=FIRST_TOKEN_DELAY_S,
    ),
    "throttle": FakeReply.throttle(),
}
# One try: the throttle scenario must produce one throttled span, not a retry loop.
_NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})

# Opt-outs of the packages' own phoning home, set before any of them is imported.
QUIET_ENV: Mapping[str, str] = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_EC2_METADATA_DISABLED": "true",
    "LANGCHAIN_TRACING_V2": "false",
    "LANGSMITH_TRACING": "false",
    "TRACELOOP_TELEMETRY": "false",
    "OPENLIT_DISABLE_TELEMETRY": "true",
    "LANGFUSE_TRACING_ENABLED": "true",
    "OTEL_SDK_DISABLED": "false",
}


@contextmanager
def quiet_environment() -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in QUIET_ENV}
    os.environ.update(QUIET_ENV)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _provider() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create(dict(RESOURCE)))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


# --- Strands Agents ------------------------------------------------------------------


def run_strands(scenario: str, endpoint_url: str) -> list[SpanRecord]:
    """One agent turn; Strands writes invoke_agent > execute_event_loop_cycle > chat spans."""
    from strands import Agent
    from strands.agent import ModelRetryStrategy
    from strands.models.bedrock import BedrockModel
    from strands.telemetry import tracer as strands_tracer

    provider, exporter = _provider()
    # Strands keeps one process-wide Tracer on the global provider; point it at ours.
    tracer = strands_tracer.get_tracer()
    saved = tracer.tracer_provider, tracer.tracer
    tracer.tracer_provider, tracer.tracer = provider, provider.get_tracer(tracer.service_name)
    try:
        model = BedrockModel(
            model_id=MODEL,
            region_name=REGION,
            endpoint_url=endpoint_url,
            streaming=scenario == "converse_stream",
            boto_client_config=_NO_RETRIES,
        )
        agent = Agent(
            model=model,
            callback_handler=None,
            trace_attributes={"tenant.id": TENANT, "app.route": ROUTE},
            retry_strategy=ModelRetryStrategy(max_attempts=1),
        )
        _swallow(lambda: agent("Summarise the incident."))
    finally:
        tracer.tracer_provider, tracer.tracer = saved
        provider.shutdown()
    return [span_record(span) for span in exporter.get_finished_spans()]


# --- OpenLIT --------------------------------------------------------------------------


def run_openlit(scenario: str, endpoint_url: str) -> list[SpanRecord]:
    """OpenLIT's Bedrock instrumentation alone, as `openlit.init()` would install it, but
    on our provider and without init's price-list download, metrics or exporters."""
    import botocore.client
    from openlit._config import OpenlitConfig
    from openlit.instrumentation.bedrock import BedrockInstrumentor
    from opentelemetry import trace
    from opentelemetry.instrumentation.utils import unwrap

    from tests.producers import _MESSAGES, bedrock_client

    provider, exporter = _provider()
    OpenlitConfig.reset_to_defaults()
    OpenlitConfig.disable_metrics = True
    OpenlitConfig.capture_message_content = False
    instrumentor = BedrockInstrumentor()
    # The instrumentor takes its tracer from the global provider, which a test process
    # cannot reset; hand it ours for the one call it makes.
    real_get_tracer = trace.get_tracer
    trace.get_tracer = lambda name, *args, **kwargs: provider.get_tracer(name, *args, **kwargs)  # type: ignore[assignment]
    try:
        instrumentor.instrument(disable_metrics=True, environment="test", application_name="golden-app")
    finally:
        trace.get_tracer = real_get_tracer
    try:
        client = bedrock_client(endpoint_url)
        if scenario == "converse_stream":
            # OpenLIT traces the stream only when the response object itself is iterated.
            _swallow(lambda: list(client.converse_stream(modelId=MODEL, messages=_MESSAGES)))
        else:
            _swallow(lambda: client.converse(modelId=MODEL, messages=_MESSAGES))
    finally:
        instrumentor.uninstrument()
        # OpenLIT's uninstrument leaves its two create_client wrappers in place.
        unwrap(botocore.client.ClientCreator, "create_client")
        unwrap(botocore.client.ClientCreator, "create_client")
        provider.shutdown()
    return [span_record(span) for span in exporter.get_finished_spans()]


# --- LangChain (langchain-aws ChatBedrockConverse) ----------------------------------------

# LangChain users put tenant and route in the run config's metadata.
LANGCHAIN_CONFIG: Mapping[str, Any] = {"metadata": {"tenant": TENANT, "route": ROUTE}}


def _langchain_call(scenario: str, endpoint_url: str, callbacks: list[Any] | None = None) -> None:
    from langchain_aws import ChatBedrockConverse

    from tests.producers import bedrock_client

    llm = ChatBedrockConverse(model=MODEL, client=bedrock_client(endpoint_url), region_name=REGION)
    config: dict[str, Any] = dict(LANGCHAIN_CONFIG) | {"callbacks": callbacks or []}
    if scenario == "converse_stream":
        _swallow(lambda: list(llm.stream("Summarise the incident.", config=config)))  # type: ignore[arg-type]
    else:
        _swallow(lambda: llm.invoke("Summarise the incident.", config=config))  # type: ignore[arg-type]


def _run_langchain_under(instrumentor: Any, scenario: str, endpoint_url: str) -> list[SpanRecord]:
    provider, exporter = _provider()
    instrumentor.instrument(tracer_provider=provider)
    try:
        _langchain_call(scenario, endpoint_url)
    finally:
        instrumentor.uninstrument()
        provider.shutdown()
    return [span_record(span) for span in exporter.get_finished_spans()]


def run_langchain_openllmetry(scenario: str, endpoint_url: str) -> list[SpanRecord]:
    from langchain_core.callbacks import BaseCallbackManager
    from opentelemetry.instrumentation.langchain import LangchainInstrumentor
    from opentelemetry.instrumentation.utils import unwrap

    try:
        return _run_langchain_under(LangchainInstrumentor(), scenario, endpoint_url)
    finally:
        # Its uninstrument leaves a wrapper (and so its first handler) in place; an
        # instrumentation left over would add its dead handler to every later LangChain run.
        while hasattr(BaseCallbackManager.__init__, "__wrapped__"):
            unwrap(BaseCallbackManager, "__init__")


def run_langchain_openinference(scenario: str, endpoint_url: str) -> list[SpanRecord]:
    from openinference.instrumentation.langchain import LangChainInstrumentor

    return _run_langchain_under(LangChainInstrumentor(), scenario, endpoint_url)


# --- Langfuse SDK (v3+, OTel-based) ---------------------------------------------------------


@contextmanager
def _langfuse_client() -> Iterator[tuple[Any, InMemorySpanExporter]]:
    """A Langfuse client exporting to memory. Langfuse keeps one client per public key for
    the process, so each capture gets a fresh key; its host is a closed loopback port, so
    anything it sends besides spans fails locally instead of leaving the machine."""
    import uuid

    from langfuse import Langfuse

    # Langfuse adds its own span processor exporting to `span_exporter`: no second one here.
    provider = TracerProvider(resource=Resource.create(dict(RESOURCE)))
    exporter = InMemorySpanExporter()
    client = Langfuse(
        public_key=f"pk-lf-{uuid.uuid4().hex}",
        secret_key="sk-lf-test",
        host="http://127.0.0.1:9",
        tracer_provider=provider,
        span_exporter=exporter,
        environment="test",
    )
    try:
        yield client, exporter
    finally:
        client.flush()
        client.shutdown()


def run_langfuse_langchain(scenario: str, endpoint_url: str) -> list[SpanRecord]:
    """LangChain with Langfuse's callback handler; tenant and route in the run metadata."""
    from langfuse.langchain import CallbackHandler

    with _langfuse_client() as (client, exporter):
        handler = CallbackHandler(public_key=client._resources.public_key)
        _langchain_call(scenario, endpoint_url, callbacks=[handler])
        client.flush()
        return [span_record(span) for span in exporter.get_finished_spans()]


def run_langfuse_decorator(scenario: str, endpoint_url: str) -> list[SpanRecord]:
    """A function under Langfuse's @observe(as_type="generation") calling Converse itself and
    reporting Bedrock's usage the way Langfuse's docs map it; tenant in the trace metadata
    (propagate_attributes, Langfuse v4+'s replacement for update_current_trace)."""
    from langfuse import observe, propagate_attributes

    from tests.producers import _MESSAGES, bedrock_client

    with _langfuse_client() as (client, exporter):
        bedrock = bedrock_client(endpoint_url)

        @observe(as_type="generation", name="bedrock-converse")
        def converse() -> None:
            with propagate_attributes(metadata={"tenant": TENANT, "route": ROUTE}):
                usage = bedrock.converse(modelId=MODEL, messages=_MESSAGES)["usage"]
            client.update_current_generation(
                model=MODEL,
                usage_details={
                    "input": usage["inputTokens"],
                    "output": usage["outputTokens"],
                    "cache_read_input_tokens": usage.get("cacheReadInputTokens", 0),
                    "cache_creation_input_tokens": usage.get("cacheWriteInputTokens", 0),
                },
            )

        _swallow(lambda: converse(langfuse_public_key=client._resources.public_key))  # type: ignore[call-arg]
        client.flush()
        return [span_record(span) for span in exporter.get_finished_spans()]


# --- registry --------------------------------------------------------------------------


@dataclass(frozen=True)
class Framework:
    run: Callable[[str, str], list[SpanRecord]]
    llm_span_name: Callable[[SpanRecord], bool]  # which captured span is the model call
    scenarios: tuple[str, ...] = tuple(FRAMEWORK_SCENARIOS)


FRAMEWORKS: dict[str, Framework] = {
    "strands": Framework(run_strands, lambda rec: rec.name == "chat"),
    "openlit": Framework(run_openlit, lambda rec: rec.name.startswith("chat ")),
    "langchain_openllmetry": Framework(run_langchain_openllmetry, lambda rec: rec.name == "ChatBedrockConverse.chat"),
    "langchain_openinference": Framework(run_langchain_openinference, lambda rec: rec.name == "ChatBedrockConverse"),
    "langfuse_langchain": Framework(run_langfuse_langchain, lambda rec: rec.name == "ChatBedrockConverse"),
    # A decorated function that streams would have to assemble usage itself: not covered.
    "langfuse_decorator": Framework(
        run_langfuse_decorator, lambda rec: rec.name == "bedrock-converse", ("converse_cached", "throttle")
    ),
}


def run_framework(producer: str, scenario: str) -> list[SpanRecord]:
    with quiet_environment(), FakeBedrockRuntime([FRAMEWORK_SCENARIOS[scenario]]) as fake:
        return FRAMEWORKS[producer].run(scenario, fake.endpoint_url)


def llm_span(producer: str, spans: list[SpanRecord]) -> SpanRecord:
    (span,) = [rec for rec in spans if FRAMEWORKS[producer].llm_span_name(rec)]
    return span


def _swallow(call: Callable[[], Any]) -> None:
    # Throttles are the point of one scenario: the span records them.
    with contextlib.suppress(Exception):
        call()


def write_inputs(producers: tuple[str, ...] = ()) -> None:
    """Re-capture the framework golden inputs: `python -m tests.frameworks [PRODUCER...]`."""
    from tests.producers import GOLDEN_DIR, write_span

    for producer in producers or tuple(FRAMEWORKS):
        for scenario in FRAMEWORKS[producer].scenarios:
            spans = run_framework(producer, scenario)
            write_span(GOLDEN_DIR / f"{producer}_{scenario}.input.json", llm_span(producer, spans))
            if producer == "strands" and scenario == "converse_cached":
                # The agent span repeats the turn's usage: the golden checks it is no LLM call.
                (agent,) = [rec for rec in spans if rec.name.startswith("invoke_agent")]
                write_span(GOLDEN_DIR / "strands_agent_span.input.json", agent)


if __name__ == "__main__":
    import sys

    write_inputs(tuple(sys.argv[1:]))
