"""What every OTLP receiver shares: authentication, decoding, batching, acknowledgement.

The HTTP and gRPC receivers only translate their protocol to and from `TraceIngest`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from outcrop.collector.decode import Decoded
from outcrop.collector.normalize.attribution import key_plan
from outcrop.collector.normalize.columns import typed_keys
from outcrop.collector.span_batch import SpanWrite, WriteOutcome, build_span_batch
from outcrop.collector.span_columns import SpanColumns, SpanColumnsWrite
from outcrop.core.errors import Unauthorized
from outcrop.core.settings import Settings
from outcrop.core.sql import load_sql
from outcrop.core.store.writer import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Accepted:
    """The answer to one export request (OTLP partial success when rejected > 0)."""

    accepted: int
    rejected: int
    message: str


@dataclass(frozen=True)
class Sender:
    """Who sent an export: the ingest key, by fingerprint (never the key itself), and the
    tenant bound to it. Both None when ingest is open."""

    key_id: str | None = None
    tenant: str | None = None


OPEN_INGEST = Sender()


def key_fingerprint(key: str) -> str:
    """What the store keeps of an ingest key (spans.sender_key): enough to tell keys
    apart, useless to present as a key."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


class TraceIngest:
    def __init__(self, store: Store, settings: Settings, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._settings = settings
        self._clock = clock
        self._keys = {k.key: Sender(key_fingerprint(k.key), k.tenant) for k in settings.ingest.api_keys}
        # the typed columns a native decoder gives the column-wise normaliser
        self.typed_keys = typed_keys(key_plan(settings.attribution))

    def authenticate(self, authorization: str | None, api_key: str | None) -> Sender:
        """Check the ingest key; return who it is: its fingerprint and bound tenant.

        With no keys configured, ingest is open (loopback by default).
        """
        if not self._keys:
            return OPEN_INGEST
        presented = api_key
        if presented is None and authorization and authorization.lower().startswith("bearer "):
            presented = authorization[7:].strip()
        if presented:
            for key, sender in self._keys.items():
                if hmac.compare_digest(key.encode(), presented.encode()):
                    return sender
        raise Unauthorized("missing or invalid ingest API key (Authorization: Bearer … or x-api-key)")

    def submit(self, decoded: Decoded, sender: Sender) -> Future[Accepted]:
        """Normalise and queue for the writer; the future resolves, after COMMIT, to the
        answer: spans refused by the decoder, by normalisation or by the writer are
        counted there (OTLP partial success), never acknowledged as stored."""
        now = self._clock()
        rejected, errors = decoded.rejected, list(decoded.errors)
        if decoded.batch is not None:  # normalised by the writer, with the rest of its commit group
            written = self._store.submit(SpanColumnsWrite(SpanColumns(
                decoded.batch, self._settings.attribution, sender.tenant, now,
                self._settings.ingest.max_tokens_per_call, sender.key_id), now))
        else:
            batch = build_span_batch(
                decoded.records, self._settings.attribution, bound_tenant=sender.tenant, received_at=now,
                max_tokens=self._settings.ingest.max_tokens_per_call, sender_key=sender.key_id,
            )
            rejected, errors = rejected + batch.rejected, errors + batch.errors
            written = self._store.submit(SpanWrite(batch, now))
        answer: Future[Accepted] = Future()

        def settle(done: Future[WriteOutcome]) -> None:
            exc = done.exception()
            if exc is not None:
                answer.set_exception(exc)
                return
            accepted = _accepted(rejected, errors, done.result())
            if accepted.rejected:
                self._record_rejections(accepted, now)
            answer.set_result(accepted)

        written.add_done_callback(settle)
        return answer

    def _record_rejections(self, accepted: Accepted, now: datetime) -> None:
        detail = accepted.message[:1000]
        try:
            self._store.submit(
                lambda con: con.execute(
                    load_sql("ingest/record_otlp_rejections.sql"),
                    [now, accepted.rejected, detail],
                )
            )
        except Exception:  # noqa: BLE001 - counting rejections must never fail the request
            log.warning("could not record %d rejected spans: %s", accepted.rejected, detail)


def export_response(result: Accepted) -> ExportTraceServiceResponse:
    """The OTLP answer both transports send: empty, or partial success with the count and why."""
    response = ExportTraceServiceResponse()
    if result.rejected:
        response.partial_success.rejected_spans = result.rejected
        response.partial_success.error_message = result.message
    return response


def _accepted(rejected: int, errors: list[str], outcome: WriteOutcome) -> Accepted:
    """One answer from the three places a span can be refused: decode, normalise, write
    (the column-wise normaliser runs in the writer, so its refusals are in `outcome`)."""
    rejected += outcome.refused
    errors = [*errors, *outcome.errors][:5]
    return Accepted(outcome.stored, rejected, "; ".join(errors))
