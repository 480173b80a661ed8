"""Bedrock invocation-log rows → canonical calls, over whole columns.

The column-wise twin of `bedrock.parse_record`, for the rows the native decoder decoded
(`decode/invocation_native.py`): the decoder has read each field with `bedrock.py`'s value
rules; what is convention is applied here, once per batch, with polars expressions —
stream operations, TTFT only for streamed calls, OTPS, throttle classes, the identity →
tenant map — and once per *distinct* model id, not per row: model-id normalisation and
inference-profile resolution. `tests/test_native_invocation_logs.py` holds the result to
what `parse_record` gives for the same lines.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import polars as pl
import pyarrow as pa

from outcrop.collector.decode.invocation_native import METADATA_PREFIX
from outcrop.collector.normalize.bedrock import PROVIDER, STREAM_OPERATIONS, _model_info, tenant_for_identity
from outcrop.core.records import ATTRIBUTION_FIELDS, THROTTLE_ERRORS, LlmCall
from outcrop.core.settings import AttributionSettings

ApplyProfile = Callable[[LlmCall], None]

# The calls table: LlmCall's stored fields (merge._INVOCATION_COLUMNS without the two the
# writer adds) and the ones the per-record path computes besides, in one order.
CALL_COLUMNS: tuple[str, ...] = (
    "call_id", "source", "request_id", "ts", *ATTRIBUTION_FIELDS, "operation", "provider",
    "request_model", "model", "region", "inference_profile", "input_tokens", "cache_read_tokens",
    "cache_write_tokens", "output_tokens", "streaming", "ttft_ms", "ttlt_ms", "otps", "status",
    "error_type", "finish_reason", "account_id", "identity_arn", "inference_region", "source_uri",
)


def normalize_rows(rows: pa.RecordBatch | pa.Table, lines: Sequence[int], locations: Sequence[str],
                   keys: AttributionSettings, apply_profile: ApplyProfile | None = None) -> pl.DataFrame:
    """The calls of decoded rows whose status is `ok` (the caller keeps only those), in
    their order, as CALL_COLUMNS and `line`; row i was line `lines[i]` of `locations[i]`,
    its `location:line` source URI."""
    frame = pl.from_arrow(rows)
    assert isinstance(frame, pl.DataFrame)
    frame = frame.with_columns(pl.Series("line", lines, dtype=pl.Int64),
                               pl.Series("location", locations, dtype=pl.String))
    frame = _with_models(frame, apply_profile)
    frame = _with_attribution(frame, keys)
    return frame.select(*_call_columns(), "line").select(*CALL_COLUMNS, "line")


def _with_models(frame: pl.DataFrame, apply_profile: ApplyProfile | None) -> pl.DataFrame:
    """model, inference_profile and the tenant/workflow a profile brings, per distinct id."""
    ids = frame.get_column("model_id").drop_nulls().unique().to_list()
    found: dict[str, list[Any]] = {"model_id": [], "model": [], "inference_profile": [],
                                   "profile_tenant": [], "profile_workflow": []}
    for model_id in ids:
        call = LlmCall(call_id="", source="bedrock_log", ts_ns=0, request_model=model_id)
        call.model, _scope, call.inference_profile = _model_info(model_id)
        if apply_profile is not None and (call.inference_profile is not None or call.model is None):
            apply_profile(call)  # as LogReader.add_record does, for a call with no tenant yet
        for name, value in (("model_id", model_id), ("model", call.model),
                            ("inference_profile", call.inference_profile),
                            ("profile_tenant", call.tenant), ("profile_workflow", call.workflow)):
            found[name].append(value)
    table = pl.DataFrame(found, schema={name: pl.String for name in found})
    return frame.join(table, on="model_id", how="left", maintain_order="left")


def _with_attribution(frame: pl.DataFrame, keys: AttributionSettings) -> pl.DataFrame:
    """requestMetadata fields, then the identity map for a tenant still missing, then what
    an inference profile names (the order of `parse_record` and `ProfileResolver.apply`)."""
    fields = {f: pl.col(f"{METADATA_PREFIX}{f}") if f"{METADATA_PREFIX}{f}" in frame.columns
              else pl.lit(None, pl.String) for f in ATTRIBUTION_FIELDS}
    frame = frame.with_columns(**{f: expr for f, expr in fields.items()})
    if keys.identity_tenants:
        arns = frame.filter(pl.col("tenant").is_null()).get_column("identity_arn").drop_nulls().unique()
        table = pl.DataFrame({"identity_arn": arns.to_list(),
                              "identity_tenant": [tenant_for_identity(a, keys.identity_tenants)
                                                  for a in arns.to_list()]},
                             schema={"identity_arn": pl.String, "identity_tenant": pl.String})
        frame = frame.join(table, on="identity_arn", how="left", maintain_order="left")
        frame = frame.with_columns(tenant=pl.coalesce("tenant", "identity_tenant"))
    return frame.with_columns(tenant=pl.coalesce("tenant", "profile_tenant"),
                              workflow=pl.coalesce("workflow", "profile_workflow"))


def _call_columns() -> list[pl.Expr | str]:
    op = pl.col("operation")
    # bedrock._fill_body: streamed by operation, or by a stream's invocation metrics.
    streaming = (pl.when(pl.col("body_streamed")).then(True)
                 .when(op.is_null()).then(None)
                 .otherwise(op.is_in(sorted(STREAM_OPERATIONS))))
    ttft = pl.when(streaming).then(pl.col("ttft_ms")).otherwise(None)
    error = pl.coalesce("error_code", "body_error")
    tokens, ttlt = pl.col("output_tokens"), pl.col("ttlt_ms")
    # core.records.compute_otps, over the column.
    otps = (pl.when((tokens > 1) & (ttlt > ttft))
            .then(tokens.cast(pl.Float64) / ((ttlt - ttft) / 1000.0)).otherwise(None))
    return [
        pl.col("request_id").alias("call_id"),
        pl.lit("bedrock_log").alias("source"),
        "request_id",
        (pl.col("ts_ns") // 1000).cast(pl.Datetime("us")).alias("ts"),
        *ATTRIBUTION_FIELDS,
        "operation",
        pl.lit(PROVIDER).alias("provider"),
        pl.col("model_id").alias("request_model"),
        "model", "inference_profile", "region",
        "input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens",
        streaming.alias("streaming"),
        ttft.alias("ttft_ms"),
        "ttlt_ms",
        otps.alias("otps"),
        (pl.when(error.is_in(sorted(THROTTLE_ERRORS))).then(pl.lit("throttled"))
         .when(error.is_not_null()).then(pl.lit("error")).otherwise(pl.lit("ok")).alias("status")),
        error.alias("error_type"),
        "finish_reason", "account_id", "identity_arn", "inference_region",
        (pl.col("location") + ":" + pl.col("line").cast(pl.String)).alias("source_uri"),
    ]


def calls_frame(calls: Sequence[LlmCall], uris: Sequence[str], lines: Sequence[int]) -> pl.DataFrame:
    """The same table from per-record calls (the reference path), for one store write with
    native rows and for the differential test."""
    columns: dict[str, Any] = {name: [getattr(c, name) for c in calls]
                               for name in CALL_COLUMNS if name not in ("ts", "source_uri")}
    columns["ts"] = [c.ts_ns // 1000 for c in calls]
    columns["source_uri"] = list(uris)
    columns["line"] = list(lines)
    frame = pl.DataFrame(columns, schema=_SCHEMA)
    return frame.with_columns(pl.col("ts").cast(pl.Datetime("us"))).select(*CALL_COLUMNS, "line")


def latest_per_request(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per request id, the last one read (as `store_bedrock_calls` keeps it)."""
    return frame.unique(subset="request_id", keep="last", maintain_order=True)


_FLOATS = ("ttft_ms", "ttlt_ms", "otps")
_INTS = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens")
_SCHEMA: dict[str, Any] = {
    name: (pl.Float64 if name in _FLOATS else pl.Int64 if name in _INTS
           else pl.Boolean if name == "streaming" else pl.Int64 if name == "ts" else pl.String)
    for name in (*CALL_COLUMNS, "line")
}
_SCHEMA["line"] = pl.Int64
