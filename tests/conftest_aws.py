"""AWS in tests: a real moto server on loopback, used through boto3 with endpoint URLs.

Import the fixtures into a test module (`from tests.conftest_aws import aws_env, moto_url`).
No mock_aws decorators: the code under test makes real HTTP calls, as in production.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

REGION = "us-east-1"


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture()
def aws_env(monkeypatch: pytest.MonkeyPatch, moto_url: str) -> str:
    """Fake credentials for the standard chain, and a clean moto state per test."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST"))
    return moto_url


def endpoints(moto_url: str, **extra: str) -> dict[str, str]:
    return {"s3": moto_url, "logs": moto_url, "cloudwatch": moto_url, **extra}


def boto(service: str, moto_url: str) -> Any:
    """A test-side client for arranging fixtures in the moto server."""
    return boto3.client(service, region_name=REGION, endpoint_url=moto_url)
