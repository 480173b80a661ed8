"""Read API: the settings in force, and edits of the sections the server lets callers edit.

GET /v1/settings (reader) answers what the dashboard's settings page shows: alert rules,
budgets and channels (each channel as its type and host only), quotas, Provisioned
Throughput facts, output burndown, prices settings and attribution keys; and for each
editable section its keys, values, the same as TOML text, and who edited it when. The
server, ingest, aws, sources and profiles sections and `db` are not answered: they hold
tokens, ingest keys, file paths and endpoints, and the page edits none of them.

PUT /v1/admin/settings/{section} (admin: loopback or the admin token) takes the section's
editable keys as a JSON object, validates them with the models `outcrop.toml` is read with,
stores them in the database and applies them (core/live_settings.py); it answers the section
in force, or 400 naming the bad key. DELETE reverts the section to the file's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from outcrop.core.live_settings import EDITABLE, SettingsEditError
from outcrop.core.settings import Settings
from outcrop.core.toml_text import section_toml

if TYPE_CHECKING:
    from outcrop.api.app import ApiHandlers

# the sections GET answers whole (channels apart, redacted); the others hold secrets or paths
SHOWN = ("alerts", "capacity", "pricing", "attribution", "jobs")


class SettingsApi:
    def __init__(self, handlers: ApiHandlers) -> None:
        self.h = handlers

    def get(self, request: Request) -> Response:
        self.h._require_reader(request)
        return _answer(self._shown(self.h.settings))

    def put(self, request: Request, body: dict[str, Any]) -> Response:
        self.h._require_admin(request)
        section = self._section(request)
        settings = self.h.live.put(self.h.store, section, body, self.h.clock(), self._caller(request))
        return _answer(self._editable(settings)[section])

    def delete(self, request: Request) -> Response:
        self.h._require_admin(request)
        section = self._section(request)
        settings = self.h.live.delete(self.h.store, section, self.h.clock(), self._caller(request))
        return _answer(self._editable(settings)[section])

    @staticmethod
    def _section(request: Request) -> str:
        section = str(request.path_params["section"])
        if section not in EDITABLE:
            raise SettingsEditError(f"settings section {section!r} cannot be edited through the API; "
                                    f"editable: {', '.join(EDITABLE)}")
        return section

    def _caller(self, request: Request) -> str:
        """Who made the edit, for the audit: how they were let in, and from where."""
        admin = self.h.settings.server.admin_token
        how = "admin token" if admin is not None and self.h._token_ok(request, admin) else "loopback"
        return f"{how} {request.client.host if request.client else 'unknown'}"

    def _shown(self, settings: Settings) -> dict[str, Any]:
        from outcrop.analytics.alerts.read import alert_config

        shown: dict[str, Any] = {name: getattr(settings, name).model_dump(mode="json") for name in SHOWN}
        # a Slack or webhook URL is a credential: its type and host only, as /v1/alerts/config
        shown["alerts"]["channels"] = alert_config(settings)["channels"]
        return {**shown, "editable": self._editable(settings)}

    def _editable(self, settings: Settings) -> dict[str, Any]:
        out = {}
        for section, keys in EDITABLE.items():
            dumped = getattr(settings, section).model_dump(mode="json")
            values = {k: dumped[k] for k in keys}
            override = self.h.live.overrides.get(section)
            out[section] = {
                "keys": list(keys),
                "values": values,
                "toml": section_toml(section, values),
                "edited": None if override is None else {
                    "updated_at": override.updated_at.isoformat(), "updated_by": override.updated_by,
                    "error": override.error},
            }
        return out


def _answer(value: Any) -> Response:
    from outcrop.api.app import _json

    return _json(value)
