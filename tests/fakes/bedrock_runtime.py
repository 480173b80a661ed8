"""A small real HTTP server that answers like the Bedrock runtime API.

moto has no Bedrock runtime, so tests point boto3 at this server with `endpoint_url`
(real HTTP calls, as in production). It speaks the four inference operations, with token usage that a
test configures, so a golden test can check the canonical columns by hand:

    with FakeBedrockRuntime([FakeReply(input_tokens=1000, cache_read_tokens=3000)]) as fake:
        client = boto3.client("bedrock-runtime", endpoint_url=fake.endpoint_url, ...)

`responses` is either a list of replies served in order (the last one repeats) or a
function from the received request to a reply. Every request is recorded in
`fake.requests`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import struct
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

OPERATIONS = {
    "converse": "Converse",
    "converse-stream": "ConverseStream",
    "invoke": "InvokeModel",
    "invoke-with-response-stream": "InvokeModelWithResponseStream",
}

# HTTP status Bedrock uses for each error code.
ERROR_STATUS = {
    "ThrottlingException": 429,
    "ServiceQuotaExceededException": 429,
    "ValidationException": 400,
    "AccessDeniedException": 403,
    "ModelNotReadyException": 429,
    "InternalServerException": 500,
    "ServiceUnavailableException": 503,
}


@dataclass(frozen=True)
class FakeReply:
    """What the fake answers. Token counts follow Bedrock: input excludes the cache."""

    text: str = "Hello from the fake Bedrock runtime."
    input_tokens: int = 1000
    output_tokens: int = 200
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    stop_reason: str = "end_turn"
    latency_ms: int = 420
    first_byte_latency_ms: int = 120
    error: str | None = None  # an AWS error code, e.g. "ThrottlingException"
    error_message: str = "Too many requests, please wait before trying again."
    chunks: int = 3  # streamed text deltas
    chunk_delay_s: float = 0.0
    # Pause after the response headers, before the stream's first event (Bedrock sends
    # messageStart with the first token): a known time to first token for a stream.
    first_token_delay_s: float = 0.0
    request_id: str | None = None

    @classmethod
    def throttle(cls) -> FakeReply:
        return cls(error="ThrottlingException")

    @classmethod
    def validation_error(cls, message: str = "Malformed input request") -> FakeReply:
        return cls(error="ValidationException", error_message=message)


@dataclass
class FakeRequest:
    operation: str
    model_id: str
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body or b"{}")


Responses = Sequence[FakeReply] | Callable[[FakeRequest], FakeReply] | None


@dataclass
class _State:
    responses: Responses
    requests: list[FakeRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    counter: int = 0

    def next_reply(self, request: FakeRequest) -> tuple[FakeReply, str]:
        with self.lock:
            self.requests.append(request)
            index = self.counter
            self.counter += 1
        request_id = f"fake-req-{index:04d}-0000-0000-000000000000"
        if self.responses is None:
            return FakeReply(), request_id
        if callable(self.responses):
            return self.responses(request), request_id
        replies = list(self.responses)
        return replies[min(index, len(replies) - 1)], request_id


class FakeBedrockRuntime:
    """Context manager running the fake on 127.0.0.1 with an OS-chosen port."""

    def __init__(self, responses: Responses = None) -> None:
        self._state = _State(responses)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        assert self._server is not None, "use FakeBedrockRuntime as a context manager"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def requests(self) -> list[FakeRequest]:
        return self._state.requests

    def __enter__(self) -> FakeBedrockRuntime:
        handler = type("_BoundHandler", (_Handler,), {"state": self._state})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    state: _State
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        pass  # keep test output clean

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        parts = self.path.split("?")[0].strip("/").split("/")
        if len(parts) != 3 or parts[0] != "model" or parts[2] not in OPERATIONS:
            self._send_error(404, "UnknownOperationException", f"no route {self.path}", "none")
            return
        request = FakeRequest(OPERATIONS[parts[2]], unquote(parts[1]), body, dict(self.headers))
        reply, request_id = self.state.next_reply(request)
        request_id = reply.request_id or request_id
        if reply.error is not None:
            status = ERROR_STATUS.get(reply.error, 400)
            self._send_error(status, reply.error, reply.error_message, request_id)
            return
        if request.operation == "Converse":
            self._send_json(_converse_body(reply, request.model_id), request_id)
        elif request.operation == "InvokeModel":
            self._send_json(
                _anthropic_body(reply, request.model_id), request_id, _invoke_headers(reply)
            )
        elif request.operation == "ConverseStream":
            self._send_stream(_converse_stream_events(reply), request_id, reply)
        else:
            self._send_stream(_invoke_stream_events(reply, request.model_id), request_id, reply)

    def _send_json(self, obj: Any, request_id: str, extra: dict[str, str] | None = None) -> None:
        data = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", request_id)
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_error(self, status: int, code: str, message: str, request_id: str) -> None:
        data = json.dumps({"message": message}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", request_id)
        self.send_header("x-amzn-ErrorType", f"{code}:http://internal.amazon.com/coral/")
        self.end_headers()
        self.wfile.write(data)

    def _send_stream(self, events: list[tuple[str, Any]], request_id: str, reply: FakeReply) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.amazon.eventstream")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-amzn-RequestId", request_id)
        self.end_headers()
        self.wfile.flush()  # the client's call returns now; its first read waits
        if reply.first_token_delay_s:
            time.sleep(reply.first_token_delay_s)
        for event_type, payload in events:
            frame = encode_event(event_type, json.dumps(payload).encode())
            self.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))
            self.wfile.flush()
            if reply.chunk_delay_s:
                time.sleep(reply.chunk_delay_s)
        self.wfile.write(b"0\r\n\r\n")


def _usage(reply: FakeReply) -> dict[str, int]:
    # As Bedrock answers: inputTokens is the uncached part, totalTokens counts the cache too.
    usage = {
        "inputTokens": reply.input_tokens,
        "outputTokens": reply.output_tokens,
        "totalTokens": reply.input_tokens
        + reply.output_tokens
        + (reply.cache_read_tokens or 0)
        + (reply.cache_write_tokens or 0),
    }
    if reply.cache_read_tokens is not None:
        usage["cacheReadInputTokens"] = reply.cache_read_tokens
    if reply.cache_write_tokens is not None:
        usage["cacheWriteInputTokens"] = reply.cache_write_tokens
    return usage


def _converse_body(reply: FakeReply, model_id: str) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": reply.text}]}},
        "stopReason": reply.stop_reason,
        "usage": _usage(reply),
        "metrics": {"latencyMs": reply.latency_ms},
    }


def _anthropic_usage(reply: FakeReply) -> dict[str, int]:
    # Anthropic's own usage block: input_tokens excludes cache reads and writes.
    usage = {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens}
    if reply.cache_read_tokens is not None:
        usage["cache_read_input_tokens"] = reply.cache_read_tokens
    if reply.cache_write_tokens is not None:
        usage["cache_creation_input_tokens"] = reply.cache_write_tokens
    return usage


def _anthropic_body(reply: FakeReply, model_id: str) -> dict[str, Any]:
    return {
        "id": "msg_bdrk_fake0001",
        "type": "message",
        "role": "assistant",
        "model": anthropic_model_name(model_id),
        "content": [{"type": "text", "text": reply.text}],
        "stop_reason": reply.stop_reason,
        "stop_sequence": None,
        "usage": _anthropic_usage(reply),
    }


def anthropic_model_name(model_id: str) -> str:
    """The name Anthropic's body reports, e.g. `claude-3-5-haiku-20241022` for
    `us.anthropic.claude-3-5-haiku-20241022-v1:0`."""
    name = model_id.rsplit("/", 1)[-1]
    name = name[name.index("anthropic.") + len("anthropic.") :] if "anthropic." in name else name
    return re.sub(r"-v\d+(:\d+)?$", "", name)


def _invoke_headers(reply: FakeReply) -> dict[str, str]:
    # InvokeModel reports Bedrock's counts in headers too; some instrumentations read them.
    headers = {
        "X-Amzn-Bedrock-Input-Token-Count": str(reply.input_tokens),
        "X-Amzn-Bedrock-Output-Token-Count": str(reply.output_tokens),
        "X-Amzn-Bedrock-Invocation-Latency": str(reply.latency_ms),
    }
    if reply.cache_read_tokens is not None:
        headers["X-Amzn-Bedrock-Cache-Read-Input-Token-Count"] = str(reply.cache_read_tokens)
    if reply.cache_write_tokens is not None:
        headers["X-Amzn-Bedrock-Cache-Write-Input-Token-Count"] = str(reply.cache_write_tokens)
    return headers


def _text_pieces(reply: FakeReply) -> list[str]:
    n = max(1, reply.chunks)
    step = max(1, -(-len(reply.text) // n))
    return [reply.text[i : i + step] for i in range(0, len(reply.text), step)] or [""]


def _converse_stream_events(reply: FakeReply) -> list[tuple[str, Any]]:
    events: list[tuple[str, Any]] = [("messageStart", {"role": "assistant"})]
    for piece in _text_pieces(reply):
        events.append(("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": piece}}))
    events.append(("contentBlockStop", {"contentBlockIndex": 0}))
    events.append(("messageStop", {"stopReason": reply.stop_reason}))
    events.append(
        ("metadata", {"usage": _usage(reply), "metrics": {"latencyMs": reply.latency_ms}})
    )
    return events


def _invoke_stream_events(reply: FakeReply, model_id: str) -> list[tuple[str, Any]]:
    start = _anthropic_body(reply, model_id) | {"content": [], "stop_reason": None}
    start["usage"] = _anthropic_usage(reply) | {"output_tokens": 1}
    inner: list[dict[str, Any]] = [{"type": "message_start", "message": start}]
    inner.append(
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
    )
    for piece in _text_pieces(reply):
        inner.append(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": piece},
            }
        )
    inner.append({"type": "content_block_stop", "index": 0})
    inner.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": reply.stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": reply.output_tokens},
        }
    )
    inner.append(
        {
            "type": "message_stop",
            "amazon-bedrock-invocationMetrics": {
                "inputTokenCount": reply.input_tokens,
                "outputTokenCount": reply.output_tokens,
                "invocationLatency": reply.latency_ms,
                "firstByteLatency": reply.first_byte_latency_ms,
            },
        }
    )
    return [("chunk", {"bytes": base64.b64encode(json.dumps(e).encode()).decode()}) for e in inner]


def encode_event(event_type: str, payload: bytes) -> bytes:
    """One `application/vnd.amazon.eventstream` frame (botocore ships only a decoder).

    Frame: total length, headers length, prelude CRC32, headers, payload, message CRC32.
    """
    headers = b"".join(
        _encode_header(name, value)
        for name, value in (
            (":event-type", event_type),
            (":content-type", "application/json"),
            (":message-type", "event"),
        )
    )
    total = 12 + len(headers) + len(payload) + 4
    prelude = struct.pack(">II", total, len(headers))
    prelude += struct.pack(">I", binascii.crc32(prelude))
    message = prelude + headers + payload
    return message + struct.pack(">I", binascii.crc32(message))


def _encode_header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    # header value type 7 = string, with a 2-byte length
    return (
        struct.pack(">B", len(raw_name))
        + raw_name
        + struct.pack(">BH", 7, len(raw_value))
        + raw_value
    )
