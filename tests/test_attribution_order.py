"""Attribution inheritance must not depend on the order spans arrive in."""

from __future__ import annotations

import itertools
from typing import Any

import requests
from otlp_payloads import llm_attrs, request, sid, span, tid

PB = {"content-type": "application/x-protobuf"}


def _trace(n: int) -> list[Any]:
    root = span(tid(n), sid(1), name="POST /chat",
                attrs={"tenant.id": "acme", "route": "complex", "workflow.name": "support-chat",
                       "user.id": "u-7", "prompt.version": "v3"})
    middle = span(tid(n), sid(2), parent=sid(1), name="generate", attrs={"route": "fallback"})
    leaf = span(tid(n), sid(3), parent=sid(2), name="chat x", kind=3, attrs=llm_attrs(f"req-{n}"))
    return [root, middle, leaf]


def test_child_sent_before_root_in_separate_requests_resolves_the_same(server: Any) -> None:
    for n, order in enumerate(itertools.permutations(range(3)), start=100):
        spans = _trace(n)
        for i in order:
            assert requests.post(server.traces_url, data=request(spans[i]).SerializeToString(),
                                 headers=PB, timeout=30).status_code == 200
    rows = server.store.query(
        "SELECT DISTINCT tenant, route, workflow, user_id, prompt_version FROM llm_calls").to_pylist()
    # the leaf inherits from its nearest ancestor: route from 'generate', the rest from the root
    assert rows == [{"tenant": "acme", "route": "fallback", "workflow": "support-chat",
                     "user_id": "u-7", "prompt_version": "v3"}]
    assert server.store.query("SELECT count(*) FROM llm_calls").column(0)[0].as_py() == 6


def test_nothing_resolvable_is_unattributed_and_workflow_falls_back_to_root_name(server: Any) -> None:
    root = span(tid(200), sid(1), name="nightly-batch")
    leaf = span(tid(200), sid(2), parent=sid(1), kind=3, attrs=llm_attrs())
    for s in (leaf, root):
        requests.post(server.traces_url, data=request(s).SerializeToString(), headers=PB, timeout=30)
    rows = server.store.query("SELECT tenant, route, workflow FROM llm_calls").to_pylist()
    assert rows == [{"tenant": "unattributed", "route": "unattributed", "workflow": "nightly-batch"}]


def test_span_attributes_win_over_resource_attributes(server: Any) -> None:
    req = request(span(tid(300), sid(1), kind=3, attrs=llm_attrs(**{"tenant.id": "span-tenant"})),
                  resource={"service.name": "svc", "tenant.id": "resource-tenant",
                            "deployment.environment.name": "prod"})
    requests.post(server.traces_url, data=req.SerializeToString(), headers=PB, timeout=30)
    rows = server.store.query("SELECT tenant, environment FROM llm_calls").to_pylist()
    assert rows == [{"tenant": "span-tenant", "environment": "prod"}]


def test_parent_cycle_does_not_hang(server: Any) -> None:
    a = span(tid(400), sid(1), parent=sid(2), attrs={"tenant.id": "cyc"})
    b = span(tid(400), sid(2), parent=sid(1), kind=3, attrs=llm_attrs())
    resp = requests.post(server.traces_url, data=request(a, b).SerializeToString(), headers=PB, timeout=30)
    assert resp.status_code == 200
    assert server.store.query("SELECT tenant FROM llm_calls").column(0).to_pylist() == ["cyc"]
