"""Read API: health, named queries as JSON or Arrow, traces, tokens, clear errors."""

from __future__ import annotations

import socket
from typing import Any

import pyarrow as pa
import pytest
import requests
from otlp_payloads import llm_attrs, request, sid, span, tid

from outcrop.core.store.readonly import ARROW_STREAM

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
    not_json = requests.post(server.api_url + "/v1/queries/usage", data=b"{", timeout=10,
                             headers={"content-type": "application/json"})
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


def _sql(server: Any, statement: str = "SELECT 1 AS one", **headers: str) -> requests.Response:
    return requests.post(server.api_url + "/v1/sql", json={"sql": statement},
                         headers={k.replace("_", "-"): v for k, v in headers.items()}, timeout=30)


def test_post_bodies_must_be_json(server: Any) -> None:
    body = b'{"sql": "SELECT 1 AS one"}'
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = {"content-type": content_type} if content_type else {}
        resp = requests.post(server.api_url + "/v1/sql", data=body, headers=headers, timeout=10)
        assert resp.status_code == 415, (content_type, resp.text)
        assert "application/json" in resp.json()["message"]
    jobs = requests.post(server.api_url + "/v1/admin/jobs", data=b"", headers={"content-type": "text/plain"},
                         timeout=10)
    assert jobs.status_code == 415
    ok = requests.post(server.api_url + "/v1/sql", data=body,
                       headers={"content-type": "application/json; charset=utf-8"}, timeout=10)
    assert ok.status_code == 200 and ok.json() == [{"one": 1}]


def test_the_host_header_must_name_this_server(server_factory: Any) -> None:
    server = server_factory(server={"allowed_hosts": ["outcrop.internal"]})
    port = server.server.ports.api
    for host in ("attacker.example", f"attacker.example:{port}", f"localhost.attacker.example:{port}"):
        resp = requests.get(server.api_url + "/v1/queries", headers={"host": host}, timeout=10)
        assert resp.status_code == 403, host
        assert host.split(":")[0] in resp.json()["message"] and "server.allowed_hosts" in resp.json()["message"]
        assert _sql(server, host=host).status_code == 403
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", "outcrop.internal",
                 f"OUTCROP.internal:{port}"):
        assert _sql(server, host=host).status_code == 200, host


def test_cross_site_origins_are_refused(server: Any) -> None:
    for origin in ("http://attacker.example", "null", server.api_url):
        resp = _sql(server, origin=origin)
        assert resp.status_code == 403, origin
        assert origin in resp.json()["message"] and "server.allowed_origins" in resp.json()["message"]
    assert requests.get(server.api_url + "/v1/queries", headers={"origin": "http://attacker.example"},
                        timeout=10).status_code == 403


def test_listed_origins_are_answered(server_factory: Any) -> None:
    listed = server_factory(server={"allowed_origins": ["http://localhost:8501"]})
    assert _sql(listed, origin="http://localhost:8501").json() == [{"one": 1}]
    assert _sql(listed, origin="http://attacker.example").status_code == 403


def test_forwarded_requests_do_not_count_as_loopback(server: Any) -> None:
    """A local reverse proxy passing a caller's X-Forwarded-For must not make it local."""
    assert _sql(server).status_code == 200
    for header, value in (("x_forwarded_for", "127.0.0.1"), ("x_forwarded_for", "203.0.113.9"),
                          ("forwarded", "for=127.0.0.1"), ("x_real_ip", "127.0.0.1")):
        resp = _sql(server, **{header: value})
        assert resp.status_code == 401, (header, value)
        assert "admin token" in resp.json()["message"]


def test_requests_through_a_configured_proxy_need_the_admin_token(server_factory: Any) -> None:
    server = server_factory(server={"trusted_proxies": ["127.0.0.1"], "admin_token": "admin-s3cret"})
    assert _sql(server).status_code == 401
    jobs = requests.post(server.api_url + "/v1/admin/jobs", json={"names": ["rollups"]}, timeout=30)
    assert jobs.status_code == 401
    assert _sql(server, authorization="Bearer admin-s3cret").json() == [{"one": 1}]


def test_api_bodies_are_bounded_in_size_and_time(server_factory: Any) -> None:
    server = server_factory(server={"api_max_body_bytes": 1024, "api_body_timeout_seconds": 0.5})
    big = requests.post(server.api_url + "/v1/sql", json={"sql": "SELECT 1", "pad": "x" * 2000}, timeout=10)
    assert big.status_code == 413 and "1024" in big.json()["message"]
    pieces = [b'{"sql": "SELECT 1", "pad": "', b"x" * 4000, b'"}']  # no Content-Length: chunked
    chunked = requests.post(server.api_url + "/v1/sql", data=iter(pieces),
                            headers={"content-type": "application/json"}, timeout=10)
    assert chunked.status_code == 413
    with socket.create_connection(("127.0.0.1", server.server.ports.api), timeout=10) as sock:
        sock.sendall(b"POST /v1/sql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{\"sql\": ")
        received = b""
        while chunk := sock.recv(4096):  # until the server closes the connection
            received += chunk
    answer = received.decode()
    assert answer.startswith("HTTP/1.1 408"), answer
    assert "api_body_timeout_seconds" in answer


def test_trace_spans_are_cut_at_query_max_rows(server_factory: Any) -> None:
    server = server_factory(server={"query_max_rows": 20})
    for trace, count in ((7, 25), (8, 20)):
        body = request(*[span(tid(trace), sid(100 * trace + i), name=f"s{i:02d}") for i in range(count)])
        assert requests.post(server.traces_url, data=body.SerializeToString(),
                             headers={"content-type": "application/x-protobuf"}, timeout=30).status_code == 200
    cut = requests.get(server.api_url + f"/v1/traces/{tid(7)}", timeout=10)
    assert len(cut.json()) == 20 and cut.headers["x-outcrop-truncated"] == "true"
    whole = requests.get(server.api_url + f"/v1/traces/{tid(8)}", timeout=10)
    assert len(whole.json()) == 20 and whole.headers["x-outcrop-truncated"] == "false"


def test_named_query_truncation_is_told_truthfully(server: Any) -> None:
    _send(server)
    body = request(span(tid(2), sid(3), name="root", attrs={"tenant.id": "globex"}),
                   span(tid(2), sid(4), parent=sid(3), kind=3, attrs=llm_attrs("req-api-2"))).SerializeToString()
    assert requests.post(server.traces_url, data=body, headers={"content-type": "application/x-protobuf"},
                         timeout=30).status_code == 200
    requests.post(server.api_url + "/v1/admin/jobs", json={"names": ["rollups"]}, timeout=60).raise_for_status()
    query = {"params": {**RANGE, "by": ["tenant"]}}
    both = requests.post(server.api_url + "/v1/queries/usage", json={**query, "limit": 2}, timeout=30)
    assert len(both.json()) == 2 and both.headers["x-outcrop-truncated"] == "false"
    one = requests.post(server.api_url + "/v1/queries/usage", json={**query, "limit": 1}, timeout=30)
    assert len(one.json()) == 1 and one.headers["x-outcrop-truncated"] == "true"


def test_a_long_query_is_stopped_at_the_timeout_and_says_so(server_factory: Any) -> None:
    server = server_factory(server={"query_timeout_seconds": 0.5})
    resp = _sql(server, "SELECT count(*) FROM range(1000000) a, range(1000000) b")
    assert resp.status_code == 400
    assert "server.query_timeout_seconds" in resp.json()["message"] and "0.5 s" in resp.json()["message"]
    assert requests.get(server.api_url + "/healthz", timeout=10).json()["status"] == "ok"


def _post_spans(server: Any, *spans: Any) -> None:
    assert requests.post(server.traces_url, data=request(*spans).SerializeToString(),
                         headers={"content-type": "application/x-protobuf"}, timeout=30).status_code == 200


# 2026-12-03T20:54:10.752227Z in nanoseconds since the epoch
_START_NS = 1_796_331_250_752_227_000


def test_trace_json_has_objects_and_utc_times(server: Any) -> None:
    root = span(tid(3), sid(5), name="root", start_ns=_START_NS, attrs={"tenant.id": "acme", "app.note": "hello"})
    event = root.events.add()
    event.name, event.time_unix_nano = "retry", _START_NS + 1000
    _post_spans(server, root)
    (row,) = requests.get(server.api_url + f"/v1/traces/{tid(3)}", timeout=10).json()
    assert row["attributes"]["app.note"] == "hello"
    assert row["resource_attributes"] == {"service.name": "test-svc"}
    assert [e["name"] for e in row["events"]] == ["retry"], row["events"]
    assert row["start_time"] == "2026-12-03T20:54:10.752227Z"
    assert row["end_time"] == "2026-12-03T20:54:10.852227Z"


def test_named_query_and_sql_times_end_in_z(server: Any) -> None:
    _post_spans(server, span(tid(4), sid(6), kind=3, start_ns=_START_NS, attrs=llm_attrs("req-z")))
    requests.post(server.api_url + "/v1/admin/jobs", json={"names": ["rollups"]}, timeout=60).raise_for_status()
    rows = requests.post(server.api_url + "/v1/queries/top_traces", timeout=30,
                         json={"params": {**RANGE, "limit": 5}}).json()
    assert rows[0]["first_call"] == "2026-12-03T20:54:10.752227Z"
    answer = _sql(server, "SELECT ts FROM llm_calls").json()
    assert answer == [{"ts": "2026-12-03T20:54:10.752227Z"}]
    tz = _sql(server, "SELECT TIMESTAMPTZ '2026-12-03 20:54:10+02' AS at").json()
    assert tz == [{"at": "2026-12-03T18:54:10Z"}]


def test_arrow_answers_keep_their_types(server: Any) -> None:
    _post_spans(server, span(tid(5), sid(7), name="root", start_ns=_START_NS))
    resp = requests.get(server.api_url + f"/v1/traces/{tid(5)}", headers={"accept": ARROW_STREAM}, timeout=10)
    table = pa.ipc.open_stream(resp.content).read_all()
    assert pa.types.is_timestamp(table.schema.field("start_time").type)
    assert table.column("name").to_pylist() == ["root"]


def _send_groups(server: Any) -> None:
    """Tenant `cut` has n + 1 traces and n + 1 spans in trace 10; tenant `whole` exactly n (n = 3)."""
    for tenant, trace, count in (("cut", 10, 4), ("whole", 11, 3)):
        _post_spans(server, *[span(tid(trace), sid(100 * trace + i), name=f"s{i}", attrs={"tenant.id": tenant})
                              for i in range(count)])
        for i in range(count):
            _post_spans(server, span(tid(trace * 10 + i), sid(1000 + trace * 10 + i), kind=3,
                                     attrs={**llm_attrs(f"req-{trace}-{i}"), "tenant.id": tenant}))


@pytest.mark.parametrize("endpoint", ["sql", "named", "trace"])
def test_every_read_is_cut_at_n_rows_and_says_so_only_past_n(server_factory: Any, endpoint: str) -> None:
    server = server_factory(server={"query_max_rows": 3})
    _send_groups(server)

    def read(tenant: str, trace: int) -> requests.Response:
        if endpoint == "sql":
            return _sql(server, f"SELECT call_id FROM llm_calls WHERE tenant = '{tenant}'")
        if endpoint == "named":
            return requests.post(server.api_url + "/v1/queries/top_traces", timeout=30,
                                 json={"params": {**RANGE, "where": {"tenant": tenant}}})
        return requests.get(server.api_url + f"/v1/traces/{tid(trace)}", timeout=10)

    cut, whole = read("cut", 10), read("whole", 11)
    assert cut.status_code == 200, cut.text
    assert (len(cut.json()), cut.headers["x-outcrop-truncated"]) == (3, "true")
    assert (len(whole.json()), whole.headers["x-outcrop-truncated"]) == (3, "false")
