"""Turn one scheduled request into a planned trace: spans as plain data, no OTel calls.

The same plan feeds the span exporter and the invocation-log writer, so a call that is
both traced and logged carries the same request id in both.
"""

from __future__ import annotations

import dataclasses
import math
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as genai
from opentelemetry.semconv.attributes import error_attributes, http_attributes
from opentelemetry.trace import SpanKind
from opentelemetry.util.types import AttributeValue

from outcrop.demo import catalog
from outcrop.demo.catalog import ModelSpec, Stage, TenantSpec, WorkflowSpec

MS = 1_000_000  # nanoseconds per millisecond
CACHE_TTL_NS = 300_000 * MS  # Bedrock prompt cache lives 5 minutes after last use
MAX_ATTEMPTS = 3
UNAVAILABLE_RATE = 0.006
STREAM_METHODS = frozenset({"ConverseStream", "InvokeModelWithResponseStream"})


@dataclass(frozen=True)
class Burst:
    """A few minutes in which one model throttles most requests."""

    model: str
    start_ns: int
    end_ns: int
    throttle_rate: float


@dataclass(frozen=True)
class Request:
    tenant: TenantSpec
    workflow: str
    route: str
    start_ns: int


@dataclass(frozen=True)
class Call:
    """One model invocation attempt."""

    request_id: str
    tenant: str
    route: str
    workflow: str
    user_id: str
    model: ModelSpec
    model_id: str  # as sent: base id, geo profile id or application profile ARN
    rpc_method: str
    region: str
    inference_region: str | None
    start_ns: int
    end_ns: int
    latency_ms: int  # as Bedrock measures it (excludes the client's network time)
    input_tokens: int  # uncached, as Bedrock counts them
    cache_read_tokens: int
    cache_write_tokens: int
    output_tokens: int
    ttft_ms: int | None  # streamed calls only
    finish_reason: str | None
    error_type: str | None
    request_metadata: tuple[tuple[str, str], ...]
    logged: bool

    @property
    def operation(self) -> str:
        return "embeddings" if self.model.key == catalog.EMBEDDING_MODEL else "chat"

    @property
    def streamed(self) -> bool:
        return self.rpc_method in STREAM_METHODS


@dataclass(frozen=True)
class Step:
    """One span to emit; `parent` is the index of an earlier step in the same plan."""

    name: str
    kind: SpanKind
    parent: int | None
    start_ns: int
    end_ns: int
    attributes: dict[str, AttributeValue]
    error: str | None = None
    call: Call | None = None


@dataclass(frozen=True)
class TracePlan:
    tenant: str
    service: str
    traced: bool
    steps: tuple[Step, ...]

    @property
    def calls(self) -> list[Call]:
        return [s.call for s in self.steps if s.call is not None]


@dataclass
class _Trace:
    """Working state while one trace is planned."""

    req: Request
    workflow: WorkflowSpec
    user_id: str
    version: str
    steps: list[Step] = field(default_factory=list)

    def add(self, step: Step) -> int:
        self.steps.append(step)
        return len(self.steps)  # index in the final plan, where the root is 0


class Planner:
    """Plans traces in start-time order; keeps prompt-cache state between them."""

    def __init__(self, rng: random.Random, now_ns: int, bursts: Sequence[Burst]) -> None:
        self._rng = rng
        self._now_ns = now_ns
        self._bursts = tuple(bursts)
        self._cache_used: dict[tuple[str, ...], int] = {}

    def plan(self, req: Request) -> TracePlan:
        wf = catalog.WORKFLOWS[req.workflow]
        tr = _Trace(req, wf, self._user(req.tenant), self._version(wf, req.start_ns))
        t = req.start_ns + self._ms(2, 8)
        if wf.retrieval:
            t = self._retrieval(tr, t)
        t = self._prompt_build(tr, t)
        error = None
        for stage in wf.stages:
            for _ in range(self._rng.randint(*stage.repeat)):
                t, error = self._stage(tr, stage, t)
                if error is not None:
                    break
            if error is not None:
                break
        if error is None:
            t = self._guardrail(tr, t)
        root = self._root(tr, t + self._ms(1, 4), error)
        return TracePlan(req.tenant.name, wf.service, req.tenant.traced, (root, *tr.steps))

    def _root(self, tr: _Trace, end_ns: int, error: str | None) -> Step:
        attrs: dict[str, AttributeValue] = {
            http_attributes.HTTP_REQUEST_METHOD: "POST",
            http_attributes.HTTP_ROUTE: tr.workflow.http_route,
            http_attributes.HTTP_RESPONSE_STATUS_CODE: 200 if error is None else 503,
            "tenant.id": tr.req.tenant.name,
            "route": tr.req.route,
            "workflow.name": tr.workflow.name,
            "user.id": tr.user_id,
            "prompt.version": tr.version,
        }
        if error is not None:
            attrs[error_attributes.ERROR_TYPE] = error
        name = f"POST {tr.workflow.http_route}"
        return Step(name, SpanKind.SERVER, None, tr.req.start_ns, end_ns, attrs, error)

    def _retrieval(self, tr: _Trace, t: int) -> int:
        embed = self._attempt(tr, _EMBED_STAGE, catalog.MODELS[catalog.EMBEDDING_MODEL], t + MS)
        end = embed.end_ns + self._ms(8, 45)  # vector search after the query embedding
        attrs: dict[str, AttributeValue] = {genai.GEN_AI_DATA_SOURCE_ID: f"kb-{tr.workflow.name}"}
        index = tr.add(Step("retrieve documents", SpanKind.INTERNAL, 0, t, end, attrs))
        tr.add(_call_step(embed, index))
        return end

    def _prompt_build(self, tr: _Trace, t: int) -> int:
        end = t + self._ms(1, 9)
        attrs: dict[str, AttributeValue] = {genai.GEN_AI_PROMPT_NAME: f"{tr.workflow.name}-system"}
        tr.add(Step("build_prompt", SpanKind.INTERNAL, 0, t, end, attrs))
        return end

    def _guardrail(self, tr: _Trace, t: int) -> int:
        start = t + self._ms(1, 3)
        end = start + self._ms(40, 160)
        guardrail_id = catalog.ROUTES[tr.req.route].guardrail_id
        attrs: dict[str, AttributeValue] = {"aws.bedrock.guardrail.id": guardrail_id}
        tr.add(Step("apply_guardrail", SpanKind.INTERNAL, 0, start, end, attrs))
        return end

    def _stage(self, tr: _Trace, stage: Stage, t: int) -> tuple[int, str | None]:
        """Run one logical call: retry throttles, or switch model on a fallback route."""
        route = catalog.ROUTES[tr.req.route]
        model = catalog.route_model(tr.req.tenant, route.name)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            call = self._attempt(tr, stage, model, t)
            tr.add(_call_step(call, 0))
            t = call.end_ns
            if call.error_type is None:
                return t, None
            if route.fallback is not None and model.key != route.fallback:
                model = catalog.MODELS[route.fallback]
                t += self._ms(3, 15)
            elif attempt < MAX_ATTEMPTS:
                t += int(self._rng.uniform(0.5, 1.5) * 200 * 2**attempt * MS)  # SDK-style backoff
            else:
                return t, call.error_type
        return t, None  # unreachable: the last attempt returns above

    def _attempt(self, tr: _Trace, stage: Stage, model: ModelSpec, t: int) -> Call:
        spec = tr.req.tenant
        error = self._failure(model, t)
        model_id, method = self._invocation(tr, stage, model)
        inference_region = None
        if model.invoke_id != model.model_id:  # geo profile: Bedrock picks the region
            inference_region = self._rng.choice(catalog.CROSS_REGION_TARGETS)
        failed = Call(
            request_id=str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
            tenant=spec.name, route=tr.req.route, workflow=tr.workflow.name,
            user_id=tr.user_id, model=model, model_id=model_id, rpc_method=method,
            region=spec.region, inference_region=inference_region, start_ns=t,
            end_ns=t + self._ms(25, 140), latency_ms=0, input_tokens=0, cache_read_tokens=0,
            cache_write_tokens=0, output_tokens=0, ttft_ms=None, finish_reason=None,
            error_type=error, request_metadata=self._metadata(tr, method), logged=False,
        )
        # Throttled and failed calls never reach Bedrock's invocation log.
        return failed if error is not None else self._success(tr, stage, failed)

    def _success(self, tr: _Trace, stage: Stage, call: Call) -> Call:
        model, t = call.model, call.start_ns
        factor = tr.workflow.rollout_input_factor if tr.version == tr.workflow.versions[1] else 1.0
        uncached = max(8, round(self._lognormal(stage.input_median * factor, 0.45)))
        read, write = self._cache(tr, model, t)
        if not model.supports_cache:
            uncached, read, write = uncached + read + write, 0, 0
        output, finish = self._output(stage, model)
        ttft, latency = self._latency(model, uncached + write, read, output, t, tr.req.route)
        overhead = self._ms(12, 45)
        return dataclasses.replace(
            call, end_ns=t + latency * MS + overhead, latency_ms=latency,
            input_tokens=uncached, cache_read_tokens=read, cache_write_tokens=write,
            output_tokens=output, ttft_ms=ttft + overhead // (2 * MS) if call.streamed else None,
            finish_reason=finish, logged=tr.req.tenant.region in catalog.LOGGED_REGIONS,
        )

    def _output(self, stage: Stage, model: ModelSpec) -> tuple[int, str | None]:
        if model.key == catalog.EMBEDDING_MODEL:
            return 0, None
        output = max(1, round(self._lognormal(stage.output_median, 0.5)))
        if output >= stage.max_tokens:
            return stage.max_tokens, "max_tokens"
        return output, "end_turn"

    def _latency(self, model: ModelSpec, prefill: int, cached: int, output: int,
                 t: int, route: str) -> tuple[int, int]:
        slow = 1.6 if self._burst(model, t) is not None else 1.0  # queues build up in a burst
        if route == catalog.SLOW_ROUTE and t >= self._now_ns - int(catalog.SLOW_ROUTE_HOURS * 3600e9):
            slow *= catalog.SLOW_ROUTE_TTFT_FACTOR
        ttft = self._lognormal(model.ttft_ms, 0.3) * slow
        ttft += model.prefill_ms_per_ktok * (prefill + 0.1 * cached) / 1000.0
        if output == 0:
            return round(ttft), round(ttft)
        decode = output / self._lognormal(model.tokens_per_second, 0.15) * 1000.0
        return round(ttft), round(ttft + decode)

    def _cache(self, tr: _Trace, model: ModelSpec, t: int) -> tuple[int, int]:
        """(cache read, cache write) tokens: the prefix is written once, read within TTL."""
        prefix = tr.workflow.cached_prefix
        if prefix == 0 or model.key == catalog.EMBEDDING_MODEL:
            return 0, 0
        key = (tr.req.tenant.name, tr.workflow.name, tr.version, model.key)
        last = self._cache_used.get(key)
        self._cache_used[key] = t
        if last is not None and t - last <= CACHE_TTL_NS:
            return prefix, 0
        return 0, prefix

    def _failure(self, model: ModelSpec, t: int) -> str | None:
        burst = self._burst(model, t)
        rate = burst.throttle_rate if burst is not None else model.throttle_rate
        roll = self._rng.random()
        if roll < rate:
            return "ThrottlingException"
        if model.key != catalog.EMBEDDING_MODEL and roll < rate + UNAVAILABLE_RATE:
            return "ServiceUnavailableException"
        return None

    def _burst(self, model: ModelSpec, t: int) -> Burst | None:
        for burst in self._bursts:
            if burst.model == model.key and burst.start_ns <= t < burst.end_ns:
                return burst
        return None

    def _invocation(self, tr: _Trace, stage: Stage, model: ModelSpec) -> tuple[str, str]:
        """(modelId as sent, API operation)."""
        if model.key == catalog.EMBEDDING_MODEL:
            return model.invoke_id, "InvokeModel"
        profile = tr.req.tenant.profiles.get(tr.workflow.name)
        primary = catalog.route_model(tr.req.tenant, tr.req.route)
        if profile is not None and model.key == primary.key:
            # Calls through an application profile use the native InvokeModel API.
            return profile, "InvokeModelWithResponseStream" if stage.streamed else "InvokeModel"
        return model.invoke_id, "ConverseStream" if stage.streamed else "Converse"

    def _metadata(self, tr: _Trace, method: str) -> tuple[tuple[str, str], ...]:
        # Only the Converse APIs accept requestMetadata.
        if not tr.req.tenant.request_metadata or not method.startswith("Converse"):
            return ()
        return (("tenant", tr.req.tenant.name), ("route", tr.req.route),
                ("workflow", tr.workflow.name))

    def _user(self, spec: TenantSpec) -> str:
        if not spec.traced:
            return f"{spec.name}-batch-runner"
        index = int(spec.users ** self._rng.random())  # a few heavy users, a long tail
        return f"{spec.name}-u{index:04d}"

    def _version(self, wf: WorkflowSpec, t: int) -> str:
        live_since = self._now_ns - int(wf.rollout_hours_ago * 3600e9)
        return wf.versions[1] if t >= live_since else wf.versions[0]

    def _lognormal(self, median: float, sigma: float) -> float:
        return self._rng.lognormvariate(math.log(median), sigma)

    def _ms(self, low: float, high: float) -> int:
        return int(self._rng.uniform(low, high) * MS)


_EMBED_STAGE = Stage("embed", 60, 0, 0)


def _call_step(call: Call, parent: int) -> Step:
    name = f"{call.operation} {call.model_id}"
    error = "Rate exceeded" if call.error_type == "ThrottlingException" else call.error_type
    return Step(name, SpanKind.CLIENT, parent, call.start_ns, call.end_ns, {}, error, call)
