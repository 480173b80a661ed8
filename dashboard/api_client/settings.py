"""The Settings page's reads and edits.

Reads (the reader token): GET /v1/settings, the settings in force (alert channels as type
and host only; no tokens, keys or paths), and the `prices` named query, the price table
the rollups price with. Edits (admin endpoints: loopback or `server.admin_token`):
PUT /v1/admin/settings/{alerts|capacity} with the section's editable keys, which the server
validates, stores in its database and applies; DELETE reverts the section to the server's
configuration file. The page edits a section as TOML text, the form `outcrop.toml` takes;
it is parsed here and sent as JSON, and the server's refusal comes back as one line.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from outcrop.core.client import ApiError, call
from outcrop.dashboard import fmt
from outcrop.dashboard.api_client.base import Api, dashboard_settings

# the sections the server lets callers edit, as the page names them
EDITABLE: dict[str, str] = {"alerts": "Alert rules and budgets", "capacity": "Quotas and model units"}
PRICE_COLUMNS: dict[str, str] = {
    "model": "Model", "region_scope": "Region scope", "source": "Source", "valid_from": "Valid from",
    "valid_to": "Valid to", "input_per_mtok": "Input $/M", "output_per_mtok": "Output $/M",
    "cache_read_per_mtok": "Cache read $/M", "cache_write_per_mtok": "Cache write $/M",
    "cache_write_1h_per_mtok": "Cache write 1h $/M", "batch_discount": "Batch discount", "currency": "Currency",
}
_RATES = ("input_per_mtok", "output_per_mtok", "cache_read_per_mtok", "cache_write_per_mtok",
          "cache_write_1h_per_mtok")


def settings(api: Api) -> dict[str, Any]:
    """GET /v1/settings: the sections in force and, under `editable`, each editable section."""
    answer: dict[str, Any] = api.get("/v1/settings")
    return answer


def prices(api: Api, models: Sequence[str] = ()) -> pa.Table:
    """The `prices` named query: every price row, or only those of `models`."""
    return api.named("prices", {"where": {"model": list(models)}} if models else {})


def save(api: Api, section: str, text: str, current: Mapping[str, Any]) -> dict[str, Any]:
    """Parse `text` (TOML holding the `[section]` table) and PUT it; the section in force back.

    `current` is the section as GET answered it (`editable[section]`): a list key whose
    blocks were all deleted from the text is sent empty, not left out (left out, the
    server would keep the configuration file's entries)."""
    body = edit_body(section, text, current)
    answer: dict[str, Any] = _admin(api, f"/v1/admin/settings/{section}", body, "PUT")
    return answer


def revert(api: Api, section: str) -> dict[str, Any]:
    """DELETE the section's edit: the server's configuration file applies again."""
    answer: dict[str, Any] = _admin(api, f"/v1/admin/settings/{section}", None, "DELETE")
    return answer


def edit_body(section: str, text: str, current: Mapping[str, Any]) -> dict[str, Any]:
    """The PUT body for `text`, or an ApiError saying in one line what is wrong with the text."""
    try:
        parsed = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ApiError(f"the [{section}] text is not TOML: {exc}") from None
    others = sorted(set(parsed) - {section})
    if others:
        raise ApiError(f"put only the [{section}] table here; the text also has {', '.join(others)}")
    table = parsed.get(section)
    if not isinstance(table, dict):
        raise ApiError(f"the text needs the [{section}] table")
    lists = [k for k, v in current.get("values", {}).items() if isinstance(v, list)]
    return {**{k: [] for k in lists}, **table}


def _admin(api: Api, path: str, body: dict[str, Any] | None, method: str) -> Any:
    """An admin call: with `server.admin_token` from the settings when one is set (a dashboard
    on another host needs it), else as this dashboard's own caller (loopback)."""
    token = dashboard_settings().server.admin_token or api.token
    admin = Api(api.base_url, token, api.timeout)
    return admin._guarded(lambda: call(admin.base_url, path, body, token=admin.token, timeout=admin.timeout,
                                       method=method))


# -- what the page shows of them --------------------------------------------------------

def price_rows(table: pa.Table) -> list[dict[str, str]]:
    """The price table as people read it: rates in dollars per million tokens, open-ended validity."""
    rows = []
    for row in table.to_pylist():
        shown = {label: _price_cell(key, row.get(key)) for key, label in PRICE_COLUMNS.items()}
        rows.append(shown)
    return rows


def _price_cell(key: str, value: Any) -> str:
    if key in _RATES:
        return fmt.money(value)
    if key == "batch_discount":
        return fmt.percent(value)
    if key == "valid_to" and value is None:
        return "still valid"
    if key in ("valid_from", "valid_to"):
        return str(value)[:10] if value is not None else fmt.NONE
    return fmt.NONE if value is None else str(value)


def rule_rows(rules: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One line per alert rule: what it watches, per what, against which threshold."""
    return [{"Name": r["name"], "Kind": r["kind"], "Metric": r.get("metric") or fmt.NONE,
             "By": ", ".join(r.get("by") or []) or "all calls", "Window": f"{r['window_minutes']} min",
             "Threshold": r["threshold"], "Min requests": r["min_requests"], "Severity": r["severity"],
             "Channels": ", ".join(r.get("channels") or []) or fmt.NONE} for r in rules]


def budget_rows(budgets: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{"Name": b["name"], "Scope": scope_text(b.get("scope")), "Period": b["period"],
             "Limit": fmt.money(b["limit_usd"]), "Thresholds": ", ".join(fmt.percent(t) for t in b["thresholds"]),
             "Severity": b["severity"], "Channels": ", ".join(b.get("channels") or []) or fmt.NONE}
            for b in budgets]


def scope_text(scope: Mapping[str, Any] | None) -> str:
    """{"tenant": "acme", "route": None} as "tenant=acme"; "all calls" when nothing is set."""
    return ", ".join(f"{k}={v}" for k, v in (scope or {}).items() if v is not None) or "all calls"


def quota_rows(quotas: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{"Model": q["model"], "Region": q["region"], "TPM": fmt.count(q.get("tpm")),
             "RPM": fmt.count(q.get("rpm"))} for q in quotas]


def model_unit_rows(units: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{"Model": u["model"], "Input TPM per unit": fmt.count(u["input_tpm_per_unit"]),
             "Output TPM per unit": fmt.count(u["output_tpm_per_unit"]),
             "No commitment $/h": fmt.money(u.get("hourly_usd_no_commitment")),
             "1 month $/h": fmt.money(u.get("hourly_usd_1_month")),
             "6 months $/h": fmt.money(u.get("hourly_usd_6_month"))} for u in units]


def attribution_rows(attribution: Mapping[str, Any]) -> list[dict[str, str]]:
    """Each attribution field and the keys read for it, first match first."""
    metadata = attribution.get("request_metadata") or {}
    fields = [k for k in attribution if k not in ("request_metadata", "identity_tenants")]
    return [{"Field": f, "Span and resource attribute keys": ", ".join(attribution[f]),
             "Bedrock requestMetadata keys": ", ".join(metadata.get(f, [])) or fmt.NONE} for f in fields]


def edited_text(edit: Mapping[str, Any] | None) -> str:
    """Where the section in force comes from, in one line."""
    if edit is None:
        return "As in the server's configuration file."
    return f"Edited through the API on {str(edit['updated_at'])[:19].replace('T', ' ')} UTC by {edit['updated_by']}."
