"""The rollups' watermark follows commit order, and deleted rows leave their window dirty.

Wall-clock stamps cannot be the watermark: a batch stamped earlier may commit after a
rollup ran, and a log-only row replaced by its merged row in another hour leaves no newer
row behind in its old hour.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from otlp_payloads import llm_attrs, sid, span, tid
from otlp_payloads import request as otlp_request

from outcrop.analytics.rollups import run_rollups
from outcrop.collector.decode.otlp import records_from_request
from outcrop.collector.merge import store_bedrock_calls
from outcrop.collector.span_batch import build_span_batch, write_span_batch
from outcrop.core.clock import datetime_to_ns
from outcrop.core.records import LlmCall
from outcrop.core.settings import AttributionSettings, PricingSettings
from outcrop.core.store.writer import Store

HOUR_10 = datetime(2026, 11, 20, 10, 59, 59)
HOUR_11 = datetime(2026, 11, 20, 11, 0, 1)
NOW = datetime(2026, 11, 20, 12, 0)


def _hourly(store: Store) -> dict[datetime, int]:
    rows = store.query("SELECT bucket, sum(requests) AS n FROM rollup_1h GROUP BY bucket").to_pylist()
    return {r["bucket"]: int(r["n"]) for r in rows if r["n"]}


def _rollup(store: Store, now: datetime) -> None:
    store.write(lambda con: run_rollups(con, PricingSettings(), now))


def test_a_batch_stamped_earlier_but_committed_later_is_rolled_up(store: Store) -> None:
    late_stamp, early_stamp = NOW, NOW - timedelta(minutes=5)
    first = LlmCall(call_id="a", source="bedrock_log", ts_ns=datetime_to_ns(HOUR_10), request_id="a")
    second = LlmCall(call_id="b", source="bedrock_log", ts_ns=datetime_to_ns(HOUR_10), request_id="b")
    store.write(lambda con: store_bedrock_calls(con, [first], ["f:1"], late_stamp))
    _rollup(store, NOW)
    store.write(lambda con: store_bedrock_calls(con, [second], ["f:2"], early_stamp))
    _rollup(store, NOW + timedelta(minutes=1))
    assert _hourly(store) == {datetime(2026, 11, 20, 10): 2}


def test_log_row_replaced_by_merged_row_in_another_hour_is_not_counted_twice(store: Store) -> None:
    log_only = LlmCall(call_id="req-x", source="bedrock_log", ts_ns=datetime_to_ns(HOUR_10), request_id="req-x",
                       input_tokens=10, output_tokens=5)
    store.write(lambda con: store_bedrock_calls(con, [log_only], ["f:1"], NOW))
    _rollup(store, NOW)
    assert _hourly(store) == {datetime(2026, 11, 20, 10): 1}
    # the client span of the same request starts 2 s later, in the next hour
    payload = otlp_request(span(tid(1), sid(1), kind=3, attrs=llm_attrs("req-x"), start_ns=datetime_to_ns(HOUR_11)))
    batch = build_span_batch(records_from_request(payload, 4096).records, AttributionSettings(),
                             bound_tenant=None, received_at=NOW)
    store.write(lambda con: write_span_batch(con, batch, NOW))
    _rollup(store, NOW + timedelta(minutes=1))
    assert store.query("SELECT source FROM llm_calls").column(0).to_pylist() == ["merged"]
    assert _hourly(store) == {datetime(2026, 11, 20, 11): 1}
