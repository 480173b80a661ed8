"""Typed, frozen configuration from `outcrop.toml` and `OUTCROP_*` variables.

Every key is documented in `docs/configuration.md`; a test checks that the document
lists them all. Unknown keys are errors that name the key.
"""

from __future__ import annotations

import os
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ByteSize,
    ConfigDict,
    Field,
    IPvAnyAddress,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_DB = "./outcrop.duckdb"
# ingest.max_tokens_per_call; sql/macros/050_plausible_calls.sql has the same default
DEFAULT_MAX_TOKENS_PER_CALL = 100_000_000
# The most rows one read returns: server.query_max_rows may not exceed it, and
# outcrop.analytics.queries refuses a larger row limit.
MAX_QUERY_ROWS = 100_000
# Real bounds of the numbers below, so a value the server cannot use fails at load, naming
# its key, instead of failing later. gRPC takes message sizes and concurrency as C ints.
_C_INT_MAX = 2**31 - 1
# A wait on a thread takes at most threading.TIMEOUT_MAX (about 292 years); a day is far
# past any useful read or request timeout.
_MAX_TIMEOUT_SECONDS = 86_400.0
# Poll and job intervals become APScheduler intervals (timedelta); a month is the most
# that still means "polling".
_MAX_INTERVAL_SECONDS = 30 * 86_400.0
# CloudWatch keeps hourly datapoints 455 days; a longer lookback reads nothing more.
_MAX_LOOKBACK_MINUTES = 455 * 24 * 60


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    http_port: int = Field(4318, ge=0, le=65535)
    grpc_port: int = Field(4317, ge=0, le=65535)
    api_port: int = Field(4320, ge=0, le=65535)
    max_body_bytes: int = Field(16 * 1024 * 1024, gt=0, le=_C_INT_MAX)
    max_decompressed_bytes: int = Field(64 * 1024 * 1024, gt=0, le=_C_INT_MAX)
    max_attribute_value_bytes: int = Field(16 * 1024, gt=0, le=_C_INT_MAX)
    # OTLP span bounds: the first N are kept, the rest counted in an outcrop.truncated.* attribute
    max_attributes_per_span: int = Field(1024, gt=0)
    max_events_per_span: int = Field(256, gt=0)
    max_attributes_per_event: int = Field(128, gt=0)
    # OTLP receivers: threads that inflate, decode and normalise, so the event loop never does
    decode_threads: int = Field(4, gt=0, le=1024)
    # OTLP/HTTP slow clients: time to send a request's headers, then its whole body
    header_read_timeout_seconds: float = Field(10.0, gt=0, le=_MAX_TIMEOUT_SECONDS)
    body_read_timeout_seconds: float = Field(30.0, gt=0, le=_MAX_TIMEOUT_SECONDS)
    queue_max_batches: int = Field(256, gt=0, le=_C_INT_MAX)
    group_commit_max_batches: int = Field(64, gt=0, le=_C_INT_MAX)
    api_token: str | None = None
    admin_token: str | None = None
    query_max_rows: int = Field(MAX_QUERY_ROWS, gt=0, le=MAX_QUERY_ROWS)
    query_timeout_seconds: float = Field(30.0, gt=0, le=_MAX_TIMEOUT_SECONDS)
    # DuckDB's memory limit for the whole database (its default is 80% of RAM), and the
    # most one ad-hoc read may add to it before it is stopped, so a read cannot starve ingest.
    memory_limit: ByteSize = ByteSize(2 * 1024**3)
    query_memory_limit: ByteSize = ByteSize(1024**3)
    # Read API requests: names a browser may use in Host besides loopback and server.host
    # (DNS rebinding), page origins allowed to call it (cross-site requests), and reverse
    # proxies whose requests never count as loopback.
    allowed_hosts: tuple[Annotated[str, Field(min_length=1)], ...] = ()
    allowed_origins: tuple[Annotated[str, Field(min_length=1)], ...] = ()
    trusted_proxies: tuple[IPvAnyAddress, ...] = ()
    api_max_body_bytes: int = Field(1024 * 1024, gt=0, le=_C_INT_MAX)
    api_body_timeout_seconds: float = Field(10.0, gt=0, le=_MAX_TIMEOUT_SECONDS)


class IngestKey(_Section):
    key: str = Field(min_length=8)
    tenant: str | None = None


class IngestSettings(_Section):
    api_keys: tuple[IngestKey, ...] = ()
    # Admin ingest (`POST /v1/admin/ingest`) reads with the server's identity, so only the
    # configured sources and what lies under these (local roots resolved, symlinks followed).
    allowed_paths: tuple[Annotated[str, Field(min_length=1)], ...] = ()
    allowed_s3_prefixes: tuple[Annotated[str, Field(pattern=r"^s3://[^/]+(/.*)?$")], ...] = ()
    allowed_log_groups: tuple[Annotated[str, Field(min_length=1)], ...] = ()
    # Bounds of one ingest run (admin call, CLI or poll); a bounded run commits what it read
    # and the next run continues from there.
    max_files: int = Field(10_000, gt=0)
    max_bytes: int = Field(1024 * 1024 * 1024, gt=0)
    max_seconds: float = Field(300.0, gt=0, le=_MAX_TIMEOUT_SECONDS)
    # an unfinished gzip file is decompressed from its first byte again, so very large ones are skipped
    max_file_bytes: int = Field(256 * 1024 * 1024, gt=0)
    # Most tokens of each kind one model call can report; above it (or negative) a span is
    # rejected and an invocation-log line is a bad record. The largest context windows are
    # about 1M tokens. The ceiling keeps a day of bounded counts inside the BIGINT sums.
    max_tokens_per_call: int = Field(DEFAULT_MAX_TOKENS_PER_CALL, gt=0, le=1_000_000_000)


class AttributionSettings(_Section):
    """Keys read for each attribution field, first match wins, span before resource."""

    tenant: tuple[str, ...] = (
        "tenant.id",
        "tenant_id",
        "tenant",
        "app.tenant.id",
        "traceloop.association.properties.tenant_id",
        "traceloop.association.properties.tenant",
        # fields inside a JSON-object attribute: OpenInference's LangChain `metadata`
        "metadata.tenant_id",
        "metadata.tenant",
        # Langfuse SDK: metadata values, JSON-encoded (decoded when read)
        "langfuse.observation.metadata.tenant",
        "langfuse.trace.metadata.tenant",
    )
    route: tuple[str, ...] = (
        "route",
        "app.route",
        "llm.route",
        "traceloop.association.properties.route",
        "metadata.route",
        "langfuse.observation.metadata.route",
        "langfuse.trace.metadata.route",
    )
    workflow: tuple[str, ...] = (
        "workflow.name",
        "workflow",
        "traceloop.workflow.name",
        "traceloop.association.properties.workflow",
        "metadata.workflow",
        "langfuse.observation.metadata.workflow",
        "langfuse.trace.metadata.workflow",
    )
    feature: tuple[str, ...] = (
        "feature",
        "app.feature",
        "traceloop.association.properties.feature",
        "metadata.feature",
        "langfuse.observation.metadata.feature",
        "langfuse.trace.metadata.feature",
    )
    user_id: tuple[str, ...] = (
        "user.id",
        "enduser.id",
        "traceloop.association.properties.user_id",
        "metadata.user_id",
    )
    prompt_version: tuple[str, ...] = (
        "prompt.version",
        "gen_ai.prompt.version",
        "traceloop.prompt.version",
        "metadata.prompt_version",
    )
    environment: tuple[str, ...] = ("deployment.environment.name", "deployment.environment")
    # Bedrock requestMetadata keys per field (invocation logs)
    request_metadata: dict[str, tuple[str, ...]] = {
        "tenant": ("tenant", "tenant_id"),
        "route": ("route",),
        "workflow": ("workflow",),
        "feature": ("feature",),
        "user_id": ("user_id",),
        "prompt_version": ("prompt_version",),
        "environment": ("environment",),
    }
    # IAM identity ARN (exact, or prefix ending in '*') -> tenant
    identity_tenants: dict[str, str] = {}


class AwsSettings(_Section):
    region: str | None = None
    profile: str | None = None
    # Optional endpoint URL per service name (s3, logs, cloudwatch, bedrock, sns, ...)
    endpoints: dict[str, str] = {}
    max_attempts: int = Field(5, ge=1, le=100)


class S3Source(_Section):
    uri: str = Field(pattern=r"^s3://[^/]+(/.*)?$")
    poll_seconds: float = Field(300.0, gt=0, le=_MAX_INTERVAL_SECONDS)


class CloudWatchLogsSource(_Section):
    log_group: str = Field(min_length=1)
    log_stream: str = "aws/bedrock/modelinvocations"
    poll_seconds: float = Field(60.0, gt=0, le=_MAX_INTERVAL_SECONDS)


class FileSource(_Section):
    path: str = Field(min_length=1)
    poll_seconds: float = Field(30.0, gt=0, le=_MAX_INTERVAL_SECONDS)


class CloudWatchMetricsSource(_Section):
    enabled: bool = False
    model_ids: tuple[str, ...] = ()
    poll_seconds: float = Field(300.0, gt=0, le=_MAX_INTERVAL_SECONDS)
    lookback_minutes: int = Field(180, gt=0, le=_MAX_LOOKBACK_MINUTES)


class SourcesSettings(_Section):
    s3: tuple[S3Source, ...] = ()
    cloudwatch_logs: tuple[CloudWatchLogsSource, ...] = ()
    files: tuple[FileSource, ...] = ()
    cloudwatch_metrics: CloudWatchMetricsSource = CloudWatchMetricsSource()


class InferenceProfile(_Section):
    """An inference profile mapped by config (wins over the Bedrock API)."""

    model: str = Field(min_length=1)
    tenant: str | None = None
    workflow: str | None = None


class ProfilesSettings(_Section):
    resolve_with_api: bool = True
    cache_seconds: float = Field(3600.0, gt=0, le=_MAX_INTERVAL_SECONDS)
    # profile id or ARN -> what it resolves to
    map: dict[str, InferenceProfile] = {}


class PriceOverride(_Section):
    model: str = Field(min_length=1)
    region_scope: str = "any"  # any | in_region | geo | global
    valid_from: str = "1970-01-01"
    valid_to: str | None = None
    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)
    cache_read_per_mtok: float | None = Field(None, ge=0)
    cache_write_per_mtok: float | None = Field(None, ge=0)
    cache_write_1h_per_mtok: float | None = Field(None, ge=0)
    batch_discount: float = Field(0.5, ge=0, le=1)
    currency: str = "USD"

    @field_validator("valid_from", "valid_to")
    @classmethod
    def _whole_day(cls, value: str | None) -> str | None:
        # Reads price day rollups by their start (sql/macros/085_priced_counts.sql), so a
        # price may change only at a UTC midnight.
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"a day such as 2025-03-01 is expected; got {value!r}") from None
        if parsed.time() != time(0) or parsed.utcoffset() not in (None, timedelta(0)):
            raise ValueError(f"a price changes at the start of a UTC day (such as 2025-03-01); got {value!r}")
        return value


class ProvisionedThroughput(_Section):
    model: str = Field(min_length=1)
    region: str = Field(min_length=1)
    model_units: int = Field(gt=0)
    hourly_rate_per_unit: float = Field(gt=0)
    valid_from: str
    valid_to: str | None = None


class PricingSettings(_Section):
    use_genai_prices: bool = True
    # global/geo cross-region profiles priced relative to in-region (1.0 = same price)
    geo_multiplier: float = Field(1.0, gt=0)
    global_multiplier: float = Field(1.0, gt=0)
    overrides: tuple[PriceOverride, ...] = ()
    provisioned: tuple[ProvisionedThroughput, ...] = ()


class JobsSettings(_Section):
    enabled: bool = True
    rollup_interval_seconds: float = Field(60.0, gt=0, le=_MAX_INTERVAL_SECONDS)
    max_retries: int = Field(3, ge=0, le=100)


# The groups an alert rule may split by: llm_calls columns that name who or what called.
ALERT_GROUP_KEYS = ("tenant", "route", "workflow", "model", "region")
ALERT_RULE_KINDS = ("throttle_rate", "error_rate", "drift", "capacity")
# Drift metrics and the default threshold of each (see docs/alerts.md for the statistic,
# the direction and the unit of each threshold: relative change or absolute share).
DRIFT_METRICS: dict[str, float] = {
    "ttft_ms_p95": 0.5,
    "ttlt_ms_p95": 0.5,
    "otps_p50": 0.3,
    "input_tokens_per_request": 0.5,
    "output_tokens_per_request": 0.5,
    "cost_per_request_usd": 0.3,
    "cache_hit_share": 0.2,
    "error_rate": 0.02,
    "finish_reason_share": 0.1,
    "response_model": 0.05,
}
# What a capacity rule forecasts against its quota: the peak minute of each day.
CAPACITY_METRICS = ("quota_tpm", "tpm", "rpm")
_DEFAULT_THRESHOLD = {"throttle_rate": 0.01, "error_rate": 0.01, "capacity": 0.8}


class AlertChannel(_Section):
    type: Literal["webhook", "slack", "sns"]
    url: str | None = Field(None, pattern=r"^https?://")
    topic_arn: str | None = Field(None, pattern=r"^arn:")

    @model_validator(mode="after")
    def _target(self) -> AlertChannel:
        # each type needs its own target, and only it: a stray one is a likely typo
        if self.type == "sns":
            if self.topic_arn is None or self.url is not None:
                raise ValueError("an sns channel takes topic_arn (and no url)")
        elif self.url is None or self.topic_arn is not None:
            raise ValueError(f"a {self.type} channel takes url (and no topic_arn)")
        return self


class AlertRule(_Section):
    """One `[[alerts.rules]]` entry. `threshold` defaults by kind (and, for drift, by metric)."""

    name: str = Field(min_length=1)
    kind: Literal["throttle_rate", "error_rate", "drift", "capacity"]
    by: tuple[str, ...] = ()
    window_minutes: int = Field(15, gt=0, le=_MAX_LOOKBACK_MINUTES)
    threshold: float = Field(ge=0, le=100)
    min_requests: int = Field(100, ge=1)
    severity: Literal["info", "warning", "critical"] = "warning"
    channels: tuple[str, ...] = ()
    for_minutes: int = Field(0, ge=0, le=_MAX_LOOKBACK_MINUTES)
    renotify_minutes: int = Field(240, gt=0, le=_MAX_LOOKBACK_MINUTES)
    # drift: the metric and the days of the same hours it is compared with
    metric: str | None = None
    baseline_days: int = Field(7, ge=1, le=90)
    # drift on finish_reason_share: the finish reason whose share is watched
    finish_reason: str = Field("max_tokens", min_length=1)
    # capacity: how many days ahead the forecast upper bound is held against the quota
    horizon_days: int = Field(14, ge=1, le=30)

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        kind, metric = data.get("kind"), data.get("metric")
        if kind == "capacity":
            data.setdefault("metric", "quota_tpm")
            data.setdefault("by", ("model", "region"))
        if "threshold" not in data:
            if kind == "drift" and isinstance(metric, str) and metric in DRIFT_METRICS:
                data["threshold"] = DRIFT_METRICS[metric]
            else:  # an unknown kind or metric is reported by its own check
                data["threshold"] = _DEFAULT_THRESHOLD.get(kind, 0.01) if isinstance(kind, str) else 0.01
        return data

    @field_validator("by")
    @classmethod
    def _by(cls, by: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [k for k in by if k not in ALERT_GROUP_KEYS]
        if unknown:
            raise ValueError(f"unknown group key(s) {', '.join(unknown)}; known: {', '.join(ALERT_GROUP_KEYS)}")
        if len(set(by)) != len(by):
            raise ValueError("a group key is named twice")
        return by

    @model_validator(mode="after")
    def _per_kind(self) -> AlertRule:
        if self.kind == "drift":
            if self.metric not in DRIFT_METRICS:
                raise ValueError(f"a drift rule needs metric, one of {', '.join(DRIFT_METRICS)}; got {self.metric!r}")
        elif self.kind == "capacity":
            if self.metric not in CAPACITY_METRICS:
                known = ", ".join(CAPACITY_METRICS)
                raise ValueError(f"a capacity rule's metric is one of {known}; got {self.metric!r}")
            if set(self.by) != {"model", "region"}:
                raise ValueError("a capacity rule groups by model and region (quotas are per model and region)")
            if not 0 < self.threshold <= 1:
                raise ValueError("a capacity rule's threshold is a share of the quota, above 0 and at most 1")
        else:
            if self.metric is not None:
                raise ValueError(f"a {self.kind} rule takes no metric")
            if self.threshold > 1:
                raise ValueError(f"a {self.kind} rule's threshold is a rate, at most 1")
        return self


# The keys a budget's scope may filter on: the rollups keep them, so spend is read from them.
BUDGET_SCOPE_KEYS = ("tenant", "workflow", "route")


class BudgetScope(_Section):
    tenant: str | None = Field(None, min_length=1)
    workflow: str | None = Field(None, min_length=1)
    route: str | None = Field(None, min_length=1)

    def where(self) -> dict[str, str]:
        """The scope as a named-query `where`: only the keys that are set."""
        return {k: v for k in BUDGET_SCOPE_KEYS if (v := getattr(self, k)) is not None}


class AlertBudget(_Section):
    name: str = Field(min_length=1)
    scope: BudgetScope = BudgetScope()
    period: Literal["day", "month"]
    limit_usd: float = Field(gt=0)
    thresholds: tuple[float, ...] = (0.5, 0.8, 1.0)
    channels: tuple[str, ...] = ()
    severity: Literal["info", "warning", "critical"] = "warning"

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, thresholds: tuple[float, ...]) -> tuple[float, ...]:
        # shares of the limit; above 1 is allowed (an overrun alarm at 120%), 0 or less is not
        if not thresholds or any(not 0 < t <= 10 for t in thresholds):
            raise ValueError("thresholds must be shares of limit_usd, each above 0 and at most 10")
        if len(set(thresholds)) != len(thresholds):
            raise ValueError("a threshold is named twice")
        return tuple(sorted(thresholds))


class AlertsSettings(_Section):
    evaluate_seconds: float = Field(60.0, gt=0, le=_MAX_INTERVAL_SECONDS)
    # how long one delivery attempt may take; a hanging receiver costs at most this per attempt
    delivery_timeout_seconds: float = Field(5.0, gt=0, le=300)
    delivery_attempts: int = Field(3, ge=1, le=10)
    # where the dashboard is served, so a notification links to the alert's own view
    dashboard_url: str | None = Field(None, pattern=r"^https?://")
    channels: dict[str, AlertChannel] = {}
    rules: tuple[AlertRule, ...] = ()
    budgets: tuple[AlertBudget, ...] = ()

    @model_validator(mode="after")
    def _references(self) -> AlertsSettings:
        # budgets and rules share one name space: both name their alert instances
        names = [r.name for r in self.rules] + [b.name for b in self.budgets]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"alert rule or budget name(s) used twice: {', '.join(twice)}")
        named = [("rule", r.name, r.channels) for r in self.rules]
        named += [("budget", b.name, b.channels) for b in self.budgets]
        for what, name, channels in named:
            missing = [c for c in channels if c not in self.channels]
            if missing:
                raise ValueError(f"alert {what} {name!r} names unknown channel(s) {', '.join(missing)}")
        return self


class CapacityQuota(_Section):
    """An account's quota for a model in a region, per minute (wins over the Service Quotas API)."""

    model: str = Field(min_length=1)
    region: str = Field(min_length=1)
    tpm: int | None = Field(None, gt=0)
    rpm: int | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _some_limit(self) -> CapacityQuota:
        if self.tpm is None and self.rpm is None:
            raise ValueError("a quota needs tpm, rpm or both")
        return self


class ModelUnits(_Section):
    """Provisioned Throughput facts for a model: AWS publishes none, so they are configuration."""

    model: str = Field(min_length=1)
    input_tpm_per_unit: int = Field(gt=0)
    output_tpm_per_unit: int = Field(gt=0)
    hourly_usd_no_commitment: float | None = Field(None, gt=0)
    hourly_usd_1_month: float | None = Field(None, gt=0)
    hourly_usd_6_month: float | None = Field(None, gt=0)


class OutputBurndown(_Section):
    """Quota tokens each output token costs, for model ids starting with `model_prefix`."""

    model_prefix: str = Field(min_length=1)
    rate: float = Field(ge=1, le=100)


# Bedrock counts each output token 5 times against the TPM quota for Claude Sonnet 4 /
# Opus 4 and later; 1 for every other model. Prefixes match the foundation model id with any
# inference-profile geo prefix (us., eu., apac., global., ...) removed; the longest wins.
DEFAULT_OUTPUT_BURNDOWN = tuple(
    OutputBurndown(model_prefix=f"anthropic.claude-{family}-{major}", rate=5.0)
    for family in ("sonnet", "opus", "haiku") for major in range(4, 10)
    if (family, major) != ("haiku", 4)
) + (OutputBurndown(model_prefix="anthropic.claude-haiku-4-5", rate=5.0),)


class CapacitySettings(_Section):
    quotas: tuple[CapacityQuota, ...] = ()
    # read the TPM/RPM quotas of the models seen from the Service Quotas API (by quota name)
    service_quotas: bool = False
    model_units: tuple[ModelUnits, ...] = ()
    output_burndown: tuple[OutputBurndown, ...] = DEFAULT_OUTPUT_BURNDOWN
    # Provisioned Throughput sized for the peak plus this share
    headroom: float = Field(0.2, ge=0, le=10)

    @model_validator(mode="after")
    def _unique(self) -> CapacitySettings:
        named: tuple[tuple[str, list[str]], ...] = (
            ("quota", [f"{q.model}/{q.region}" for q in self.quotas]),
            ("model_units entry", [m.model for m in self.model_units]),
            ("output_burndown prefix", [b.model_prefix for b in self.output_burndown]),
        )
        for what, keys in named:
            twice = sorted({k for k in keys if keys.count(k) > 1})
            if twice:
                raise ValueError(f"{what} given twice: {', '.join(twice)}")
        return self


# Stages of the request path, in the order they are tried: a span takes the first stage
# with a matching pattern. Patterns are globs (`*`, `?`, `[...]`) matched case-insensitively
# against span names; the defaults match the span names the demo and common frameworks use.
DEFAULT_STAGES: dict[str, tuple[str, ...]] = {
    "retrieval": ("*retriev*", "*vector*", "*search*", "*embed*"),
    "rerank": ("*rerank*",),
    "prompt": ("*prompt*", "*template*"),
    "inference": ("chat *", "text_completion *", "generate_content *", "invoke_model*", "converse*"),
    "guardrail": ("*guardrail*", "*moderation*"),
    "postprocess": ("*postprocess*", "*post_process*", "*post-process*", "parse*", "format*"),
}


class StagesSettings(_Section):
    """How spans map to the stages of the request path ("where the time goes").

    A top-level span (the request itself, e.g. `POST /api/search`) is never matched by
    name; a span inside a span that has a stage counts toward that stage (an embedding call
    inside `retrieve documents` is retrieval time). A span that became an LLM call and
    matches no pattern is `llm_stage`.
    """

    map: dict[Annotated[str, Field(min_length=1)], tuple[Annotated[str, Field(min_length=1)], ...]] = DEFAULT_STAGES
    llm_stage: str = Field("inference", min_length=1)

    @model_validator(mode="after")
    def _llm_stage_is_a_stage(self) -> StagesSettings:
        if self.llm_stage not in self.map:
            raise ValueError(f"llm_stage {self.llm_stage!r} is not a stage of map ({', '.join(self.map)})")
        if "other" in self.map:
            raise ValueError("'other' is the time outside every stage; name the stage differently")
        return self


class DashboardSettings(_Section):
    """`outcrop dashboard`: where it listens, which API it reads, who may open it."""

    port: int = Field(8501, ge=1, le=65535)
    address: str = Field("127.0.0.1", min_length=1)
    # the read API to show; unset: the server that owns `db`
    api_url: str | None = Field(None, pattern=r"^https?://[^/]+")
    password: SecretStr | None = None
    # set by a reverse proxy that authenticated the user; requests without it are refused
    trusted_user_header: str | None = Field(None, pattern=r"^[A-Za-z0-9-]+$")

    @field_validator("password")
    @classmethod
    def _password_not_empty(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value():
            raise ValueError("an empty password protects nothing; leave the key out for none")
        return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="OUTCROP_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    db: str = DEFAULT_DB
    server: ServerSettings = ServerSettings()
    ingest: IngestSettings = IngestSettings()
    attribution: AttributionSettings = AttributionSettings()
    aws: AwsSettings = AwsSettings()
    sources: SourcesSettings = SourcesSettings()
    profiles: ProfilesSettings = ProfilesSettings()
    pricing: PricingSettings = PricingSettings()
    jobs: JobsSettings = JobsSettings()
    alerts: AlertsSettings = AlertsSettings()
    capacity: CapacitySettings = CapacitySettings()
    stages: StagesSettings = StagesSettings()
    dashboard: DashboardSettings = DashboardSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = _config_path()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)


class ConfigError(Exception):
    """A configuration problem, with the offending key named in the message."""


def _config_path() -> Path | None:
    explicit = os.environ.get("OUTCROP_CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"OUTCROP_CONFIG: no such file {explicit!r}")
        return path
    default = Path("outcrop.toml")
    return default if default.is_file() else None


def load_settings(**overrides: Any) -> Settings:
    """Load settings; raise ConfigError naming each bad key."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        key = ".".join(str(part) for part in err["loc"]) or "(root)"
        if err["type"] == "extra_forbidden":
            lines.append(f"unknown configuration key {key!r}")
        else:
            lines.append(f"configuration key {key!r}: {err['msg']}")
    return "; ".join(lines)
