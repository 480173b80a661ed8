"""What the demo platform is made of: models, routes, workflows, tenants, profiles.

Plain data only. The figures are meant to look like a real Bedrock platform (token
shapes, latency, traffic mix), not to match any published benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ACCOUNT_ID = "111122223333"
ENVIRONMENT = "demo"
SCOPE_NAME = "outcrop.demo.workload"
SCOPE_VERSION = "0.1.0"
# Bedrock invocation logging is a per-region setting; the demo account enabled it in
# us-east-1 only, so us-west-2 calls are seen by traces alone.
LOGGED_REGIONS: frozenset[str] = frozenset({"us-east-1"})
CROSS_REGION_TARGETS: tuple[str, ...] = ("us-east-1", "us-east-2", "us-west-2")


@dataclass(frozen=True)
class ModelSpec:
    key: str
    model_id: str  # base model id (what prices are keyed on)
    invoke_id: str  # what the application passes as modelId (may be a geo profile)
    family: str  # anthropic | amazon | meta
    ttft_ms: float  # median time to first token for a small prompt
    prefill_ms_per_ktok: float  # extra TTFT per 1000 uncached input tokens
    tokens_per_second: float  # median decode speed
    supports_cache: bool
    throttle_rate: float  # background throttle probability per attempt


MODELS: dict[str, ModelSpec] = {
    m.key: m
    for m in (
        ModelSpec("haiku", "anthropic.claude-3-5-haiku-20241022-v1:0",
                  "anthropic.claude-3-5-haiku-20241022-v1:0", "anthropic",
                  520.0, 45.0, 62.0, True, 0.003),
        ModelSpec("sonnet4", "anthropic.claude-sonnet-4-20250514-v1:0",
                  "us.anthropic.claude-sonnet-4-20250514-v1:0", "anthropic",
                  1150.0, 90.0, 48.0, True, 0.006),
        ModelSpec("nova-lite", "amazon.nova-lite-v1:0", "amazon.nova-lite-v1:0", "amazon",
                  330.0, 20.0, 140.0, True, 0.002),
        ModelSpec("nova-pro", "amazon.nova-pro-v1:0", "amazon.nova-pro-v1:0", "amazon",
                  560.0, 40.0, 85.0, True, 0.003),
        ModelSpec("llama70b", "meta.llama3-1-70b-instruct-v1:0",
                  "meta.llama3-1-70b-instruct-v1:0", "meta",
                  480.0, 55.0, 38.0, False, 0.004),
        ModelSpec("titan-embed", "amazon.titan-embed-text-v2:0",
                  "amazon.titan-embed-text-v2:0", "amazon",
                  35.0, 10.0, 0.0, False, 0.0005),
    )
}
EMBEDDING_MODEL = "titan-embed"


@dataclass(frozen=True)
class RouteSpec:
    name: str
    model: str  # key into MODELS
    fallback: str | None = None  # model tried once the primary fails
    guardrail_id: str = "gr-standard01"


ROUTES: dict[str, RouteSpec] = {
    r.name: r
    for r in (
        RouteSpec("fast", "haiku"),
        RouteSpec("complex", "sonnet4"),
        RouteSpec("batch", "nova-lite"),
        RouteSpec("fallback", "sonnet4", fallback="nova-pro"),
        RouteSpec("restricted", "nova-pro", guardrail_id="gr-restricted07"),
    )
}


@dataclass(frozen=True)
class Stage:
    """One logical model call inside a workflow (it may take several attempts)."""

    name: str
    input_median: int  # uncached input tokens
    output_median: int
    max_tokens: int
    streamed: bool = False
    repeat: tuple[int, int] = (1, 1)  # inclusive range of how many times it runs


@dataclass(frozen=True)
class WorkflowSpec:
    name: str
    service: str
    http_route: str
    stages: tuple[Stage, ...]
    cached_prefix: int  # system prompt + tool tokens that prompt caching can reuse
    retrieval: bool
    versions: tuple[str, str]  # (previous, current) prompt version
    rollout_hours_ago: float  # when the current version went live
    rollout_input_factor: float  # how much longer prompts got with the new version


WORKFLOWS: dict[str, WorkflowSpec] = {
    w.name: w
    for w in (
        WorkflowSpec("support-chat", "support-api", "/api/chat",
                     (Stage("answer", 900, 260, 1024, streamed=True),),
                     cached_prefix=3200, retrieval=True, versions=("v7", "v8"),
                     rollout_hours_ago=30.0, rollout_input_factor=1.35),
        WorkflowSpec("report-writer", "reports-service", "/api/reports",
                     (Stage("outline", 2400, 350, 800),
                      Stage("draft", 5200, 1400, 4096, streamed=True)),
                     cached_prefix=1800, retrieval=True, versions=("r3", "r4"),
                     rollout_hours_ago=200.0, rollout_input_factor=1.0),
        WorkflowSpec("doc-summary", "docs-pipeline", "/api/summaries",
                     (Stage("chunk", 3800, 300, 600, repeat=(1, 3)),
                      Stage("combine", 1100, 450, 1000)),
                     cached_prefix=0, retrieval=False, versions=("s2", "s2"),
                     rollout_hours_ago=0.0, rollout_input_factor=1.0),
        WorkflowSpec("code-review", "code-review-bot", "/api/reviews",
                     (Stage("review", 6500, 700, 2048, repeat=(1, 2)),),
                     cached_prefix=2400, retrieval=True, versions=("c11", "c12"),
                     rollout_hours_ago=60.0, rollout_input_factor=1.1),
    )
}


@dataclass(frozen=True)
class Usage:
    workflow: str
    route: str
    weight: float


@dataclass(frozen=True)
class TenantSpec:
    name: str
    share: float  # share of traced traffic (ignored for log-only tenants)
    peak_hour_utc: float
    weekend_factor: float
    region: str
    users: int
    usages: tuple[Usage, ...]
    traced: bool = True
    request_metadata: bool = False  # sets Converse requestMetadata tenant/route/workflow
    route_models: dict[str, str] = field(default_factory=dict)  # route -> model key
    profiles: dict[str, str] = field(default_factory=dict)  # workflow -> profile ARN


def profile_arn(profile_id: str, region: str = "us-east-1") -> str:
    return f"arn:aws:bedrock:{region}:{ACCOUNT_ID}:application-inference-profile/{profile_id}"


GLOBEX_REPORTS = profile_arn("gx7reportw01a")
GLOBEX_SUMMARIES = profile_arn("gx7docsum02b")

# Application inference profile ARN -> (model it wraps, tenant, workflow). The demo
# configuration maps these so Outcrop can attribute and price calls made through them.
DEMO_PROFILES: dict[str, tuple[str, str, str]] = {
    GLOBEX_REPORTS: ("anthropic.claude-sonnet-4-20250514-v1:0", "globex", "report-writer"),
    GLOBEX_SUMMARIES: ("amazon.nova-lite-v1:0", "globex", "doc-summary"),
}

TENANTS: tuple[TenantSpec, ...] = (
    TenantSpec("acme", 0.50, 17.0, 0.35, "us-east-1", 900,
               (Usage("support-chat", "fast", 0.55), Usage("support-chat", "complex", 0.12),
                Usage("doc-summary", "fallback", 0.22), Usage("report-writer", "complex", 0.11)),
               request_metadata=True),
    TenantSpec("globex", 0.32, 10.0, 0.25, "us-east-1", 300,
               (Usage("report-writer", "complex", 0.45), Usage("doc-summary", "fast", 0.35),
                Usage("code-review", "restricted", 0.20)),
               route_models={"fast": "nova-lite"},
               profiles={"report-writer": GLOBEX_REPORTS, "doc-summary": GLOBEX_SUMMARIES}),
    TenantSpec("initech", 0.18, 20.0, 0.6, "us-west-2", 120,
               (Usage("code-review", "complex", 0.5), Usage("support-chat", "fast", 0.3),
                Usage("doc-summary", "restricted", 0.2)),
               route_models={"fast": "llama70b"}),
    # A nightly-style batch tenant without tracing: only the invocation logs see it.
    TenantSpec("umbrella", 0.0, 3.0, 1.0, "us-east-1", 4,
               (Usage("doc-summary", "batch", 1.0),),
               traced=False, request_metadata=True),
)

# A slowdown for the drift detector to find: for the last few hours every call on this
# route takes this much longer to its first token (a deploy that lengthened the tool list).
SLOW_ROUTE = "fast"
SLOW_ROUTE_HOURS = 3.0
SLOW_ROUTE_TTFT_FACTOR = 2.5

# Minutes after each hour at which the untraced batch tenant starts a run.
BATCH_MINUTE = 5
BATCH_DOCS_PER_TRACED_TRACE = 0.2  # batch documents per hour, relative to traced traffic


def tenant(name: str) -> TenantSpec:
    for spec in TENANTS:
        if spec.name == name:
            return spec
    raise KeyError(name)


def route_model(spec: TenantSpec, route: str) -> ModelSpec:
    return MODELS[spec.route_models.get(route, ROUTES[route].model)]
