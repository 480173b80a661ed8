"""Hostile OTLP/HTTP and OTLP/gRPC input against a real server on loopback: huge requests
must not stall other clients, spans are bounded, good spans survive their bad siblings,
and slow clients cannot hold a connection open."""

from __future__ import annotations

import gzip
import socket
import threading
import time
from typing import Any

import grpc
import orjson
import requests
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from otlp_payloads import request, sid, span, tid

PB = {"content-type": "application/x-protobuf"}
GZ = {**PB, "content-encoding": "gzip"}


def post(server: Any, body: bytes, headers: dict[str, str] | None = None) -> requests.Response:
    return requests.post(server.traces_url, data=body, headers=headers or PB, timeout=60)


def count(server: Any, sql: str) -> int:
    return int(server.store.query(sql).column(0)[0].as_py())


def error_message(resp: requests.Response) -> str:
    return str(Status.FromString(resp.content).message)


def partial(resp: requests.Response) -> Any:
    assert resp.status_code == 200, resp.content
    return ExportTraceServiceResponse.FromString(resp.content).partial_success


# -- 1. decoding runs off the event loop -----------------------------------------------


def _many_spans(n: int) -> bytes:
    template = span(tid(0), sid(0), attrs={"tenant.id": "acme", "http.route": "/chat", "n": 1})
    req = ExportTraceServiceRequest()
    scope = req.resource_spans.add().scope_spans.add()
    for i in range(n):
        s = scope.spans.add()
        s.CopyFrom(template)
        s.trace_id = bytes.fromhex(tid(100 + i // 8))
        s.span_id = bytes.fromhex(sid(1 + i))
    return gzip.compress(req.SerializeToString(), 1)


def _timed(call: Any) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def test_big_export_does_not_stall_healthz_or_other_clients(server: Any) -> None:
    big = _many_spans(150_000)
    finished: list[float] = []
    answers: list[int] = []

    def send_big() -> None:
        answers.append(post(server, big, GZ).status_code)
        finished.append(time.perf_counter())

    sender = threading.Thread(target=send_big)
    sender.start()
    time.sleep(0.3)  # the big request is read and being decoded
    small = request(span(tid(1), sid(1), name="small")).SerializeToString()
    healthz = [_timed(lambda: requests.get(server.api_url + "/healthz", timeout=30).raise_for_status())
               for _ in range(5)]
    export = _timed(lambda: post(server, small).raise_for_status())
    measured_until = time.perf_counter()
    sender.join(120)
    assert max(healthz) < 0.5, f"/healthz took {max(healthz):.2f} s during a big export"
    assert export < 0.5, f"a small export took {export:.2f} s during a big export"
    assert finished and finished[0] > measured_until, "the big request ended before the measurements"
    assert answers == [200]
    assert count(server, "SELECT count(*) FROM spans") == 150_001


# -- 2. attributes and events per span are capped -----------------------------------------


def _kv(key: str, value: str) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(string_value=value))


def _wide_span(n_attrs: int, n_events: int, n_event_attrs: int) -> Span:
    s = span(tid(20), sid(1), name="wide")
    s.attributes.extend(_kv(f"a{i}", "v") for i in range(n_attrs))
    for e in range(n_events):
        ev = s.events.add(name=f"e{e}", time_unix_nano=s.start_time_unix_nano)
        ev.attributes.extend(_kv(f"ea{i}", "v") for i in range(n_event_attrs))
    return s


def _stored_span(server: Any) -> dict[str, Any]:
    row = server.store.query("SELECT attributes, events FROM spans").to_pylist()
    assert len(row) == 1
    return {"attributes": orjson.loads(row[0]["attributes"]), "events": orjson.loads(row[0]["events"] or "[]")}


def test_attributes_and_events_beyond_the_caps_are_dropped_and_counted(server_factory: Any) -> None:
    server = server_factory(server={"max_attributes_per_span": 10, "max_events_per_span": 3,
                                    "max_attributes_per_event": 2})
    assert partial(post(server, request(_wide_span(100, 7, 5)).SerializeToString())).rejected_spans == 0
    stored = _stored_span(server)
    assert list(stored["attributes"]) == [f"a{i}" for i in range(10)] + [
        "outcrop.truncated.attributes", "outcrop.truncated.events"]
    assert stored["attributes"]["outcrop.truncated.attributes"] == 90
    assert stored["attributes"]["outcrop.truncated.events"] == 4
    assert [ev["name"] for ev in stored["events"]] == ["e0", "e1", "e2"]
    assert stored["events"][0]["attributes"] == {"ea0": "v", "ea1": "v", "outcrop.truncated.attributes": 3}


def test_a_span_with_a_million_attributes_keeps_the_default_cap(server: Any) -> None:
    s = span(tid(21), sid(1), name="huge")
    s.attributes.extend(_kv(f"k{i}", "v") for i in range(1_000_000))
    assert partial(post(server, gzip.compress(request(s).SerializeToString(), 1), GZ)).rejected_spans == 0
    attributes = _stored_span(server)["attributes"]
    assert len(attributes) == 1024 + 1
    assert attributes["outcrop.truncated.attributes"] == 1_000_000 - 1024


# -- 3. every gzip member is inflated --------------------------------------------------


def test_concatenated_gzip_members_are_all_inflated(server: Any) -> None:
    first = gzip.compress(request(span(tid(30), sid(1), name="first")).SerializeToString())
    second = gzip.compress(request(span(tid(30), sid(2), name="second")).SerializeToString())
    assert partial(post(server, first + second, GZ)).rejected_spans == 0
    names = server.store.query("SELECT name FROM spans ORDER BY name").column(0).to_pylist()
    assert names == ["first", "second"]


def test_trailing_garbage_after_a_gzip_member_is_400(server: Any) -> None:
    body = gzip.compress(request(span(tid(31), sid(1))).SerializeToString()) + b"garbage!"
    resp = post(server, body, GZ)
    assert resp.status_code == 400
    assert "trailing garbage after gzip member 1" in error_message(resp)
    assert count(server, "SELECT count(*) FROM spans") == 0


def test_many_small_gzip_members_are_still_bounded_in_total(server_factory: Any) -> None:
    server = server_factory(server={"max_decompressed_bytes": 1 << 20})
    member = gzip.compress(b"\x00" * (256 << 10))  # 256 KiB each, 5 of them
    resp = post(server, member * 5, GZ)
    assert resp.status_code == 413
    assert "inflates past the limit" in error_message(resp)


# -- 4. invalid UTF-8 rejects its span, not the request --------------------------------


def _with_bad_utf8(req: ExportTraceServiceRequest, marker: bytes) -> bytes:
    """`req` serialised with `marker` (4 ASCII bytes) replaced by invalid UTF-8 of the same length."""
    body = req.SerializeToString()
    assert body.count(marker) == 1
    return body.replace(marker, marker[:1] + b"\xff\xfe" + marker[3:])


def _three_spans_one_bad() -> bytes:
    req = request(span(tid(40), sid(1), name="good-1"),
                  span(tid(40), sid(2), name="BAD!", parent=sid(1)),
                  span(tid(40), sid(3), name="good-3", parent=sid(1)))
    return _with_bad_utf8(req, b"BAD!")


def _assert_one_of_three_rejected(server: Any, rejected: int, message: str) -> None:
    assert rejected == 1
    assert sid(2) in message and "name" in message and "UTF-8" in message
    names = server.store.query("SELECT name FROM spans ORDER BY name").column(0).to_pylist()
    assert names == ["good-1", "good-3"]


def test_invalid_utf8_in_one_span_rejects_only_that_span_over_http(server: Any) -> None:
    answer = partial(post(server, _three_spans_one_bad()))
    _assert_one_of_three_rejected(server, answer.rejected_spans, answer.error_message)


def test_invalid_utf8_in_one_span_rejects_only_that_span_over_grpc(server: Any) -> None:
    export = grpc.insecure_channel(server.grpc_target).unary_unary(
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        request_serializer=None, response_deserializer=ExportTraceServiceResponse.FromString)
    answer = export(_three_spans_one_bad(), timeout=30).partial_success
    _assert_one_of_three_rejected(server, answer.rejected_spans, answer.error_message)


def test_invalid_utf8_in_a_resource_rejects_the_spans_under_it(server: Any) -> None:
    req = request(span(tid(41), sid(1), name="spoiled-1"), span(tid(41), sid(2), name="spoiled-2"),
                  resource={"service.name": "SVC!"})
    req.resource_spans.extend(request(span(tid(42), sid(1), name="kept")).resource_spans)
    answer = partial(post(server, _with_bad_utf8(req, b"SVC!")))
    assert answer.rejected_spans == 2
    assert "resource" in answer.error_message and "service.name" in answer.error_message
    assert server.store.query("SELECT name FROM spans").column(0).to_pylist() == ["kept"]


def test_gzip_bomb_is_still_413_over_grpc_size_limit(server_factory: Any) -> None:
    server = server_factory(server={"max_decompressed_bytes": 1 << 20})
    stub = trace_service_pb2_grpc.TraceServiceStub(grpc.insecure_channel(server.grpc_target))
    big = request(span(tid(43), sid(1), attrs={"x": "y" * (2 << 20)}))
    try:
        stub.Export(big, timeout=30)
        raise AssertionError("a message over the limit must be refused")
    except grpc.RpcError as exc:
        assert exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


# -- 5. slow clients are cut off ---------------------------------------------------------


def _connect(server: Any) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.server.ports.http), timeout=30)
    sock.settimeout(30)
    return sock


def _trickle_until_closed(sock: socket.socket, byte: bytes, every: float, limit: float) -> tuple[bytes, float]:
    """Send `byte` every `every` seconds until the server answers or closes; what it said and when."""
    started = time.perf_counter()
    sock.settimeout(every)
    answer = b""
    while time.perf_counter() - started < limit:
        try:
            sock.sendall(byte)
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            break
        if not chunk:
            break
        answer += chunk
    return answer, time.perf_counter() - started


def _normal_export_works(server: Any, n: int) -> None:
    assert partial(post(server, request(span(tid(50 + n), sid(1))).SerializeToString())).rejected_spans == 0


def test_a_body_sent_one_byte_at_a_time_is_cut_off_with_408(server_factory: Any) -> None:
    server = server_factory(server={"body_read_timeout_seconds": 1.5})
    sock = _connect(server)
    sock.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
                 b"Content-Length: 1000\r\n\r\n")
    served: list[None] = []
    threading.Timer(0.5, lambda: served.append(_normal_export_works(server, 1))).start()
    answer, took = _trickle_until_closed(sock, b"\x00", 0.3, 20)
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert b"body_read_timeout_seconds" in answer
    assert took < 1.5 + 2.0
    assert served == [None]


def test_headers_sent_one_byte_at_a_time_are_cut_off(server_factory: Any) -> None:
    server = server_factory(server={"header_read_timeout_seconds": 1.5})
    sock = _connect(server)
    sock.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\n")
    served: list[None] = []
    threading.Timer(0.5, lambda: served.append(_normal_export_works(server, 2))).start()
    answer, took = _trickle_until_closed(sock, b"X", 0.3, 20)
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert took < 1.5 + 2.0
    assert served == [None]


def test_an_idle_connection_is_closed_without_an_answer(server_factory: Any) -> None:
    server = server_factory(server={"header_read_timeout_seconds": 1.0})
    sock = _connect(server)
    started = time.perf_counter()
    assert sock.recv(100) == b""
    assert time.perf_counter() - started < 1.0 + 2.0
