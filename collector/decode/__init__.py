"""Bytes to records: the one decoding seam HTTP and gRPC share.

Receivers import the decoders from here, never from the module that implements them, so
a second implementation (native decoding straight into Arrow) drops in behind the same
names: `decode_protobuf(body, limits)` and `decode_json(body, limits)` return `Decoded`
(records, plus the spans rejected and why); `SpanLimits` bounds what a span may carry.
The pure-Python decoder in `otlp.py` is the reference.
"""

from outcrop.collector.decode.otlp import Decoded, SpanLimits, decode_json, decode_protobuf

__all__ = ["Decoded", "SpanLimits", "decode_json", "decode_protobuf"]
