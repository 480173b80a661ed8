"""Golden tests: spans from real instrumentation packages (and hand-built ones for
producers not installed) normalise to canonical values checked by hand.

Each `NAME.input.json` in tests/testdata/otlp/ is one span; `NAME.expected.json` holds
the values a person worked out from the fake Bedrock runtime's configured reply (e.g.
1000 uncached input, 3000 cache read, 500 cache write, 200 output tokens). Inputs from
real packages are re-captured with `python -m tests.producers`; the live tests below
also run the installed packages now, so an upgrade that changes what they emit fails
here rather than in production.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from outcrop.collector.normalize.otlp import normalize_span
from outcrop.core.records import ATTRIBUTION_FIELDS
from outcrop.core.settings import AttributionSettings
from tests.producers import GOLDEN_DIR, PRODUCERS, SCENARIOS, record_from_json, run_scenario

CASES = sorted(p.name.removesuffix(".input.json") for p in GOLDEN_DIR.glob("*.input.json"))
KEYS = AttributionSettings()
# Differ on every capture: checked in the golden test only, not the live one.
VOLATILE = frozenset({"call_id", "ts_ns", "trace_id", "span_id", "ttlt_ms", "otps"})


def _load(name: str, kind: str) -> dict[str, Any]:
    obj: dict[str, Any] = json.loads((GOLDEN_DIR / f"{name}.{kind}.json").read_text())
    return obj


def _check(actual: Any, expected: dict[str, Any], skip: frozenset[str] = frozenset()) -> None:
    own = {field: getattr(actual.own, field) for field in ATTRIBUTION_FIELDS}
    assert own == expected["own"]
    if expected["llm_call"] is None:
        assert actual.llm_call is None
        return
    assert actual.llm_call is not None, "expected an LLM call"
    for key, want in expected["llm_call"].items():
        if key in skip:
            continue
        got = getattr(actual.llm_call, key)
        if isinstance(want, float):
            assert got == pytest.approx(want, rel=1e-6), key
        else:
            assert got == want, key


def test_every_input_has_expected_values() -> None:
    missing = [n for n in CASES if not (GOLDEN_DIR / f"{n}.expected.json").exists()]
    assert not missing
    assert len(CASES) >= 19


@pytest.mark.parametrize("name", CASES)
def test_golden(name: str) -> None:
    rec = record_from_json(_load(name, "input"))
    _check(normalize_span(rec, KEYS), _load(name, "expected"))


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
@pytest.mark.parametrize("producer", PRODUCERS)
def test_live_producer_matches_golden(producer: str, scenario: str) -> None:
    (rec,) = run_scenario(producer, scenario)
    _check(normalize_span(rec, KEYS), _load(f"{producer}_{scenario}", "expected"), VOLATILE)


def test_call_id_is_trace_id_then_span_id() -> None:
    rec = record_from_json(_load("botocore_converse_cached", "input"))
    call = normalize_span(rec, KEYS).llm_call
    assert call is not None
    assert call.call_id == rec.trace_id + rec.span_id
    assert call.ts_ns == rec.start_ns
    assert call.ttlt_ms == pytest.approx((rec.end_ns - rec.start_ns) / 1e6)
