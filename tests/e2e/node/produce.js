// Sends one small GenAI trace to Outcrop with the real OpenTelemetry JS SDK and its
// OTLP/HTTP JSON exporter. A SimpleSpanProcessor exports each span in its own request as
// it ends, so the child LLM span arrives before its root (the OTel JS exporter with a simple processor sends each span in its own request).
// Usage: node produce.js http://127.0.0.1:PORT/v1/traces
const { BasicTracerProvider, SimpleSpanProcessor } = require("@opentelemetry/sdk-trace-base");
const { OTLPTraceExporter } = require("@opentelemetry/exporter-trace-otlp-http");
const { Resource } = require("@opentelemetry/resources");
const api = require("@opentelemetry/api");

async function main() {
  const exporter = new OTLPTraceExporter({ url: process.argv[2] });
  const provider = new BasicTracerProvider({
    resource: new Resource({ "service.name": "node-web", "deployment.environment.name": "test" }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer("node-app");
  const start = Date.now();
  const root = tracer.startSpan("POST /ask", {
    startTime: start,
    attributes: { "tenant.id": "node-tenant", route: "fast", "workflow.name": "qa" },
  });
  const ctx = api.trace.setSpan(api.context.active(), root);
  const llm = tracer.startSpan("chat amazon.nova-lite-v1:0", {
    kind: api.SpanKind.CLIENT,
    startTime: start + 5,
    attributes: {
      "gen_ai.provider.name": "aws.bedrock",
      "gen_ai.operation.name": "chat",
      "gen_ai.request.model": "amazon.nova-lite-v1:0",
      "gen_ai.usage.input_tokens": 1234,
      "gen_ai.usage.output_tokens": 56,
      "gen_ai.response.finish_reasons": ["end_turn"],
      "aws.request_id": "node-req-1",
    },
  }, ctx);
  llm.end(start + 805);
  root.end(start + 900);
  await provider.shutdown();
  console.log("sent");
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
