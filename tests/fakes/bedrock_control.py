"""A small real HTTP server that answers like the Bedrock control plane.

moto has no inference profiles, so tests point boto3's `bedrock` client at this server
with `endpoint_url`, so the code under test makes real HTTP calls. It speaks GetInferenceProfile
(`GET /inference-profiles/{id}`) and ListTagsForResource (`POST /listTagsForResource`)
in AWS's rest-json shapes, including the `x-amzn-ErrorType` error header boto3 reads:

    with FakeBedrockControl({arn: FakeProfile(arn, "anthropic.claude-...", tags)}) as fake:
        client = boto3.client("bedrock", endpoint_url=fake.endpoint_url, ...)

Profiles not in the table answer ResourceNotFoundException; ids in `denied` answer
AccessDeniedException. Every request is recorded in `fake.requests` as (method, path).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote


@dataclass(frozen=True)
class FakeProfile:
    arn: str
    model_id: str  # foundation model id, e.g. anthropic.claude-3-5-sonnet-20240620-v1:0
    tags: dict[str, str] = field(default_factory=dict)
    regions: tuple[str, ...] = ("eu-central-1",)
    kind: str = "APPLICATION"

    def answer(self) -> dict[str, Any]:
        return {
            "inferenceProfileName": self.arn.rsplit("/", 1)[-1],
            "inferenceProfileArn": self.arn,
            "inferenceProfileId": self.arn.rsplit("/", 1)[-1],
            "createdAt": "2026-01-05T10:00:00Z",
            "updatedAt": "2026-01-05T10:00:00Z",
            "models": [
                {"modelArn": f"arn:aws:bedrock:{r}::foundation-model/{self.model_id}"}
                for r in self.regions
            ],
            "status": "ACTIVE",
            "type": self.kind,
        }


class FakeBedrockControl:
    def __init__(self, profiles: dict[str, FakeProfile], denied: set[str] | None = None) -> None:
        self.profiles = profiles
        self.denied = denied or set()
        self.requests: list[tuple[str, str]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def find(self, identifier: str) -> FakeProfile | None:
        for arn, profile in self.profiles.items():
            if identifier in (arn, arn.rsplit("/", 1)[-1]):
                return profile
        return None

    def __enter__(self) -> FakeBedrockControl:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def _handler(fake: FakeBedrockControl) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server naming
            fake.requests.append(("GET", self.path))
            prefix = "/inference-profiles/"
            if not self.path.startswith(prefix):
                return self._error(404, "UnknownOperationException", self.path)
            identifier = unquote(self.path[len(prefix) :])
            if identifier in fake.denied or identifier.rsplit("/", 1)[-1] in fake.denied:
                return self._error(403, "AccessDeniedException", "not authorized")
            profile = fake.find(identifier)
            if profile is None:
                return self._error(
                    404, "ResourceNotFoundException", f"Inference profile {identifier} not found"
                )
            self._send(200, profile.answer())

        def do_POST(self) -> None:  # noqa: N802 - http.server naming
            fake.requests.append(("POST", self.path))
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.path != "/listTagsForResource":
                return self._error(404, "UnknownOperationException", self.path)
            profile = fake.find(str(body.get("resourceARN", "")))
            if profile is None:
                return self._error(404, "ResourceNotFoundException", "no such resource")
            tags = [{"key": k, "value": v} for k, v in profile.tags.items()]
            self._send(200, {"tags": tags})

        def _error(self, status: int, code: str, message: str) -> None:
            self._send(
                status, {"message": message}, {"x-amzn-ErrorType": f"{code}:http://internal"}
            )

        def _send(
            self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
        ) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-amzn-RequestId", "fake-request-id")
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler
