"""Whatever the senders, their stated tenants and accounts, and wherever the invocation
log arrives among the spans naming its request id, the request is one llm_calls row: the
first received span that does not contradict the log, merged with it, else the log's own.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from otlp_payloads import llm_attrs, request, sid, span, tid

from outcrop.collector.decode.otlp import records_from_request
from outcrop.collector.merge import store_bedrock_calls
from outcrop.collector.span_batch import SpanBatch, SpanWrite, build_span_batch, write_span_batch
from outcrop.core.records import LlmCall
from outcrop.core.settings import AttributionSettings
from outcrop.core.store.writer import Store

KEYS = AttributionSettings()
T0 = datetime(2026, 11, 20, 10, 0)
REQUEST_ID = "req-prop"
# (ingest key fingerprint, bound tenant): open ingest, and two keys bound to tenants
SENDERS = [(None, None), ("key-a", "acme"), ("key-b", "globex")]
TENANTS = st.sampled_from([None, "acme", "globex"])
ACCOUNTS = st.sampled_from([None, "111111111111", "222222222222"])

Claim = dict[str, Any]


@st.composite
def claims(draw: st.DrawFn) -> list[Claim]:
    return [{"trace": i, "sender": draw(st.integers(0, len(SENDERS) - 1)), "tenant": draw(TENANTS),
             "account": draw(ACCOUNTS), "tokens": 100 + i} for i in range(draw(st.integers(1, 4)))]


def own_tenant(claim: Claim) -> str | None:
    bound = SENDERS[claim["sender"]][1]
    return bound if bound is not None else claim["tenant"]


def mismatch(claim: Claim, log: dict[str, Any] | None) -> str | None:
    if log is None:
        return None
    if log["tenant"] and own_tenant(claim) and log["tenant"] != own_tenant(claim):
        return "tenant_mismatch"
    if log["account"] and claim["account"] and log["account"] != claim["account"]:
        return "account_mismatch"
    return None


def expected(spans: list[Claim], log: dict[str, Any] | None) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(llm_calls rows, conflicts), from the claims in the order they were received."""
    eligible = [c for c in spans if mismatch(c, log) is None]
    winner = eligible[0] if eligible else None
    rows: list[tuple[Any, ...]] = []
    if winner is not None:
        source, tokens = ("merged", 70_000) if log else ("otlp", winner["tokens"])
        tenant = (log and log["tenant"]) or own_tenant(winner) or "unattributed"
        rows.append((tid(winner["trace"]) + sid(1), source, tenant, tokens))
    elif log is not None:
        rows.append((REQUEST_ID, "bedrock_log", log["tenant"] or "unattributed", 70_000))
    conflicts = sorted((tid(c["trace"]) + sid(1), mismatch(c, log) or "duplicate")
                       for c in spans if c is not winner)
    return rows, conflicts


def span_batch(claim: Claim, received_at: datetime) -> SpanBatch:
    attrs = llm_attrs(REQUEST_ID, **{"gen_ai.usage.input_tokens": claim["tokens"]})
    if claim["tenant"]:
        attrs["tenant.id"] = claim["tenant"]
    resource = {"service.name": "svc", **({"cloud.account.id": claim["account"]} if claim["account"] else {})}
    payload = request(span(tid(claim["trace"]), sid(1), kind=3, attrs=attrs), resource=resource)
    key, bound = SENDERS[claim["sender"]]
    batch = build_span_batch(records_from_request(payload, 4096).records, KEYS, bound_tenant=bound,
                             received_at=received_at)
    return dataclasses.replace(batch, sender_key=key)


def log_call(log: dict[str, Any]) -> LlmCall:
    return LlmCall(call_id=REQUEST_ID, source="bedrock_log", ts_ns=0, request_id=REQUEST_ID,
                   tenant=log["tenant"], account_id=log["account"], input_tokens=70_000, output_tokens=5)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spans=claims(), log=st.none() | st.fixed_dictionaries({"tenant": TENANTS, "account": ACCOUNTS}),
       data=st.data())
def test_one_row_per_request_whatever_the_arrival_order(tmp_path: Path, spans: list[Claim],
                                                        log: dict[str, Any] | None, data: st.DataObject) -> None:
    log_at = data.draw(st.integers(0, len(spans)))  # how many spans come before the log
    together = data.draw(st.booleans())  # the spans in one commit group, or one commit each
    batches = [span_batch(c, T0 + timedelta(seconds=i)) for i, c in enumerate(spans)]
    store = Store.open(str(tmp_path / f"{uuid.uuid4().hex}.duckdb"))
    try:
        def write_log() -> None:
            if log is not None:
                store.write(lambda con: store_bedrock_calls(con, [log_call(log)], ["f:1"], T0))

        def write_spans(part: list[SpanBatch]) -> None:
            if together:
                for f in [store.submit(SpanWrite(b, T0)) for b in part]:
                    f.result(30)
            else:
                for b in part:
                    store.write(lambda con, b=b: write_span_batch(con, b, T0))

        write_spans(batches[:log_at])
        write_log()
        write_spans(batches[log_at:])
        rows = [tuple(r.values()) for r in store.query(
            "SELECT call_id, source, tenant, input_tokens FROM llm_calls").to_pylist()]
        listed = sorted(tuple(r.values()) for r in store.query(
            "SELECT call_id, reason FROM request_id_conflicts").to_pylist())
    finally:
        store.close()
    assert (rows, listed) == expected(spans, log)
