"""What every OTLP receiver shares: authentication, decoding, batching, acknowledgement.

The HTTP and gRPC receivers only translate their protocol to and from `TraceIngest`.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime

from collector.errors import Unauthorized
from collector.ingest import SpanWrite, build_span_batch
from collector.receivers.otlp_decode import Decoded
from collector.settings import Settings
from collector.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Accepted:
    """The answer to one export request (OTLP partial success when rejected > 0)."""

    accepted: int
    rejected: int
    message: str


class TraceIngest:
    def __init__(self, store: Store, settings: Settings, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._settings = settings
        self._clock = clock
        self._keys = {k.key: k.tenant for k in settings.ingest.api_keys}

    def authenticate(self, authorization: str | None, api_key: str | None) -> str | None:
        """Check the ingest key; return the tenant bound to it (None = not bound).

        With no keys configured, ingest is open (loopback by default).
        """
        if not self._keys:
            return None
        presented = api_key
        if presented is None and authorization and authorization.lower().startswith("bearer "):
            presented = authorization[7:].strip()
        if presented:
            for key, tenant in self._keys.items():
                if hmac.compare_digest(key.encode(), presented.encode()):
                    return tenant
        raise Unauthorized("missing or invalid ingest API key (Authorization: Bearer … or x-api-key)")

    def submit(self, decoded: Decoded, bound_tenant: str | None) -> tuple[Future[int], Accepted]:
        """Normalise and queue for the writer; the future resolves after COMMIT."""
        now = self._clock()
        batch = build_span_batch(
            decoded.records, self._settings.attribution, bound_tenant=bound_tenant, received_at=now
        )
        future = self._store.submit(SpanWrite(batch, now))
        if decoded.rejected:
            self._record_rejections(decoded, now)
        return future, Accepted(len(decoded.records), decoded.rejected, decoded.error_message)

    def _record_rejections(self, decoded: Decoded, now: datetime) -> None:
        detail = decoded.error_message[:1000]
        try:
            self._store.submit(
                lambda con: con.execute(
                    "INSERT INTO ingest_rejections VALUES (?, 'otlp', 'invalid_span', ?, ?)",
                    [now, decoded.rejected, detail],
                )
            )
        except Exception:  # noqa: BLE001 - counting rejections must never fail the request
            log.warning("could not record %d rejected spans: %s", decoded.rejected, detail)
