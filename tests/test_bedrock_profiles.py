"""Inference-profile resolution: config first, then the Bedrock control plane (a real
HTTP fake reached by boto3's `bedrock` client), cached; unresolvable ones listed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from outcrop.collector.profiles import ProfileResolver, unresolved_profiles
from outcrop.collector.sources import read_log_source_once
from outcrop.core.aws import AwsClients
from outcrop.core.records import LlmCall
from outcrop.core.settings import (
    AttributionSettings,
    AwsSettings,
    InferenceProfile,
    ProfilesSettings,
    Settings,
)
from outcrop.core.store.writer import Store
from tests.fakes.bedrock_control import FakeBedrockControl, FakeProfile

NOW = datetime(2026, 11, 20, 15, 0, 0)
SAMPLES = Path(__file__).parent / "testdata" / "bedrock" / "samples"
APP_ARN = "arn:aws:bedrock:eu-central-1:111122223333:application-inference-profile/abc123def456"
SONNET = "anthropic.claude-3-5-sonnet-20240620-v1:0"


@pytest.fixture()
def creds(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1",
                       "AWS_EC2_METADATA_DISABLED": "true"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture()
def control(creds: None) -> Iterator[FakeBedrockControl]:
    profiles = {APP_ARN: FakeProfile(APP_ARN, SONNET, {"tenant": "globex", "team": "reports"},
                                     regions=("eu-central-1", "eu-west-1"))}
    with FakeBedrockControl(profiles, denied={"secret-profile"}) as fake:
        yield fake


def settings_with(control: FakeBedrockControl | None, **profiles: Any) -> Settings:
    endpoints = {"bedrock": control.endpoint_url} if control else {}
    return Settings(aws=AwsSettings(region="us-east-1", endpoints=endpoints, max_attempts=1),
                    profiles=ProfilesSettings(**profiles))


def stored(db: str) -> dict[str, dict[str, Any]]:
    store = Store.open(db)
    try:
        rows = store.query("SELECT * FROM llm_calls").to_pylist()
    finally:
        store.close()
    return {r["request_id"]: r for r in rows}


def test_samples_give_the_readme_values_with_the_profile_resolved_by_the_api(
    control: FakeBedrockControl, tmp_path: Path
) -> None:
    db = str(tmp_path / "outcrop.duckdb")
    store = Store.open(db)
    read_log_source_once(store, settings_with(control), str(SAMPLES), NOW)
    store.close()
    rows = stored(db)
    converse = rows["5d2f0b1e-8c4a-4f55-9b0e-1c2d3e4f5a6b"]
    assert {k: converse[k] for k in ("input_tokens", "cache_read_tokens", "output_tokens",
                                     "ttlt_ms", "ttft_ms", "otps", "tenant", "route",
                                     "workflow", "model", "streaming", "source")} == {
        "input_tokens": 1000, "cache_read_tokens": 3000, "output_tokens": 200,
        "ttlt_ms": 1850.0, "ttft_ms": None, "otps": None, "tenant": "acme", "route": "fast",
        "workflow": "support-chat", "model": "anthropic.claude-3-5-haiku-20241022-v1:0",
        "streaming": False, "source": "bedrock_log",
    }
    stream = rows["0a9e7c61-3b2d-4e8f-a1c0-77d6e5f4c3b2"]
    assert {k: stream[k] for k in ("input_tokens", "cache_write_tokens", "output_tokens",
                                   "ttft_ms", "ttlt_ms", "tenant", "model", "streaming",
                                   "inference_profile")} == {
        "input_tokens": 6200, "cache_write_tokens": 4096, "output_tokens": 850,
        "ttft_ms": 620.0, "ttlt_ms": 9400.0, "tenant": "globex", "model": SONNET,
        "streaming": True, "inference_profile": APP_ARN,
    }
    assert stream["otps"] == pytest.approx(96.8, abs=0.05)
    # The system profile of the Converse sample needed no API call.
    assert [m for m, _ in control.requests] == ["GET", "POST"]


def test_config_map_wins_and_needs_no_api_call(control: FakeBedrockControl,
                                               tmp_path: Path) -> None:
    db = str(tmp_path / "outcrop.duckdb")
    mapped = {"abc123def456": InferenceProfile(model="anthropic.claude-3-haiku-20240307-v1:0",
                                               tenant="initech", workflow="contracts")}
    store = Store.open(db)
    read_log_source_once(store, settings_with(control, map=mapped), str(SAMPLES), NOW)
    store.close()
    stream = stored(db)["0a9e7c61-3b2d-4e8f-a1c0-77d6e5f4c3b2"]
    assert (stream["model"], stream["tenant"], stream["workflow"]) == (
        "anthropic.claude-3-haiku-20240307-v1:0", "initech", "contracts")
    assert control.requests == []


def test_api_answers_are_cached_for_the_configured_time(control: FakeBedrockControl) -> None:
    clock = {"now": 1000.0}
    resolver = ProfileResolver(ProfilesSettings(cache_seconds=60), AttributionSettings(),
                               AwsClients(settings_with(control).aws), lambda: clock["now"])
    first = resolver.resolve(APP_ARN)
    assert (first.model, first.tenant, first.source) == (SONNET, "globex", "api")
    resolver.resolve(APP_ARN)
    clock["now"] += 59
    resolver.resolve(APP_ARN)
    assert len([r for r in control.requests if r[0] == "GET"]) == 1
    clock["now"] += 2
    resolver.resolve(APP_ARN)
    assert len([r for r in control.requests if r[0] == "GET"]) == 2


def test_unresolvable_profiles_are_listed_and_left_unpriced_until_config_names_them(
    control: FakeBedrockControl, tmp_path: Path
) -> None:
    unknown = "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/zzz999"
    denied = "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/secret-profile"
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a.jsonl").write_text("".join(json.dumps({
        "requestId": rid, "timestamp": "2026-11-20T10:00:00Z", "modelId": model,
        "input": {"inputTokenCount": 5}, "output": {"outputTokenCount": 5},
    }) + "\n" for rid, model in [("u1", unknown), ("d1", denied)]))
    db = str(tmp_path / "outcrop.duckdb")
    store = Store.open(db)
    read_log_source_once(store, settings_with(control), str(logs), NOW)
    listed = dict(unresolved_profiles(store.cursor()))
    store.close()
    assert set(listed) == {unknown, denied}
    assert "ResourceNotFoundException" in str(listed[unknown]) and unknown in str(listed[unknown])
    assert "AccessDeniedException" in str(listed[denied])
    assert stored(db)["u1"]["model"] is None  # unpriced, never guessed

    # Config names it later; the next record of that profile fixes the earlier one too.
    (logs / "b.jsonl").write_text(json.dumps({
        "requestId": "u2", "timestamp": "2026-11-20T11:00:00Z", "modelId": unknown}) + "\n")
    mapped = {unknown: InferenceProfile(model="amazon.nova-pro-v1:0")}
    store = Store.open(db)
    read_log_source_once(store, settings_with(control, map=mapped), str(logs), NOW)
    listed = dict(unresolved_profiles(store.cursor()))
    store.close()
    assert set(listed) == {denied}
    rows = stored(db)
    assert (rows["u1"]["model"], rows["u2"]["model"]) == ("amazon.nova-pro-v1:0",) * 2


def test_system_profiles_strip_to_their_model_without_the_api() -> None:
    resolver = ProfileResolver(ProfilesSettings(), AttributionSettings(), clients=None)
    arn = ("arn:aws:bedrock:us-east-1:111122223333:inference-profile/"
           "apac.amazon.nova-micro-v1:0")
    found = resolver.resolve(arn)
    assert (found.model, found.source) == ("amazon.nova-micro-v1:0", "system")
    call = LlmCall(call_id="c", source="bedrock_log", ts_ns=0, request_model=APP_ARN,
                   inference_profile=APP_ARN)
    resolver.apply(call)  # no API configured: stays unresolved, model None
    assert call.model is None
    assert resolver.take_fresh()[-1].error == "not in [profiles.map] and API lookup is off"
