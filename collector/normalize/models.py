"""Model-id normalisation for pricing, shared by the OTLP and Bedrock-log normalisers.

The normalised id is the base Bedrock model id *without* a cross-region prefix but
*with* the version suffix Bedrock gives it (`anthropic.claude-3-5-haiku-20241022-v1:0`).
That is the form genai-prices (0.2.x) matches for every Bedrock model we checked —
its `aws` provider resolves `anthropic.claude-3-5-haiku-20241022-v1:0` to its regional
price and `amazon.nova-pro-v1:0` to itself — and it is what invocation logs call the
model, so OTLP and log rows group together. The dropped prefix is kept as the scope
(`geo`/`global`) because cross-region profiles may price differently; pricing can
re-add `global.` when it looks up a global-profile price.
"""

from __future__ import annotations

import re
from typing import Final, Literal

Scope = Literal["in_region", "geo", "global", "application_profile"]

# Cross-region inference-profile prefixes (`in.` appears in genai-prices' match rules).
GEO_PREFIXES: Final = ("us-gov", "us", "eu", "apac", "jp", "au", "ca", "in")
_PREFIX: Final = re.compile(
    r"^(global|" + "|".join(re.escape(p) for p in GEO_PREFIXES) + r")\.(.+)$"
)
_ARN: Final = re.compile(r"^arn:aws[a-z-]*:bedrock:([a-z0-9-]*):(\d*):([a-z-]+)/(.+)$")
_BEDROCK_VERSION: Final = re.compile(r"-v\d+(?::\d+)?$")

# Bedrock model vendors, to restore a vendor that an instrumentation dropped: OpenLLMetry
# 0.62 records `claude-3-5-haiku-20241022-v1:0` for `us.anthropic.claude-...-v1:0`.
BEDROCK_VENDORS: Final = (
    "anthropic", "amazon", "meta", "mistral", "cohere", "ai21", "deepseek", "writer",
    "qwen", "openai", "stability", "twelvelabs", "luma",
)  # fmt: skip
_VENDOR_BY_FAMILY: Final = (
    ("claude-", "anthropic"),
    ("nova-", "amazon"),
    ("titan-", "amazon"),
    ("llama", "meta"),
    ("mistral-", "mistral"),
    ("mixtral-", "mistral"),
    ("pixtral-", "mistral"),
    ("command-", "cohere"),
    ("embed-", "cohere"),
    ("jamba-", "ai21"),
    ("r1-", "deepseek"),
    ("palmyra-", "writer"),
)


def normalize_model_id(model_id: str | None) -> tuple[str | None, Scope, str | None]:
    """(model for pricing, region scope, inference profile id/ARN or None).

    An application-inference-profile ARN names no model, so it cannot be resolved
    without the Bedrock API or config: model None, scope 'application_profile'.
    """
    if not isinstance(model_id, str) or not model_id.strip():
        return None, "in_region", None
    raw = model_id.strip()
    arn = _ARN.match(raw)
    if arn is not None:
        return _from_arn(raw, arn.group(3), arn.group(4))
    prefixed = _PREFIX.match(raw)
    if prefixed is not None:
        return _restore_vendor(prefixed.group(2)), _scope_of(prefixed.group(1)), raw
    return _restore_vendor(raw), "in_region", None


def _from_arn(
    arn: str, resource_type: str, resource_id: str
) -> tuple[str | None, Scope, str | None]:
    if resource_type == "application-inference-profile":
        return None, "application_profile", arn
    if resource_type == "inference-profile":
        prefixed = _PREFIX.match(resource_id)
        if prefixed is None:
            return _restore_vendor(resource_id), "in_region", arn
        return _restore_vendor(prefixed.group(2)), _scope_of(prefixed.group(1)), arn
    if resource_type == "foundation-model":
        return _restore_vendor(resource_id), "in_region", None
    # provisioned-model, custom-model, imported-model: the ARN hides the base model.
    return None, "in_region", None


def _scope_of(prefix: str) -> Scope:
    return "global" if prefix == "global" else "geo"


def _restore_vendor(model: str) -> str:
    """Put back a dropped Bedrock vendor, only for ids carrying Bedrock's `-vN:N`
    version, so Anthropic's own `claude-3-5-haiku-20241022` stays as it is."""
    if "." in model.split(":", 1)[0] or not _BEDROCK_VERSION.search(model):
        return model
    for family, vendor in _VENDOR_BY_FAMILY:
        if model.startswith(family):
            return f"{vendor}.{model}"
    return model


def looks_like_bedrock(model_id: str | None) -> bool:
    """True for ids only Bedrock uses: ARNs, profile prefixes, `vendor.` ids."""
    if not isinstance(model_id, str):
        return False
    raw = model_id.strip()
    if _ARN.match(raw) or _PREFIX.match(raw):
        return True
    vendor = raw.split(".", 1)[0]
    return "." in raw and vendor in BEDROCK_VENDORS
