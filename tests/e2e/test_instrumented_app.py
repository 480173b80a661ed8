"""An OTel-instrumented app (botocore instrumentation + OTLP exporter) pointed at
`outcrop serve` shows its LLM calls correctly in `outcrop sql`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import run_outcrop as outcrop
from fakes.bedrock_runtime import FakeBedrockRuntime, FakeReply
from opentelemetry import baggage, context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from producers import BaggageToAttributes, bedrock_client

pytestmark = pytest.mark.e2e
MODEL = "us.anthropic.claude-3-5-haiku-20241022-v1:0"


def test_instrumented_app_calls_show_in_outcrop_sql(server: Any, db_path: str) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "support-api"}))
    provider.add_span_processor(BaggageToAttributes())
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=server.traces_url)))
    instrumentor = BotocoreInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    replies = [
        FakeReply(input_tokens=1000, cache_read_tokens=3000, output_tokens=200),
        FakeReply(input_tokens=500, output_tokens=80),
        FakeReply(error="ThrottlingException"),
    ]
    try:
        with FakeBedrockRuntime(replies) as fake:
            client = bedrock_client(fake.endpoint_url)
            token = context.attach(baggage.set_baggage("tenant.id", "acme"))
            try:
                messages = [{"role": "user", "content": [{"text": "hi"}]}]
                client.converse(modelId=MODEL, messages=messages)
                for _ in client.converse_stream(modelId=MODEL, messages=messages)["stream"]:
                    pass
                with pytest.raises(client.exceptions.ThrottlingException):
                    client.converse(modelId=MODEL, messages=messages)
            finally:
                context.detach(token)
    finally:
        instrumentor.uninstrument()
        provider.shutdown()

    result = outcrop("sql", "SELECT tenant, operation, model, input_tokens, cache_read_tokens, output_tokens, "
                     "streaming, status, error_type FROM llm_calls ORDER BY ts", "--db", db_path, "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert rows == [
        {"tenant": "acme", "operation": "chat", "model": "anthropic.claude-3-5-haiku-20241022-v1:0",
         "input_tokens": 1000, "cache_read_tokens": 3000, "output_tokens": 200, "streaming": False,
         "status": "ok", "error_type": None},
        {"tenant": "acme", "operation": "chat", "model": "anthropic.claude-3-5-haiku-20241022-v1:0",
         "input_tokens": 500, "cache_read_tokens": None, "output_tokens": 80, "streaming": True,
         "status": "ok", "error_type": None},
        {"tenant": "acme", "operation": "chat", "model": "anthropic.claude-3-5-haiku-20241022-v1:0",
         "input_tokens": None, "cache_read_tokens": None, "output_tokens": None, "streaming": False,
         "status": "throttled", "error_type": "ThrottlingException"},
    ]
