"""The native invocation-log decoder (`outcrop_native.InvocationDecoder`), for the readers.

It turns a chunk of JSON lines into one Arrow record batch, one row per line, with the
fields `normalize/bedrock.py` reads (docs/native.md has the columns), handed over through
the Arrow PyCapsule interface without a copy. A row's `status` is `ok`, `blank` (only
whitespace: skipped, as the reference skips it), `too_long`, or `deferred`: a line whose
exact treatment only the reference defines (a parse error, a number where text is read, a
count out of bounds, a body moved to S3). The reader sends deferred lines through the
Python path unchanged, so they end as the same calls or the same ingest_errors rows.

Without the native module, `AVAILABLE` is False and the readers use the Python path only.
"""

from __future__ import annotations

import functools
from typing import Any

import pyarrow as pa

from outcrop.core.settings import AttributionSettings

try:
    import outcrop_native as _native_module
except ImportError:  # not built: cargo was not on PATH when scripts/setup.sh ran
    _native_module = None

_native: Any = _native_module
AVAILABLE = _native is not None and hasattr(_native, "InvocationDecoder")
# The batch names each requestMetadata field's column with this prefix, so no configured
# field can collide with a fixed column.
METADATA_PREFIX = "metadata."


def decoder(keys: AttributionSettings, max_tokens: int, max_line_bytes: int) -> Any:
    """An `InvocationDecoder` for these requestMetadata keys and bounds (one per distinct
    configuration: the keys are part of the decoder)."""
    metadata = tuple((f"{METADATA_PREFIX}{field}", tuple(names))
                     for field, names in keys.request_metadata.items())
    return _decoder(metadata, max_tokens, max_line_bytes)


@functools.lru_cache(maxsize=16)
def _decoder(metadata: tuple[tuple[str, tuple[str, ...]], ...], max_tokens: int,
             max_line_bytes: int) -> Any:
    if _native is None:
        raise RuntimeError("the native decoder is not built: run scripts/setup.sh with cargo on PATH")
    return _native.InvocationDecoder(max_tokens, max_line_bytes,
                                     [(name, list(keys)) for name, keys in metadata])


def decode_lines(native: Any, body: bytes) -> pa.RecordBatch:
    """One row per line of `body` (split after each newline), as above."""
    return pa.record_batch(native.decode_lines(body))


def decode_gzip(native: Any, body: bytes, max_decompressed: int) -> pa.RecordBatch | None:
    """The same for a gzip body, inflated in the crate to at most `max_decompressed`
    bytes; None when it is larger or damaged (the reference's reader then reads it)."""
    outcome = native.decode_gzip(body, max_decompressed)
    return None if outcome.deferred is not None else pa.record_batch(outcome)


def inflate(native: Any, body: bytes, max_decompressed: int) -> bytes | None:
    """A gzip body inflated in the crate (every member), refusing more than
    `max_decompressed` bytes before holding more than about 1.5 times that; None when it
    is larger or damaged (the reference's gzip reader then reads it, wording any damage)."""
    plain: bytes | None = native.inflate(body, max_decompressed)
    return plain
