"""The settings in force while the server runs: the configuration file's (and environment's),
with the sections edited through the read API replacing theirs.

Alert rules, budgets, quotas and Provisioned Throughput facts are configuration that the
dashboard may edit (DESIGN 6). An edit is stored in the database (`settings_overrides`,
never a file), validated by the same models as the file, and applied at once: the scheduler
and the API handlers read `LiveSettings.current` on every run and request, so the next
alerts evaluation and report see it without a restart. At start, the stored edits are
applied to the file's settings again; one that no longer fits them (a channel it names was
removed from the file) is set aside, logged and reported, and the file's section applies.

Only the keys in `EDITABLE` may be edited. The rest need a restart (listeners, sources,
the scheduler's intervals) or are security-relevant (tokens, keys, channel targets, what
the server may read or call), so they stay in the file; docs/security.md says why.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from outcrop.core.errors import GrpcCode, OutcropError
from outcrop.core.settings import AlertsSettings, CapacitySettings, Settings, _describe
from outcrop.core.sql import load_sql
from outcrop.core.store.writer import Store

log = logging.getLogger(__name__)

# section -> the keys an edit may set; an edit replaces exactly the keys it gives
EDITABLE: dict[str, tuple[str, ...]] = {
    "alerts": ("rules", "budgets"),
    "capacity": ("quotas", "model_units", "output_burndown", "headroom"),
}
# Keys of the editable sections that stay in the file, and why (the refusal says it).
FILE_ONLY: dict[str, str] = {
    "alerts.channels": "channel targets are credentials, and an API caller must not aim the server's "
                       "notifications at an address of its choosing; rules and budgets name the file's channels",
    "alerts.evaluate_seconds": "the scheduler's interval is set when the server starts",
    "alerts.delivery_timeout_seconds": "delivery bounds protect the server from hanging receivers",
    "alerts.delivery_attempts": "delivery bounds protect the server from hanging receivers",
    "alerts.dashboard_url": "every notification carries this link, so it is the operator's to set",
    "capacity.service_quotas": "it makes the server call the Service Quotas API with its own AWS identity",
}


class SettingsEditError(OutcropError):
    """An edit the server refuses; the message names the key (400)."""

    grpc_code = GrpcCode.INVALID_ARGUMENT


# One model per section, so a validation error's location starts with the section's name
# and `_describe` words it as load_settings does: configuration key 'alerts.rules.0.kind'.
class _AlertsEdit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    alerts: AlertsSettings


class _CapacityEdit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    capacity: CapacitySettings


_MODELS: dict[str, type[_AlertsEdit] | type[_CapacityEdit]] = {"alerts": _AlertsEdit, "capacity": _CapacityEdit}


@dataclass(frozen=True, slots=True)
class Override:
    """A section's stored edit. `error` is set when it no longer fits the file and is not applied."""

    body: dict[str, Any]
    updated_at: datetime
    updated_by: str
    error: str | None = None


def edited(base: Settings, section: str, body: Mapping[str, Any]) -> tuple[Settings, dict[str, Any]]:
    """`base` with the keys of `body` replacing those of its `section`, validated; and the
    edit as stored (the given keys, defaults filled in). Raises SettingsEditError naming the key."""
    _check_keys(section, body)
    merged = {**getattr(base, section).model_dump(), **body}
    try:
        validated = getattr(_MODELS[section].model_validate({section: merged}), section)
    except ValidationError as exc:
        raise SettingsEditError(_describe(exc)) from None
    dumped = validated.model_dump(mode="json")
    return base.model_copy(update={section: validated}), {k: dumped[k] for k in body}


def _check_keys(section: str, body: Mapping[str, Any]) -> None:
    if section not in EDITABLE:
        raise SettingsEditError(f"settings section {section!r} cannot be edited through the API; "
                                f"editable: {', '.join(EDITABLE)}")
    if not isinstance(body, Mapping):
        raise SettingsEditError(f"the body must be a JSON object of [{section}] keys")
    editable = ", ".join(f"{section}.{k}" for k in EDITABLE[section])
    for key in body:
        why = FILE_ONLY.get(f"{section}.{key}")
        if why is not None:
            raise SettingsEditError(f"configuration key '{section}.{key}' cannot be edited through the API "
                                    f"({why}); change it in the configuration file. Editable: {editable}")
    if not body:
        raise SettingsEditError(f"the body names no key to edit; editable: {editable}")


class LiveSettings:
    """Holds the settings in force; `current` is read anew on every job run and request.

    Edits are serialised by a lock and stored through the writer before `current` changes,
    so what is answered is what is stored.
    """

    def __init__(self, base: Settings, overrides: Mapping[str, Override] | None = None) -> None:
        self.base = base
        self.overrides: dict[str, Override] = {}
        self._lock = threading.Lock()
        current = base
        for section, override in sorted((overrides or {}).items()):
            try:
                current, _ = edited(current, section, override.body)
            except SettingsEditError as exc:
                log.warning("the stored edit of [%s] no longer fits the configuration and is not applied: %s "
                            "(revert it with DELETE /v1/admin/settings/%s, or edit it again)", section, exc, section)
                override = Override(override.body, override.updated_at, override.updated_by, str(exc))
            self.overrides[section] = override
        self.current: Settings = current

    @classmethod
    def load(cls, store: Store, base: Settings) -> LiveSettings:
        """The file's settings with the edits stored in the database applied."""
        rows = store.query(load_sql("settings/read_overrides.sql")).to_pylist()
        stored = {r["section"]: Override(json.loads(r["body"]), r["updated_at"], r["updated_by"]) for r in rows}
        return cls(base, stored)

    def put(self, store: Store, section: str, body: Mapping[str, Any], at: datetime, by: str) -> Settings:
        """Validate, store and apply an edit of `section` (replacing any earlier edit of it)."""
        with self._lock:
            # the edit replaces the file's keys, not an earlier edit's: a PUT is the whole edit
            section_settings, stored = edited(self.base, section, body)
            text = json.dumps(stored, sort_keys=True)

            def save(con: Any) -> None:
                con.execute(load_sql("settings/save_override.sql"), [section, text, at, by])
                con.execute(load_sql("settings/audit_edit.sql"), [at, section, "put", text, by])

            store.write(save)
            self.overrides[section] = Override(stored, at, by)
            self.current = self.current.model_copy(update={section: getattr(section_settings, section)})
            return self.current

    def delete(self, store: Store, section: str, at: datetime, by: str) -> Settings:
        """Forget the edit of `section`: the file's keys apply again."""
        if section not in EDITABLE:
            raise SettingsEditError(f"settings section {section!r} cannot be edited through the API; "
                                    f"editable: {', '.join(EDITABLE)}")
        with self._lock:
            def forget(con: Any) -> None:
                con.execute(load_sql("settings/delete_override.sql"), [section])
                con.execute(load_sql("settings/audit_edit.sql"), [at, section, "delete", None, by])

            store.write(forget)
            self.overrides.pop(section, None)
            self.current = self.current.model_copy(update={section: getattr(self.base, section)})
            return self.current
