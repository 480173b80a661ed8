"""Read API: health, named queries as JSON or Arrow, traces, tokens, clear errors."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import requests
from otlp_payloads import llm_attrs, request, sid, span, tid

from collector.readonly import ARROW_STREAM

RANGE = {"from": "2000-01-01T00:00:00", "to": "2100-01-01T00:00:00"}


def _send(server: Any) -> None:
    body = request(span(tid(1), sid(1), name="root", attrs={"tenant.id": "acme"}),
                   span(tid(1), sid(2), parent=sid(1), kind=3, attrs=llm_attrs("req-api"))).SerializeToString()
    assert requests.post(server.traces_url, data=body, headers={"content-type": "application/x-protobuf"},
                         timeout=30).status_code == 200


def test_healthz_and_query_list(server: Any) -> None:
    health = requests.get(server.api_url + "/healthz", timeout=10)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    names = requests.get(server.api_url + "/v1/queries", timeout=10).json()
    assert {"usage", "latency", "cost", "capacity"} <= set(names)


def test_named_query_as_json_and_arrow(server: Any) -> None:
    _send(server)
    requests.post(server.api_url + "/v1/admin/jobs", json={"names": ["rollups"]}, timeout=60).raise_for_status()
    body = {"params": {**RANGE, "by": ["tenant"]}}
    rows = requests.post(server.api_url + "/v1/queries/usage", json=body, timeout=30).json()
    assert [(r["tenant"], r["requests"], r["input_tokens"]) for r in rows] == [("acme", 1, 1000)]
    resp = requests.post(server.api_url + "/v1/queries/usage", json=body, headers={"accept": ARROW_STREAM},
                         timeout=30)
    assert resp.headers["content-type"] == ARROW_STREAM
    table = pa.ipc.open_stream(resp.content).read_all()
    assert table.column("output_tokens").to_pylist() == [200]


def test_bad_query_requests_say_what_is_wrong(server: Any) -> None:
    unknown = requests.post(server.api_url + "/v1/queries/nope", json={"params": RANGE}, timeout=10)
    assert unknown.status_code == 400 and "unknown query 'nope'" in unknown.json()["message"]
    bad_key = requests.post(server.api_url + "/v1/queries/usage",
                            json={"params": {**RANGE, "by": ["tenant; DROP TABLE spans"]}}, timeout=10)
    assert bad_key.status_code == 400 and "unknown group key" in bad_key.json()["message"]
    not_json = requests.post(server.api_url + "/v1/queries/usage", data=b"{", timeout=10)
    assert not_json.status_code == 400 and "not JSON" in not_json.json()["message"]


def test_trace_endpoint_returns_every_span(server: Any) -> None:
    _send(server)
    rows = requests.get(server.api_url + f"/v1/traces/{tid(1).upper()}", timeout=10).json()
    assert [(r["name"], r["tenant"]) for r in rows] == [("root", "acme"), ("op", "acme")]


def test_api_token_protects_reads(server_factory: Any) -> None:
    server = server_factory(server={"api_token": "s3cret-token"})
    assert requests.get(server.api_url + "/v1/queries", timeout=10).status_code == 401
    ok = requests.get(server.api_url + "/v1/queries", headers={"authorization": "Bearer s3cret-token"}, timeout=10)
    assert ok.status_code == 200
    assert requests.get(server.api_url + "/healthz", timeout=10).status_code == 200  # probes need no token
