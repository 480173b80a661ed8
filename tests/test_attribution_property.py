"""Whatever the split into requests, commit groups, senders and arrival order, inherited
attribution equals a plain walk up the finished trace, which never crosses from one
ingest key or stated tenant to another."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from otlp_payloads import request, sid, span, tid

from outcrop.collector.decode.otlp import records_from_request
from outcrop.collector.span_batch import SpanBatch, SpanWrite, build_span_batch, write_span_batch
from outcrop.core.clock import utcnow
from outcrop.core.settings import AttributionSettings
from outcrop.core.store.writer import Store

KEYS = AttributionSettings()


# Who may send spans: with open ingest nobody is known; with ingest keys, one key bound to
# a tenant and one bound to none. (key fingerprint, bound tenant)
SENDERS: dict[str, list[tuple[str | None, str | None]]] = {
    "open": [(None, None)],
    "keys": [("key-a", "acme"), ("key-b", None)],
}


@st.composite
def traces(draw: st.DrawFn) -> tuple[list[tuple[str | None, str | None]], list[dict[str, Any]]]:
    """One trace: span i's parent is an earlier span (a tree), some state tenant/route,
    each sent by one of the senders."""
    senders = SENDERS[draw(st.sampled_from(sorted(SENDERS)))]
    size = draw(st.integers(1, 8))
    nodes = []
    for i in range(size):
        parent = draw(st.none() | st.integers(0, i - 1)) if i else None
        attrs = {}
        if draw(st.booleans()):
            attrs["tenant.id"] = draw(st.sampled_from(["acme", "globex"]))
        if draw(st.booleans()):
            attrs["route"] = draw(st.sampled_from(["fast", "batch"]))
        sender = draw(st.integers(0, len(senders) - 1))
        nodes.append({"i": i, "parent": parent, "attrs": attrs, "sender": sender})
    return senders, nodes


def expected(senders: list[tuple[str | None, str | None]],
             nodes: list[dict[str, Any]]) -> dict[str, tuple[str, str, str]]:
    """A plain walk up the finished trace that stops below an ancestor sent by another
    sender, or stating a tenant other than the one found so far."""
    def own_tenant(node: dict[str, Any]) -> str | None:
        bound = senders[node["sender"]][1]
        return bound if bound is not None else node["attrs"].get("tenant.id")

    def resolve(i: int) -> tuple[str, str, str]:
        node = nodes[i]
        tenant, route, top = own_tenant(node), node["attrs"].get("route"), i
        while node["parent"] is not None:
            parent = nodes[node["parent"]]
            other = own_tenant(parent)
            if parent["sender"] != nodes[i]["sender"] or (tenant and other and other != tenant):
                break
            tenant, route = tenant or other, route or parent["attrs"].get("route")
            node, top = parent, parent["i"]
        return tenant or "unattributed", route or "unattributed", f"op{top}"

    return {sid(n["i"]): resolve(n["i"]) for n in nodes}


def batches_of(senders: list[tuple[str | None, str | None]], nodes: list[dict[str, Any]], pieces: list[list[int]],
               now: datetime) -> list[SpanBatch]:
    """One export request per piece and sender, as each sender's exporter would send it."""
    batches = []
    for piece in pieces:
        for sender in sorted({nodes[j]["sender"] for j in piece}):
            spans = [span(tid(7), sid(n["i"]), parent=sid(n["parent"]) if n["parent"] is not None else None,
                          name=f"op{n['i']}", attrs=n["attrs"]) for n in (nodes[j] for j in piece)
                     if n["sender"] == sender]
            key, bound = senders[sender]
            batch = build_span_batch(records_from_request(request(*spans), 4096).records, KEYS,
                                     bound_tenant=bound, received_at=now)
            batches.append(dataclasses.replace(batch, sender_key=key))
    return batches


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(trace=traces(), data=st.data())
def test_inheritance_does_not_depend_on_batching_or_order(
        tmp_path: Path, trace: tuple[list[tuple[str | None, str | None]], list[dict[str, Any]]],
        data: st.DataObject) -> None:
    senders, nodes = trace
    order = data.draw(st.permutations(range(len(nodes))))
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(nodes) - 1)), max_size=3)))
    pieces = [order[a:b] for a, b in zip([0, *cuts], [*cuts, len(nodes)], strict=True)]
    together = data.draw(st.booleans())  # one commit group, or a commit per request
    store = Store.open(str(tmp_path / f"{uuid.uuid4().hex}.duckdb"))  # a fresh file per example
    try:
        now = utcnow()
        batches = batches_of(senders, nodes, [p for p in pieces if p], now)
        if together:
            futures = [store.submit(SpanWrite(b, now)) for b in batches]
            for f in futures:
                f.result(30)
        else:
            for b in batches:
                store.write(lambda con, b=b: write_span_batch(con, b, now))
        rows = store.query("SELECT span_id, tenant, route, workflow FROM spans").to_pylist()
    finally:
        store.close()
    assert {r["span_id"]: (r["tenant"], r["route"], r["workflow"]) for r in rows} == expected(senders, nodes)
