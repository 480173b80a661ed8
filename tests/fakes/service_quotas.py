"""A small real HTTP server that answers like the Service Quotas API for Bedrock.

moto's service-quotas knows no Bedrock quotas, so tests point boto3's `service-quotas`
client at this server with `endpoint_url`, and the code under test makes real HTTP calls.
It speaks ListServiceQuotas in AWS's JSON 1.1 protocol (`POST /`, header
`X-Amz-Target: ServiceQuotasV20190624.ListServiceQuotas`, JSON body), with pagination: at
most `page_size` quotas per answer and a `NextToken` for the rest.

    with FakeServiceQuotas({"us-east-1": [("On-demand model inference tokens per minute for "
                                           "Anthropic Claude 3.5 Haiku", 400000.0)]}) as fake:
        client = boto3.client("service-quotas", endpoint_url=fake.endpoint_url, ...)

The region of a call is read from its SigV4 credential scope. A region in `failing`
answers AccessDeniedException; a service code other than `bedrock` answers
NoSuchResourceException. Every call is recorded in `fake.requests` as (region, body).
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TARGET = "ServiceQuotasV20190624.ListServiceQuotas"
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/servicequotas/aws4_request")


class FakeServiceQuotas:
    def __init__(
        self, quotas: dict[str, list[tuple[str, float]]], page_size: int = 2, failing: set[str] | None = None
    ) -> None:
        self.quotas = quotas  # region -> [(QuotaName, Value)]
        self.page_size = page_size
        self.failing = failing or set()
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def page(self, region: str, token: str | None, limit: int | None) -> dict[str, Any]:
        """One ListServiceQuotas answer; the token is the offset of the next quota."""
        every = self.quotas.get(region, [])
        start = int(token) if token else 0
        size = min(self.page_size, limit or self.page_size)
        chosen = every[start : start + size]
        answer: dict[str, Any] = {"Quotas": [_quota(region, i, name, value)
                                             for i, (name, value) in enumerate(chosen, start)]}
        if start + size < len(every):
            answer["NextToken"] = str(start + size)
        return answer

    def __enter__(self) -> FakeServiceQuotas:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def _quota(region: str, index: int, name: str, value: float) -> dict[str, Any]:
    code = f"L-{index:08X}"
    return {
        "ServiceCode": "bedrock",
        "ServiceName": "Amazon Bedrock",
        "QuotaArn": f"arn:aws:servicequotas:{region}:123456789012:bedrock/{code}",
        "QuotaCode": code,
        "QuotaName": name,
        "Value": value,
        "Unit": "None",
        "Adjustable": True,
        "GlobalQuota": False,
    }


def _handler(fake: FakeServiceQuotas) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
            pass

        def do_POST(self) -> None:  # noqa: N802 - http.server naming
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            scope = _SCOPE.search(self.headers.get("Authorization", ""))
            region = scope.group(1) if scope else ""
            fake.requests.append((region, body))
            if self.headers.get("X-Amz-Target") != TARGET:
                return self._error(400, "UnknownOperationException", str(self.headers.get("X-Amz-Target")))
            if region in fake.failing:
                return self._error(400, "AccessDeniedException", "not authorized to list service quotas")
            if body.get("ServiceCode") != "bedrock":
                return self._error(400, "NoSuchResourceException", f"no service {body.get('ServiceCode')!r}")
            self._send(200, fake.page(region, body.get("NextToken"), body.get("MaxResults")))

        def _error(self, status: int, code: str, message: str) -> None:
            # JSON 1.1 errors: the code in `__type`, as botocore's json parser reads it
            self._send(status, {"__type": code, "message": message})

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-amzn-RequestId", "fake-request-id")
            self.end_headers()
            self.wfile.write(data)

    return Handler
