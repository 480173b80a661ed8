"""The pure invocation-log reader: golden cases, attribution, and malformed records.

Each `testdata/bedrock/cases/<name>.json` is one record; `<name>.expected.json` lists the
canonical fields it must give (every field not listed must be None).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from outcrop.collector.normalize.bedrock import (
    MalformedRecord,
    output_body_location,
    parse_record,
    tenant_for_identity,
    with_output_body,
)
from outcrop.core.settings import AttributionSettings

CASES = Path(__file__).parent / "testdata" / "bedrock" / "cases"
SAMPLES = Path(__file__).parent / "testdata" / "bedrock" / "samples"
KEYS = AttributionSettings()


def load(path: Path) -> Any:
    return json.loads(path.read_text())


@pytest.mark.parametrize(
    "name", sorted(p.name[:-5] for p in CASES.glob("*.json") if ".expected" not in p.name)
)
def test_golden_case(name: str) -> None:
    got = {k: v for k, v in asdict(parse_record(load(CASES / f"{name}.json"), KEYS)).items()
           if v is not None}
    assert got == load(CASES / f"{name}.expected.json")


def test_converse_sample_gives_the_readme_values() -> None:
    call = parse_record(load(SAMPLES / "bedrock-invocation-converse.json"), KEYS)
    assert (call.input_tokens, call.cache_read_tokens, call.cache_write_tokens,
            call.output_tokens) == (1000, 3000, 0, 200)
    assert call.ttlt_ms == 1850.0
    assert call.ttft_ms is None and call.otps is None and call.streaming is False
    assert (call.tenant, call.route, call.workflow) == ("acme", "fast", "support-chat")
    assert call.model == "anthropic.claude-3-5-haiku-20241022-v1:0"
    assert call.inference_profile == "us.anthropic.claude-3-5-haiku-20241022-v1:0"
    assert (call.region, call.inference_region) == ("us-east-1", "us-west-2")
    assert call.ts_ns == int(datetime(2026, 11, 20, 14, 3, 27, tzinfo=UTC).timestamp()) * 10**9
    assert (call.status, call.finish_reason, call.source) == ("ok", "end_turn", "bedrock_log")


def test_stream_sample_gives_the_readme_latencies_before_profile_resolution() -> None:
    call = parse_record(load(SAMPLES / "bedrock-invocation-stream.json"), KEYS)
    assert (call.input_tokens, call.cache_read_tokens, call.cache_write_tokens,
            call.output_tokens) == (6200, 0, 4096, 850)
    assert (call.ttft_ms, call.ttlt_ms, call.streaming) == (620.0, 9400.0, True)
    assert call.otps == pytest.approx(96.8, abs=0.05)
    assert call.otps == 850 / 8.78
    # An application profile names no model: resolution (test_bedrock_profiles) fills it.
    assert call.model is None and call.tenant is None
    assert call.inference_profile == (
        "arn:aws:bedrock:eu-central-1:111122223333:application-inference-profile/abc123def456"
    )


def test_identity_arn_maps_to_tenant_exactly_or_by_longest_prefix() -> None:
    table = {
        "arn:aws:sts::111122223333:assumed-role/*": "platform",
        "arn:aws:sts::111122223333:assumed-role/report-writer-task/*": "reports",
        "arn:aws:sts::111122223333:assumed-role/report-writer-task/91bd": "exact",
    }
    assert tenant_for_identity("arn:aws:sts::111122223333:assumed-role/report-writer-task/91bd",
                               table) == "exact"
    assert tenant_for_identity("arn:aws:sts::111122223333:assumed-role/report-writer-task/x",
                               table) == "reports"
    assert tenant_for_identity("arn:aws:sts::111122223333:assumed-role/other/x",
                               table) == "platform"
    assert tenant_for_identity("arn:aws:iam::999:user/bob", table) is None


def test_request_metadata_wins_over_identity_mapping() -> None:
    keys = AttributionSettings(identity_tenants={"arn:aws:sts::111122223333:*": "by-role"})
    converse = load(SAMPLES / "bedrock-invocation-converse.json")
    assert parse_record(converse, keys).tenant == "acme"
    stream = load(SAMPLES / "bedrock-invocation-stream.json")
    assert parse_record(stream, keys).tenant == "by-role"


def test_custom_request_metadata_keys() -> None:
    keys = AttributionSettings(request_metadata={"tenant": ("customer",), "route": ("path",)})
    record = {"requestId": "r", "timestamp": "2026-11-20T00:00:00Z",
              "requestMetadata": {"customer": "hooli", "path": "/chat", "tenant": "ignored"}}
    call = parse_record(record, keys)
    assert (call.tenant, call.route, call.workflow) == ("hooli", "/chat", None)


def test_body_moved_to_s3_is_located_and_put_back() -> None:
    record = {"requestId": "r", "timestamp": "2026-11-20T00:00:00Z", "operation": "Converse",
              "output": {"outputBodyS3Path": "s3://b/k/data/out.json.gz", "outputTokenCount": 9}}
    assert output_body_location(record) == "s3://b/k/data/out.json.gz"
    assert parse_record(record, KEYS).finish_reason is None
    full = with_output_body(record, {"stopReason": "end_turn", "metrics": {"latencyMs": 77}})
    assert output_body_location(full) is None
    call = parse_record(full, KEYS)
    assert (call.finish_reason, call.ttlt_ms, call.output_tokens) == ("end_turn", 77.0, 9)


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ([1, 2], "not a JSON object"),
        ({"timestamp": "2026-11-20T00:00:00Z"}, "no requestId"),
        ({"requestId": "r"}, "no timestamp"),
        ({"requestId": "r", "timestamp": "20/11/2026"}, "not ISO 8601"),
        ({"requestId": "r", "timestamp": "2026-11-20T00:00:00Z", "schemaType": "Other"},
         "not ModelInvocationLog"),
    ],
)
def test_malformed_records_raise_with_a_reason(record: Any, reason: str) -> None:
    with pytest.raises(MalformedRecord, match=reason):
        parse_record(record, KEYS)


@pytest.mark.parametrize(
    ("section", "field", "value"),
    [
        ("input", "inputTokenCount", 1_500_000_000_000),
        ("input", "cacheReadInputTokenCount", 2**63 - 1),
        ("input", "cacheWriteInputTokenCount", -1),
        ("output", "outputTokenCount", "1500000000000"),
        ("output", "outputTokenCount", 1.5e12),
        ("output", "outputTokenCount", float("inf")),
    ],
)
def test_implausible_token_count_makes_a_malformed_record(section: str, field: str, value: Any) -> None:
    record = {"requestId": "r", "timestamp": "2026-11-20T00:00:00Z", section: {field: value}}
    with pytest.raises(MalformedRecord, match=rf"{section}\.{field} = .* 100,000,000"):
        parse_record(record, KEYS)


def test_the_token_bound_of_a_log_record_is_a_parameter() -> None:
    record = {"requestId": "r", "timestamp": "2026-11-20T00:00:00Z", "output": {"outputTokenCount": 5000}}
    assert parse_record(record, KEYS, max_tokens=5000).output_tokens == 5000
    with pytest.raises(MalformedRecord, match="0 to 4,999"):
        parse_record(record, KEYS, max_tokens=4999)
