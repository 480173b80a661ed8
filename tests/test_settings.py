"""Configuration: unknown keys are named, every key is documented."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import run_outcrop
from pydantic import BaseModel

from outcrop.core.settings import MAX_QUERY_ROWS, ConfigError, Settings, load_settings

DOC = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"


def _keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        inner = _model_in(field.annotation)
        nested_section = inner is not None and not (_is_sequence(field.annotation) or _is_mapping(field.annotation))
        if not nested_section:
            keys.append(key)  # a plain section ([server]) is a heading, not a key
        if inner is not None:
            suffix = "[]." if _is_sequence(field.annotation) else "."
            if _is_mapping(field.annotation):
                suffix = ".<arn>." if key == "profiles.map" else ".<name>."
            keys.extend(_keys(inner, key + suffix))
    return keys


def _args(annotation: Any) -> tuple[Any, ...]:
    return getattr(annotation, "__args__", ())


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in _args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _is_sequence(annotation: Any) -> bool:
    return getattr(annotation, "__origin__", None) in (tuple, list)


def _is_mapping(annotation: Any) -> bool:
    return getattr(annotation, "__origin__", None) is dict


def test_every_key_is_documented() -> None:
    documented = set(re.findall(r"^\| `([^`]+)` \|", DOC.read_text(), flags=re.MULTILINE))
    keys = _keys(Settings)
    assert len(keys) > 60
    missing = [k for k in keys if k not in documented]
    assert missing == []
    stale = sorted(documented - set(keys))
    assert stale == [], "documented keys that no longer exist"


def test_unknown_key_is_an_error_naming_it() -> None:
    with pytest.raises(ConfigError, match="unknown configuration key 'server.http_prot'"):
        load_settings(server={"http_prot": 1})


def test_wrong_type_names_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTCROP_SERVER__API_PORT", "not-a-port")
    with pytest.raises(ConfigError, match="'server.api_port'"):
        load_settings()


def test_toml_file_is_read_and_env_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "outcrop.toml"
    config.write_text('[server]\nhttp_port = 5000\napi_port = 5001\n[[ingest.api_keys]]\nkey = "abcdefgh12"\n'
                      'tenant = "acme"\n')
    monkeypatch.setenv("OUTCROP_CONFIG", str(config))
    monkeypatch.setenv("OUTCROP_SERVER__API_PORT", "6001")
    settings = load_settings()
    assert settings.server.http_port == 5000
    assert settings.server.api_port == 6001
    assert settings.ingest.api_keys[0].tenant == "acme"


def test_unknown_key_in_toml_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "outcrop.toml"
    config.write_text("[pricing]\nuse_genai_price = false\n")
    monkeypatch.setenv("OUTCROP_CONFIG", str(config))
    with pytest.raises(ConfigError, match="'pricing.use_genai_price'"):
        load_settings()


def test_query_max_rows_past_what_a_read_can_return_is_refused_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"^configuration key 'server\.query_max_rows': .*less than or equal "
                                          r"to 100000$"):
        load_settings(server={"query_max_rows": 200_000})


def test_the_largest_accepted_query_max_rows_is_one_every_read_accepts(store: Any) -> None:
    from outcrop.analytics.queries import run_query

    settings = load_settings(server={"query_max_rows": MAX_QUERY_ROWS})
    # the read API fetches one row past its cap to tell truncation
    table = run_query(store, "usage", {"from": "2026-01-01", "to": "2026-01-02"},
                      settings.server.query_max_rows + 1)
    assert table.num_rows == 0


@pytest.mark.parametrize(("section", "key", "value"), [
    ("server", "http_port", 65536),
    ("server", "max_decompressed_bytes", 3 * 1024**3),  # gRPC takes it as a C int
    ("server", "queue_max_batches", 2**31),  # gRPC's maximum_concurrent_rpcs, a C int
    ("server", "query_timeout_seconds", 1e12),  # past threading.TIMEOUT_MAX
    ("server", "body_read_timeout_seconds", 1e12),
    ("jobs", "rollup_interval_seconds", 1e15),  # past timedelta.max
    ("ingest", "max_seconds", 1e12),
])
def test_numbers_past_what_the_server_can_use_are_refused_naming_the_key(section: str, key: str,
                                                                         value: float) -> None:
    with pytest.raises(ConfigError, match=rf"^configuration key '{section}\.{key}': .*less than or equal to"):
        load_settings(**{section: {key: value}})


def test_cloudwatch_lookback_past_metric_retention_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"'sources\.cloudwatch_metrics\.lookback_minutes'"):
        load_settings(sources={"cloudwatch_metrics": {"lookback_minutes": 10**12}})


def test_report_with_too_many_rows_configured_says_which_key_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "OUTCROP_SERVER__QUERY_MAX_ROWS": "200000"}
    env.pop("OUTCROP_CONFIG", None)
    result = run_outcrop("report", "cost", "--db", str(tmp_path / "none.duckdb"), env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "server.query_max_rows" in lines[0]
    assert "less than or equal to 100000" in lines[0]
