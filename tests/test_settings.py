"""Configuration: unknown keys are named, every key is documented."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from outcrop.core.settings import ConfigError, Settings, load_settings

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
                suffix = ".<arn>."
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
