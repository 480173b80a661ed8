"""Attribution a span states itself: configured keys, span before resource."""

from __future__ import annotations

from outcrop.collector.normalize.attribution import own_attribution
from outcrop.core.records import Attribution
from outcrop.core.settings import AttributionSettings

KEYS = AttributionSettings()


def test_span_attribute_wins_over_resource_attribute() -> None:
    own = own_attribution({"tenant_id": "acme"}, {"tenant.id": "fallback"}, KEYS)
    assert own.tenant == "acme"


def test_resource_attribute_used_when_span_has_none() -> None:
    own = own_attribution({}, {"tenant.id": "fallback", "deployment.environment": "prod"}, KEYS)
    assert own == Attribution(tenant="fallback", environment="prod")


def test_first_configured_key_wins() -> None:
    own = own_attribution({"tenant": "second", "tenant.id": "first"}, {}, KEYS)
    assert own.tenant == "first"


def test_traceloop_association_properties() -> None:
    attrs = {
        "traceloop.association.properties.tenant_id": "acme",
        "traceloop.association.properties.route": "/chat",
        "traceloop.workflow.name": "triage",
        "traceloop.association.properties.user_id": "u-1",
        "traceloop.prompt.version": 4,
    }
    own = own_attribution(attrs, {}, KEYS)
    assert own == Attribution(
        tenant="acme", route="/chat", workflow="triage", user_id="u-1", prompt_version="4"
    )


def test_custom_keys_from_settings() -> None:
    keys = AttributionSettings(tenant=("customer.account",))
    assert own_attribution({"customer.account": "a-9", "tenant.id": "x"}, {}, keys).tenant == "a-9"


def test_unusable_values_are_skipped_not_stringified() -> None:
    attrs = {"tenant.id": ["a", "b"], "tenant_id": "   ", "tenant": True, "app.tenant.id": "ok"}
    assert own_attribution(attrs, {}, KEYS).tenant == "ok"
    assert own_attribution({"tenant.id": "x" * 1000}, {}, KEYS).tenant is None


def test_configured_keys_beat_producer_fallbacks() -> None:
    attrs = {"langfuse.environment": "staging"}
    assert (
        own_attribution(attrs, {"deployment.environment.name": "prod"}, KEYS).environment == "prod"
    )
    assert own_attribution(attrs, {}, KEYS).environment == "staging"


def test_key_addresses_a_field_inside_a_json_object_attribute() -> None:
    # OpenInference's LangChain instrumentation: the run config's metadata as one JSON string
    metadata = '{"tenant": "acme", "route": "/support/summary", "ls_provider": "amazon_bedrock"}'
    own = own_attribution({"metadata": metadata}, {"tenant.id": "resource-tenant"}, KEYS)
    assert (own.tenant, own.route) == ("acme", "/support/summary")


def test_json_field_keys_are_configurable_and_nest() -> None:
    keys = AttributionSettings(tenant=("app.ctx.customer.id",))
    own = own_attribution({"app.ctx": '{"customer": {"id": "globex"}}'}, {}, keys)
    assert own.tenant == "globex"


def test_broken_or_non_object_json_attribute_is_no_value() -> None:
    for metadata in ('{"tenant": ', '["acme"]', '{"tenant": ["acme"]}', '{"tenant": true}'):
        assert own_attribution({"metadata": metadata}, {}, KEYS).tenant is None, metadata


def test_json_encoded_string_value_is_decoded() -> None:
    # Langfuse sends metadata values JSON-encoded
    own = own_attribution({"tenant.id": '"acme"'}, {}, KEYS)
    assert own.tenant == "acme"
