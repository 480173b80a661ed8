"""Bytes to records: the one decoding seam HTTP and gRPC share.

Receivers import the decoders from here, never from the module that implements them:
`decode_protobuf(body, max_value_bytes, limits, typed)` and `decode_json(...)` return
`Decoded` (the spans, plus the spans rejected and why); `SpanLimits` bounds what a span
may carry. Two implementations stand behind the names:

- native (`native.py`, the Rust module built from native/): the spans arrive as one
  Arrow batch (`Decoded.batch`) with a typed column for each key of `typed`, which the
  ingest path normalises column-wise (`collector/span_columns.py`);
- python (`otlp.py`): the reference, and the fallback when the module is not built; the
  spans arrive as `SpanRecord`s (`Decoded.records`).

The environment variable OUTCROP_DECODER picks one: `auto` (the default: native when
built), `native` (fail at start when it is not built) or `python`.
"""

from __future__ import annotations

import functools
import os

from outcrop.collector.decode import native, otlp
from outcrop.collector.decode.otlp import DEFAULT_LIMITS, Decoded, SpanLimits
from outcrop.core.settings import ConfigError

__all__ = ["active", "Decoded", "SpanLimits", "decode_json", "decode_protobuf", "decoder_name"]

Typed = tuple[tuple[str, str], ...]


@functools.cache
def active() -> str:
    """'native' or 'python': the decoder this process runs (OUTCROP_DECODER, read once)."""
    wanted = os.environ.get("OUTCROP_DECODER", "auto").strip().lower() or "auto"
    if wanted not in ("auto", "native", "python"):
        raise ConfigError(f"OUTCROP_DECODER: {wanted!r} is not a decoder; use auto, native or python")
    if wanted == "native" and not native.AVAILABLE:
        raise ConfigError("OUTCROP_DECODER: native asked for, but the native module is not built "
                                 "(run scripts/setup.sh with cargo on PATH)")
    return "native" if wanted != "python" and native.AVAILABLE else "python"


def decoder_name() -> str:
    """What `outcrop serve` logs: 'native (outcrop_native <version>)' or 'python (…)'."""
    if active() == "native":
        return native.decoder_name()
    why = "OUTCROP_DECODER=python" if native.AVAILABLE else "the native module is not built"
    return f"python (reference decoder; {why})"


def decode_protobuf(body: bytes, max_value_bytes: int, limits: SpanLimits = DEFAULT_LIMITS,
                    typed: Typed = ()) -> Decoded:
    if active() == "native":
        return native.decode_protobuf_batch(body, max_value_bytes, limits, typed)
    return otlp.decode_protobuf(body, max_value_bytes, limits)


def decode_json(body: bytes, max_value_bytes: int, limits: SpanLimits = DEFAULT_LIMITS,
                typed: Typed = ()) -> Decoded:
    if active() == "native":
        return native.decode_json_batch(body, max_value_bytes, limits, typed)
    return otlp.decode_json(body, max_value_bytes, limits)
