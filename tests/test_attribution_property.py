"""Whatever the split into requests, commit groups and arrival order, inherited
attribution equals a plain walk up the finished trace."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from otlp_payloads import request, sid, span, tid

from collector.ingest import SpanWrite, build_span_batch, write_span_batch
from collector.receivers.otlp_decode import records_from_request
from collector.settings import AttributionSettings
from collector.store import Store, utcnow

KEYS = AttributionSettings()


@st.composite
def traces(draw: st.DrawFn) -> list[dict[str, Any]]:
    """One trace: span i's parent is an earlier span (a tree), some state tenant/route."""
    size = draw(st.integers(1, 8))
    nodes = []
    for i in range(size):
        parent = draw(st.none() | st.integers(0, i - 1)) if i else None
        attrs = {}
        if draw(st.booleans()):
            attrs["tenant.id"] = draw(st.sampled_from(["acme", "globex"]))
        if draw(st.booleans()):
            attrs["route"] = draw(st.sampled_from(["fast", "batch"]))
        nodes.append({"i": i, "parent": parent, "attrs": attrs})
    return nodes


def expected(nodes: list[dict[str, Any]]) -> dict[str, tuple[str, str, str]]:
    def walk(i: int, key: str) -> str | None:
        node: dict[str, Any] | None = nodes[i]
        while node is not None:
            if key in node["attrs"]:
                return str(node["attrs"][key])
            node = nodes[node["parent"]] if node["parent"] is not None else None
        return None

    def root(i: int) -> int:
        while nodes[i]["parent"] is not None:
            i = nodes[i]["parent"]
        return i

    return {sid(n["i"]): (walk(n["i"], "tenant.id") or "unattributed", walk(n["i"], "route") or "unattributed",
                          f"op{root(n['i'])}") for n in nodes}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(nodes=traces(), data=st.data())
def test_inheritance_does_not_depend_on_batching_or_order(tmp_path: Path, nodes: list[dict[str, Any]],
                                                          data: st.DataObject) -> None:
    spans = [span(tid(7), sid(n["i"]), parent=sid(n["parent"]) if n["parent"] is not None else None,
                  name=f"op{n['i']}", attrs=n["attrs"]) for n in nodes]
    order = data.draw(st.permutations(range(len(spans))))
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(spans) - 1)), max_size=3)))
    requests = [[spans[j] for j in order[a:b]] for a, b in zip([0, *cuts], [*cuts, len(spans)], strict=True)]
    together = data.draw(st.booleans())  # one commit group, or a commit per request
    store = Store.open(str(tmp_path / f"{uuid.uuid4().hex}.duckdb"))  # a fresh file per example
    try:
        now = utcnow()
        batches = [build_span_batch(records_from_request(request(*r), 4096).records, KEYS,
                                    bound_tenant=None, received_at=now) for r in requests if r]
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
    assert {r["span_id"]: (r["tenant"], r["route"], r["workflow"]) for r in rows} == expected(nodes)
