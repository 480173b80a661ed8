"""Inference-profile resolution: which model (and tenant) a profile id or ARN stands for.

Order: the config map (negotiated, always wins), then system profiles (`us.`, `eu.`,
`global.` … prefixes strip to the model), then the Bedrock control plane
(`GetInferenceProfile`, plus the profile's tags for attribution), cached with a TTL.
A profile nobody can resolve keeps model NULL — it is listed as unresolved and shown
as unpriced, never priced as some guess (a wrong cost is worse than a visible gap).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from outcrop.collector.normalize.models import normalize_model_id
from outcrop.core.aws import AwsClients, classify_error
from outcrop.core.records import LlmCall
from outcrop.core.settings import AttributionSettings, ProfilesSettings
from outcrop.core.sql import load_sql

# How long a failure that may heal by itself (throttle, 5xx) is remembered, so one
# batch does not call the API once per record.
RETRYABLE_FAILURE_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Resolution:
    profile: str
    model: str | None
    tenant: str | None = None
    workflow: str | None = None
    source: str = "unresolved"  # config | system | api | unresolved
    error: str | None = None

    @property
    def resolved(self) -> bool:
        return self.model is not None


def is_profile(model_id: str) -> bool:
    return ":inference-profile/" in model_id or ":application-inference-profile/" in model_id


def profile_id(profile: str) -> str:
    """`abc123` from `arn:aws:bedrock:…:application-inference-profile/abc123`."""
    return profile.rsplit("/", 1)[-1] if profile.startswith("arn:") else profile


class ProfileResolver:
    """Thread-safe resolver shared by all pollers; `apply` fills a call in place."""

    def __init__(
        self,
        settings: ProfilesSettings,
        keys: AttributionSettings,
        clients: AwsClients | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._keys = keys
        self._clients = clients if settings.resolve_with_api else None
        self._clock = clock
        self._cache: dict[str, tuple[Resolution, float]] = {}
        self._fresh: dict[str, Resolution] = {}
        self._lock = threading.Lock()

    def apply(self, call: LlmCall) -> None:
        profile = call.inference_profile
        if profile is None and call.model is None and is_profile(call.request_model or ""):
            profile = call.inference_profile = call.request_model
        if profile is None:
            return
        if call.model is not None and self._config(profile) is None:
            return  # a system profile already stripped to its model, nothing to look up
        found = self.resolve(profile)
        call.model = found.model or call.model
        call.tenant = call.tenant or found.tenant
        call.workflow = call.workflow or found.workflow

    def resolve(self, profile: str) -> Resolution:
        now = self._clock()
        with self._lock:
            cached = self._cache.get(profile)
            if cached is not None and cached[1] > now:
                return cached[0]
        found = self._lookup(profile)
        ttl = self._settings.cache_seconds
        if found.source == "unresolved" and found.error and "(retryable)" in found.error:
            ttl = min(ttl, RETRYABLE_FAILURE_SECONDS)
        with self._lock:
            self._cache[profile] = (found, now + ttl)
            self._fresh[profile] = found
        return found

    def take_fresh(self) -> list[Resolution]:
        """Resolutions made since the last call, for `record_resolutions`."""
        with self._lock:
            fresh, self._fresh = list(self._fresh.values()), {}
        return fresh

    def _config(self, profile: str) -> Resolution | None:
        mapped = self._settings.map.get(profile) or self._settings.map.get(profile_id(profile))
        if mapped is None:
            return None
        return Resolution(profile, mapped.model, mapped.tenant, mapped.workflow, "config")

    def _lookup(self, profile: str) -> Resolution:
        configured = self._config(profile)
        if configured is not None:
            return configured
        system = _system_model(profile)
        if system is not None:
            return Resolution(profile, system, source="system")
        if self._clients is None:
            return Resolution(profile, None, error="not in [profiles.map] and API lookup is off")
        return self._from_api(profile, self._clients)

    def _from_api(self, profile: str, clients: AwsClients) -> Resolution:
        client = clients.client("bedrock", _arn_region(profile))
        try:
            answer = client.get_inference_profile(inferenceProfileIdentifier=profile)
        except Exception as exc:  # noqa: BLE001 - every failure is classified and recorded
            return Resolution(profile, None, error=str(classify_error(exc, profile)))
        model = _model_of(answer.get("models") or [])
        if model is None:
            return Resolution(profile, None, error="GetInferenceProfile named no model")
        tags = self._tags(client, str(answer.get("inferenceProfileArn") or profile))
        return Resolution(profile, model, tags.get("tenant"), tags.get("workflow"), "api")

    def _tags(self, client: Any, arn: str) -> dict[str, str]:
        """Attribution from the profile's tags, read with the requestMetadata key names.
        Missing permission for tags only costs the attribution, not the model."""
        try:
            listed = client.list_tags_for_resource(resourceARN=arn).get("tags") or []
        except Exception:  # noqa: BLE001 - tags are optional
            return {}
        values = {str(t.get("key")): str(t.get("value")) for t in listed if isinstance(t, dict)}
        found: dict[str, str] = {}
        for field, names in self._keys.request_metadata.items():
            for name in names:
                if values.get(name):
                    found[field] = values[name]
                    break
        return found


def _system_model(profile: str) -> str | None:
    """System-defined profiles name their model: `us.anthropic.claude…` or its ARN."""
    if ":application-inference-profile/" in profile:
        return None
    model, _scope, _profile = normalize_model_id(profile_id(profile))
    return model


def _model_of(models: Sequence[Any]) -> str | None:
    # A cross-region profile lists the same model once per region; the first will do.
    for entry in models:
        arn = entry.get("modelArn") if isinstance(entry, Mapping) else None
        if isinstance(arn, str) and arn:
            model, _scope, _profile = normalize_model_id(arn)  # a foundation-model ARN
            return model
    return None


def _arn_region(profile: str) -> str | None:
    parts = profile.split(":")
    if not profile.startswith("arn:") or len(parts) < 4:
        return None
    return parts[3] or None


# A profile that resolves late fixes the calls stored while it was unknown.
_BACKFILL = ("sources/backfill_invocation_models.sql", "sources/backfill_call_models.sql")


def record_resolutions(
    con: duckdb.DuckDBPyConnection, resolutions: Sequence[Resolution], now: datetime
) -> None:
    """Inside a write fn: keep the resolution table current (the unresolved list)."""
    for res in resolutions:
        status = "resolved" if res.resolved else "unresolved"
        con.execute(load_sql("sources/upsert_profile.sql"), [res.profile, res.model, res.tenant,
                                                              res.workflow, res.source, status,
                                                              res.error, now, now])
        if res.model is not None:
            for statement in _BACKFILL:
                con.execute(load_sql(statement), [res.model, res.profile])


def unresolved_profiles(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str | None]]:
    """(profile, why) for every profile whose model is unknown; such calls stay unpriced."""
    rows = con.execute(load_sql("sources/unresolved_profiles.sql")).fetchall()
    return [(str(r[0]), r[1]) for r in rows]
