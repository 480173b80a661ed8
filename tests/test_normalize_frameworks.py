"""Agent frameworks and LLM SDKs, run for real against the fake Bedrock runtime.

The golden files `<producer>_<scenario>.input.json` were captured from these packages
(`python -m tests.frameworks`); here the installed packages run again, so an upgrade that
changes what they emit fails in this file, and the canonical values a person checked by
hand in the expected files (1000 uncached, 3000 cache read, 200 cache write, 150 output,
a first token held back 200 ms, a 429 ThrottlingException) hold for what they send now.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from outcrop.collector.normalize.otlp import normalize_span
from outcrop.core.records import ATTRIBUTION_FIELDS
from outcrop.core.settings import AttributionSettings
from tests.frameworks import FIRST_TOKEN_DELAY_S, FRAMEWORKS, llm_span, run_framework
from tests.producers import GOLDEN_DIR

KEYS = AttributionSettings()
# Measured on each run: the golden test checks the captured values, this one bounds TTFT.
VOLATILE = frozenset({"ttft_ms", "ttlt_ms", "otps"})


def _expected(name: str) -> dict[str, Any]:
    obj: dict[str, Any] = json.loads((GOLDEN_DIR / f"{name}.expected.json").read_text())
    return obj


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every host name resolved while the test runs: a package phoning home shows here."""
    seen: list[str] = []
    real = socket.getaddrinfo

    def recording(host: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(str(host))
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", recording)
    yield seen


CASES = [(producer, scenario) for producer in sorted(FRAMEWORKS) for scenario in FRAMEWORKS[producer].scenarios]


@pytest.mark.parametrize(("producer", "scenario"), CASES)
def test_live_framework_matches_golden(producer: str, scenario: str, lookups: list[str]) -> None:
    call = normalize_span(llm_span(producer, run_framework(producer, scenario)), KEYS)
    expected = _expected(f"{producer}_{scenario}")
    assert {field: getattr(call.own, field) for field in ATTRIBUTION_FIELDS} == expected["own"]
    assert call.llm_call is not None, "expected an LLM call"
    for key, want in expected["llm_call"].items():
        if key not in VOLATILE:
            assert getattr(call.llm_call, key) == want, key
    if scenario == "converse_stream" and expected["llm_call"].get("ttft_ms") is not None:
        # The fake held the stream back: no earlier first token is possible.
        assert call.llm_call.ttft_ms is not None
        assert call.llm_call.ttft_ms >= FIRST_TOKEN_DELAY_S * 1000
    assert set(lookups) <= {"127.0.0.1", "localhost"}, "a package reached for the network"
