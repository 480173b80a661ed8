"""Model ids as producers send them -> the id pricing uses, its scope and the profile."""

from __future__ import annotations

import pytest
from genai_prices import data

from outcrop.collector.normalize.models import looks_like_bedrock, normalize_model_id

HAIKU = "anthropic.claude-3-5-haiku-20241022-v1:0"
APP_PROFILE = "arn:aws:bedrock:us-west-2:123456789012:application-inference-profile/a1b2c3d4e5f6"


@pytest.mark.parametrize(
    ("sent", "model", "scope", "profile"),
    [
        (HAIKU, HAIKU, "in_region", None),
        (f"us.{HAIKU}", HAIKU, "geo", f"us.{HAIKU}"),
        (f"eu.{HAIKU}", HAIKU, "geo", f"eu.{HAIKU}"),
        (f"apac.{HAIKU}", HAIKU, "geo", f"apac.{HAIKU}"),
        (f"jp.{HAIKU}", HAIKU, "geo", f"jp.{HAIKU}"),
        (f"au.{HAIKU}", HAIKU, "geo", f"au.{HAIKU}"),
        (f"ca.{HAIKU}", HAIKU, "geo", f"ca.{HAIKU}"),
        (f"us-gov.{HAIKU}", HAIKU, "geo", f"us-gov.{HAIKU}"),
        (f"global.{HAIKU}", HAIKU, "global", f"global.{HAIKU}"),
        (
            f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.{HAIKU}",
            HAIKU,
            "geo",
            f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.{HAIKU}",
        ),
        (f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}", HAIKU, "in_region", None),
        (APP_PROFILE, None, "application_profile", APP_PROFILE),
        (
            "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123",
            None,
            "in_region",
            None,
        ),
        # OpenLLMetry 0.62 drops both prefix and vendor; Bedrock's -v1:0 betrays the vendor.
        ("claude-3-5-haiku-20241022-v1:0", HAIKU, "in_region", None),
        ("nova-pro-v1:0", "amazon.nova-pro-v1:0", "in_region", None),
        # Anthropic's own API id has no Bedrock version: left alone.
        ("claude-3-5-haiku-20241022", "claude-3-5-haiku-20241022", "in_region", None),
        ("gpt-4o", "gpt-4o", "in_region", None),
        ("  amazon.nova-pro-v1:0  ", "amazon.nova-pro-v1:0", "in_region", None),
        (None, None, "in_region", None),
        ("", None, "in_region", None),
    ],
)
def test_normalize_model_id(
    sent: str | None, model: str | None, scope: str, profile: str | None
) -> None:
    assert normalize_model_id(sent) == (model, scope, profile)


@pytest.mark.parametrize(
    "model_id",
    [
        HAIKU,
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "anthropic.claude-3-5-sonnet-20241022-v2:0",
        "amazon.nova-pro-v1:0",
        "amazon.nova-lite-v1:0",
        "meta.llama3-1-8b-instruct-v1:0",
    ],
)
def test_normalised_bedrock_ids_are_priced_by_genai_prices(model_id: str) -> None:
    """The whole point of the normalised id: the price dataset must recognise it."""
    (aws,) = [p for p in data.providers if p.id == "aws"]
    assert any(m.is_match(normalize_model_id(f"us.{model_id}")[0] or "") for m in aws.models)


def test_looks_like_bedrock() -> None:
    assert looks_like_bedrock(f"us.{HAIKU}")
    assert looks_like_bedrock(HAIKU)
    assert looks_like_bedrock(APP_PROFILE)
    assert not looks_like_bedrock("gpt-4o")
    assert not looks_like_bedrock("claude-3-5-haiku-20241022")
    assert not looks_like_bedrock(None)
