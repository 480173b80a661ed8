"""Starting a server where something already listens fails with a message naming the setting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import RunningServer, make_settings

from outcrop.server import ListenError


@pytest.mark.parametrize("key", ["http_port", "grpc_port", "api_port"])
def test_a_port_in_use_is_named(server: Any, tmp_path: Path, key: str) -> None:
    taken = {"http_port": server.server.ports.http, "grpc_port": server.server.ports.grpc,
             "api_port": server.server.ports.api}[key]
    with pytest.raises(ListenError, match=rf"127.0.0.1:{taken} \(server.{key}\).*another port"):
        RunningServer(make_settings(server={key: taken}), str(tmp_path / "other.duckdb"))
    assert not (tmp_path / "other.duckdb.server.json").exists()
