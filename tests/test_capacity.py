"""Capacity: quota tokens with the output burndown rate, the daily_peaks named query,
quotas from config and the Service Quotas API, Provisioned Throughput sizing.

Expected values are computed by hand in the comments beside them.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timedelta
from typing import Any

import duckdb
import pytest
import requests
from test_rollups_fixtures import T0, fresh_db, insert_calls

from outcrop.analytics.capacity import (
    BURNDOWN,
    Quota,
    QuotaCache,
    burndown_rate,
    foundation_model,
    match_quotas,
    model_words,
    quota_words,
    resolve_quotas,
    sync_burndown,
)
from outcrop.analytics.provisioned import Traffic, peak_split, size
from outcrop.analytics.queries import QueryError, run_query
from outcrop.analytics.report import GROUP_BY_MODEL_REGION, build_report
from outcrop.analytics.rollups import run_rollups
from outcrop.cli.report import add_report_arguments, run_report_command
from outcrop.core.settings import (
    DEFAULT_OUTPUT_BURNDOWN,
    AwsSettings,
    CapacityQuota,
    CapacitySettings,
    ModelUnits,
    OutputBurndown,
    PriceOverride,
    PricingSettings,
    Settings,
)
from tests.fakes.service_quotas import FakeServiceQuotas

SONNET4 = "anthropic.claude-sonnet-4-20250514-v1:0"  # burndown 5 by default
HAIKU35 = "anthropic.claude-3-5-haiku-20241022-v1:0"  # burndown 1
DAY0 = datetime(2025, 3, 3)  # T0 is 10:00 of this day
NOW = T0 + timedelta(days=2)  # 2025-03-03 and 2025-03-04 are complete days


def _calls() -> list[dict[str, Any]]:
    return [
        # minute T0, Sonnet 4: quota 1000 + 200 + 100 x 5 = 1700, raw 1000 + 3000 + 200 + 100 = 4300
        {"call_id": "s1", "ts": T0, "model": SONNET4, "input_tokens": 1000, "cache_read_tokens": 3000,
         "cache_write_tokens": 200, "output_tokens": 100},
        # same minute: quota 500 + 40 x 5 = 700, raw 540 -> minute: 2 requests, 4840 raw, 2400 quota
        {"call_id": "s2", "ts": T0 + timedelta(seconds=30), "model": SONNET4, "input_tokens": 500,
         "output_tokens": 40},
        # T0 + 1 min, Haiku 3.5: quota 100 + 50 = 150 = raw
        {"call_id": "h1", "ts": T0 + timedelta(minutes=1), "model": HAIKU35, "input_tokens": 100,
         "output_tokens": 50},
        # T0 + 5 min, Sonnet 4: quota 10 + 1000 x 5 = 5010, raw 1010 -> the quota peak is not the raw peak
        {"call_id": "s3", "ts": T0 + timedelta(minutes=5), "model": SONNET4, "input_tokens": 10,
         "output_tokens": 1000},
        # next day, Sonnet 4: quota 1 + 1 x 5 = 6, raw 2
        {"call_id": "s4", "ts": T0 + timedelta(days=1), "model": SONNET4, "input_tokens": 1,
         "output_tokens": 1},
    ]  # fmt: skip


@pytest.fixture()
def con() -> duckdb.DuckDBPyConnection:
    db = fresh_db()
    insert_calls(db, _calls(), T0)
    run_rollups(db, PricingSettings(use_genai_prices=False), NOW)
    return db


def _minutes(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return con.execute("SELECT bucket, model, requests, tokens, quota_tokens FROM rollup_capacity_1m "
                       "ORDER BY bucket, model").fetchall()


def _daily(con: duckdb.DuckDBPyConnection, start: datetime, end: datetime, **params: Any) -> list[dict[str, Any]]:
    table = run_query(con, "daily_peaks", {"from": start, "to": end, "by": ["model"], **params})
    return [{k: v for k, v in row.items() if k not in ("tenant", "region")} for row in table.to_pylist()]


def test_quota_tokens_count_output_at_the_burndown_rate_and_no_cache_reads(con: duckdb.DuckDBPyConnection) -> None:
    assert _minutes(con) == [
        (T0, SONNET4, 2, 4840, 2400),
        (T0 + timedelta(minutes=1), HAIKU35, 1, 150, 150),
        (T0 + timedelta(minutes=5), SONNET4, 1, 1010, 5010),
        (T0 + timedelta(days=1), SONNET4, 1, 2, 6),
    ]


def test_capacity_query_shows_the_quota_peak_beside_the_raw_peak(con: duckdb.DuckDBPyConnection) -> None:
    # whole day 2025-03-03 from rollup_peaks_1d; and a ragged range read from the minutes
    for start, end in ((DAY0, DAY0 + timedelta(days=1)), (T0, T0 + timedelta(minutes=10))):
        rows = run_query(con, "capacity", {"from": start, "to": end, "by": ["model"]}).to_pylist()
        peaks = {r["model"]: (r["peak_rpm"], r["peak_tpm"], r["peak_quota_tpm"]) for r in rows}
        assert peaks == {SONNET4: (2, 4840, 5010), HAIKU35: (1, 150, 150)}
    # grouped by route: the per-key minutes of rollup_counts_1m, same burndown rule
    rows = run_query(con, "capacity", {"from": DAY0, "to": DAY0 + timedelta(days=1), "by": ["route", "model"]})
    assert {r["model"]: r["peak_quota_tpm"] for r in rows.to_pylist()} == {SONNET4: 5010, HAIKU35: 150}


def test_daily_peaks_one_row_per_day_from_day_peaks_and_partial_days(con: duckdb.DuckDBPyConnection) -> None:
    # 2025-03-03 is whole and complete (rollup_peaks_1d); 2025-03-04 ends at 11:00 (minutes)
    rows = _daily(con, DAY0, T0 + timedelta(days=1, hours=1))
    assert rows == [
        {"day": DAY0, "model": HAIKU35, "peak_rpm": 1, "peak_tpm": 150, "peak_quota_tpm": 150},
        {"day": DAY0, "model": SONNET4, "peak_rpm": 2, "peak_tpm": 4840, "peak_quota_tpm": 5010},
        {"day": DAY0 + timedelta(days=1), "model": SONNET4, "peak_rpm": 1, "peak_tpm": 2, "peak_quota_tpm": 6},
    ]
    # the same day read from its minutes only (range starts inside it) gives the same peaks
    assert _daily(con, T0, T0 + timedelta(hours=1)) == rows[:2]
    # a minute outside [from, to) does not count: from T0 + 2 min only s3 is left that day
    assert _daily(con, T0 + timedelta(minutes=2), T0 + timedelta(hours=1)) == [
        {"day": DAY0, "model": SONNET4, "peak_rpm": 1, "peak_tpm": 1010, "peak_quota_tpm": 5010}]


def test_daily_peaks_filter_on_a_key_not_grouped_reads_the_minutes(con: duckdb.DuckDBPyConnection) -> None:
    table = run_query(con, "daily_peaks", {"from": DAY0, "to": DAY0 + timedelta(days=1), "by": [],
                                           "where": {"model": HAIKU35}})
    assert [(r["day"], r["model"], r["peak_rpm"], r["peak_quota_tpm"]) for r in table.to_pylist()] == [
        (DAY0, None, 1, 150)]


def test_daily_peaks_refuses_keys_the_capacity_rollups_do_not_keep(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(QueryError, match="'route'.*only tenant, model, region"):
        run_query(con, "daily_peaks", {"from": DAY0, "to": NOW, "by": ["route"]})
    with pytest.raises(QueryError, match="'workflow'"):
        run_query(con, "daily_peaks", {"from": DAY0, "to": NOW, "where": {"workflow": "support"}})


def test_a_new_burndown_table_rewrites_every_window(con: duckdb.DuckDBPyConnection) -> None:
    # Haiku 3.5 at 2, Sonnet 4 at 1 (no prefix matches it any more)
    burndown = (OutputBurndown(model_prefix="anthropic.claude-3-5-haiku", rate=2.0),)
    outcome = run_rollups(con, PricingSettings(use_genai_prices=False), NOW, burndown=burndown)
    assert outcome.rows_written > 0
    assert [m[4] for m in _minutes(con)] == [
        1000 + 200 + 100 + 500 + 40,  # 1840
        100 + 50 * 2,  # 200
        10 + 1000,
        1 + 1,
    ]
    assert con.execute("SELECT * FROM rollup_burndown").fetchall() == [("anthropic.claude-3-5-haiku", 2.0)]
    # and again with the same table: nothing to redo
    assert run_rollups(con, PricingSettings(use_genai_prices=False), NOW, burndown=burndown).rows_written == 0


def test_first_run_after_the_upgrade_fills_quota_tokens(con: duckdb.DuckDBPyConnection) -> None:
    # as a database rolled up before migration 0007 is left: quota columns NULL, no rates synced
    con.execute("UPDATE rollup_capacity_1m SET quota_tokens = NULL")
    con.execute("UPDATE rollup_peaks_1d SET peak_quota_tpm = NULL")
    con.execute("DELETE FROM watermarks WHERE name = ?", [BURNDOWN])
    run_rollups(con, PricingSettings(use_genai_prices=False), NOW)
    assert [m[4] for m in _minutes(con)] == [2400, 150, 5010, 6]
    assert con.execute("SELECT count(*) FROM rollup_peaks_1d WHERE peak_quota_tpm IS NULL").fetchone() == (0,)


@pytest.mark.parametrize(
    ("model", "rate"),
    [
        (SONNET4, 5.0),
        ("us.anthropic.claude-sonnet-4-20250514-v1:0", 5.0),
        ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", 5.0),
        ("eu.anthropic.claude-opus-4-1-20250805-v1:0", 5.0),
        ("us-gov.anthropic.claude-3-7-sonnet-20250219-v1:0", 1.0),
        ("jp.anthropic.claude-haiku-4-5-20251001-v1:0", 5.0),
        ("apac.anthropic.claude-3-haiku-20240307-v1:0", 1.0),
        (HAIKU35, 1.0),
        ("amazon.nova-pro-v1:0", 1.0),
        ("ca.meta.llama3-1-70b-instruct-v1:0", 1.0),
        ("unknown", 1.0),
    ],
)
def test_burndown_rate_strips_a_geo_prefix_and_takes_the_longest_prefix(model: str, rate: float) -> None:
    assert burndown_rate(model, DEFAULT_OUTPUT_BURNDOWN) == rate


def test_longest_prefix_wins() -> None:
    table = (OutputBurndown(model_prefix="anthropic.claude", rate=2.0),
             OutputBurndown(model_prefix="anthropic.claude-sonnet-4", rate=5.0))
    assert burndown_rate("us.anthropic.claude-sonnet-4-20250514-v1:0", table) == 5.0
    assert burndown_rate("anthropic.claude-3-haiku-20240307-v1:0", table) == 2.0
    assert foundation_model("US.Amazon.Nova-Pro-v1:0") == "amazon.nova-pro-v1:0"
    assert foundation_model("amazon.nova-pro-v1:0") == "amazon.nova-pro-v1:0"


def test_the_rollups_rate_rule_equals_burndown_rate() -> None:
    con = fresh_db()
    models = [SONNET4, HAIKU35, "us.anthropic.claude-opus-4-20250514-v1:0", "global.anthropic.claude-haiku-4-5",
              "anthropic.claude-3-7-sonnet-20250219-v1:0", "amazon.nova-pro-v1:0", "us-gov.meta.llama3-8b",
              "unknown", "Anthropic.Claude-Sonnet-4-x"]
    con.executemany("INSERT INTO rollup_keys VALUES (hash(?), 't', 'r', 'w', ?, 'us-east-1')",
                    [[m, m] for m in models])
    sync_burndown(con, DEFAULT_OUTPUT_BURNDOWN, NOW)
    found = dict(con.execute("SELECT model, rate FROM model_burndown()").fetchall())
    assert found == {m: burndown_rate(m, DEFAULT_OUTPUT_BURNDOWN) for m in models}


# --- quotas -----------------------------------------------------------------------------

ON_DEMAND = "On-demand model inference tokens per minute for "
CROSS = "Cross-region model inference tokens per minute for "
LISTED = [
    (ON_DEMAND + "Anthropic Claude 3.5 Haiku", 400_000.0),
    ("On-demand model inference tokens per day for Anthropic Claude 3.5 Haiku", 1e9),
    ("On-demand model inference requests per minute for Anthropic Claude 3.5 Haiku", 400.0),
    (ON_DEMAND + "Anthropic Claude 3 Haiku", 2_000_000.0),
    (ON_DEMAND + "Anthropic Claude 3.5 Sonnet", 200_000.0),
    (ON_DEMAND + "Anthropic Claude 3.5 Sonnet V2", 300_000.0),
    (CROSS + "Anthropic Claude Sonnet 4 V1", 200_000.0),
    ("Global cross-region model inference tokens per minute for Anthropic Claude Sonnet 4.5 V1", 500_000.0),
    (ON_DEMAND + "Amazon Nova Pro", 1_000_000.0),
    (ON_DEMAND + "Amazon Nova Premier", 100_000.0),
    (ON_DEMAND + "Meta Llama 3.1 70B Instruct", 300_000.0),
    (ON_DEMAND + "Meta Llama 3.1 405B Instruct", 100_000.0),
    (ON_DEMAND + "Mistral AI Mistral Large 2 (24.07)", 300_000.0),
]


@pytest.mark.parametrize(
    ("model", "tpm", "rpm"),
    [
        ("anthropic.claude-3-5-haiku-20241022-v1:0", 400_000, 400),
        ("anthropic.claude-3-haiku-20240307-v1:0", 2_000_000, None),
        ("anthropic.claude-3-5-sonnet-20240620-v1:0", 200_000, None),  # no V<n> in the name: version 1
        ("anthropic.claude-3-5-sonnet-20241022-v2:0", 300_000, None),
        ("us.anthropic.claude-sonnet-4-20250514-v1:0", 200_000, None),  # a geo profile: the cross-region quota
        ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", 500_000, None),
        ("amazon.nova-pro-v1:0", 1_000_000, None),
        ("amazon.nova-premier-v1:0", 100_000, None),
        ("meta.llama3-1-70b-instruct-v1:0", 300_000, None),
        ("us.meta.llama3-1-405b-instruct-v1:0", None, None),  # only the on-demand quota is listed
        ("anthropic.claude-sonnet-4-20250514-v1:0", None, None),  # in-region: no on-demand quota listed
        ("meta.llama3-1-8b-instruct-v1:0", None, None),
        ("mistral.mistral-large-2407-v1:0", None, None),  # "2 (24.07)" is not 2407: unmatched, not guessed
        ("anthropic.claude-3-5-haiku-20241022-v2:0", None, None),
    ],
)
def test_quota_names_match_model_ids_by_words_and_version(model: str, tpm: int | None, rpm: int | None) -> None:
    found = match_quotas(model, LISTED)
    if tpm is None and rpm is None:
        assert found is None
    else:
        assert found is not None and (found.tpm, found.rpm) == (tpm, rpm)
        assert found.source.startswith("service-quotas: ")


def test_word_normalisation() -> None:
    assert quota_words("Anthropic Claude 3.5 Sonnet V2") == (("anthropic", "claude", "3", "5", "sonnet"), 2)
    assert quota_words("Meta Llama 3.1 70B Instruct") == (("meta", "llama", "3", "1", "70", "b", "instruct"), 1)
    assert model_words("anthropic.claude-3-5-haiku-20241022-v1:0") == (
        {("anthropic", "claude", "3", "5", "haiku")}, 1)
    assert model_words("us.meta.llama3-1-70b-instruct-v1:0") == (
        {("meta", "llama", "3", "1", "70", "b", "instruct")}, 1)
    assert model_words("mistral.mistral-large-2402-v1:0") == (
        {("mistral", "mistral", "large", "2402"), ("mistral", "ai", "mistral", "large", "2402")}, 1)


@pytest.fixture()
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


def _settings(endpoint: str, quotas: tuple[CapacityQuota, ...] = (), service_quotas: bool = True) -> Settings:
    return Settings(aws=AwsSettings(region="us-east-1", endpoints={"service-quotas": endpoint}, max_attempts=1),
                    capacity=CapacitySettings(quotas=quotas, service_quotas=service_quotas))


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.usefixtures("aws_credentials")
def test_service_quotas_are_listed_per_region_over_every_page_and_cached() -> None:
    regions = {"us-east-1": LISTED, "eu-west-1": [(ON_DEMAND + "Amazon Nova Pro", 50_000.0)]}
    clock = _Clock()
    cache = QuotaCache(clock)
    pairs = [(HAIKU35, "us-east-1"), ("meta.llama3-1-70b-instruct-v1:0", "us-east-1"),
             ("amazon.nova-pro-v1:0", "eu-west-1"), ("amazon.nova-lite-v1:0", "eu-west-1")]
    with FakeServiceQuotas(regions, page_size=2) as fake:
        found = resolve_quotas(_settings(fake.endpoint_url), pairs, cache=cache)
        # 13 quotas at 2 a page in us-east-1: 7 calls, the last six with the previous NextToken
        east = [body for region, body in fake.requests if region == "us-east-1"]
        assert [b.get("NextToken") for b in east] == [None, "2", "4", "6", "8", "10", "12"]
        assert all(b["ServiceCode"] == "bedrock" for b in east)
        assert len(fake.requests) == 8
        assert found == {
            (HAIKU35, "us-east-1"): Quota(400_000, 400, f"service-quotas: {ON_DEMAND}Anthropic Claude 3.5 Haiku; "
                                                         "On-demand model inference requests per minute for "
                                                         "Anthropic Claude 3.5 Haiku"),
            ("meta.llama3-1-70b-instruct-v1:0", "us-east-1"):
                Quota(300_000, None, f"service-quotas: {ON_DEMAND}Meta Llama 3.1 70B Instruct"),
            ("amazon.nova-pro-v1:0", "eu-west-1"): Quota(50_000, None, f"service-quotas: {ON_DEMAND}Amazon Nova Pro"),
        }  # nova-lite: no quota of that name, so none
        resolve_quotas(_settings(fake.endpoint_url), pairs, cache=cache)
        assert len(fake.requests) == 8  # within the hour: from the cache
        clock.now += 3601
        resolve_quotas(_settings(fake.endpoint_url), pairs, cache=cache)
        assert len(fake.requests) == 16


@pytest.mark.usefixtures("aws_credentials")
def test_config_quota_wins_over_the_api() -> None:
    quotas = (CapacityQuota(model=HAIKU35, region="us-east-1", tpm=123_000),)
    pairs = [(HAIKU35, "us-east-1"), ("amazon.nova-pro-v1:0", "us-east-1")]
    with FakeServiceQuotas({"us-east-1": LISTED}) as fake:
        found = resolve_quotas(_settings(fake.endpoint_url, quotas), pairs, cache=QuotaCache())
    assert found[(HAIKU35, "us-east-1")] == Quota(123_000, None, "config")
    assert found[("amazon.nova-pro-v1:0", "us-east-1")].tpm == 1_000_000
    # config only: the API is not asked at all
    with FakeServiceQuotas({"us-east-1": LISTED}) as fake:
        found = resolve_quotas(_settings(fake.endpoint_url, quotas, service_quotas=False), pairs, cache=QuotaCache())
        assert fake.requests == []
    assert found == {(HAIKU35, "us-east-1"): Quota(123_000, None, "config")}


@pytest.mark.usefixtures("aws_credentials")
def test_an_api_error_is_reported_in_the_source_and_other_regions_still_resolve(
    caplog: pytest.LogCaptureFixture,
) -> None:
    regions = {"us-east-1": LISTED, "eu-west-1": LISTED}
    pairs = [(HAIKU35, "us-east-1"), (HAIKU35, "eu-west-1")]
    with FakeServiceQuotas(regions, failing={"eu-west-1"}) as fake:
        found = resolve_quotas(_settings(fake.endpoint_url), pairs, cache=QuotaCache())
    assert found[(HAIKU35, "us-east-1")].tpm == 400_000
    failed = found[(HAIKU35, "eu-west-1")]
    assert (failed.tpm, failed.rpm) == (None, None)
    assert failed.source.startswith("service-quotas error: ") and "AccessDeniedException" in failed.source
    assert "AccessDeniedException" in caplog.text


# --- Provisioned Throughput sizing and the capacity report ----------------------------

SONNET_PRICE = PriceOverride(model=SONNET4, input_per_mtok=3.0, output_per_mtok=15.0,
                             cache_read_per_mtok=0.3, cache_write_per_mtok=3.75)
SONNET_UNITS = ModelUnits(model=SONNET4, input_tpm_per_unit=300, output_tpm_per_unit=1000,
                          hourly_usd_1_month=40.0, hourly_usd_6_month=30.0)


@pytest.fixture()
def priced() -> duckdb.DuckDBPyConnection:
    db = fresh_db()
    insert_calls(db, _calls(), T0)
    run_rollups(db, PricingSettings(use_genai_prices=False, overrides=(SONNET_PRICE,)), NOW)
    return db


def _report(db: duckdb.DuckDBPyConnection, by: list[str], settings: Settings, notes: list[str]) -> list[dict[str, Any]]:
    table = build_report(lambda name, params: run_query(db, name, params), "capacity", DAY0,
                         DAY0 + timedelta(days=1), by, {}, settings=settings, notes=notes)
    return table.to_pylist()


def test_capacity_report_sizes_provisioned_throughput_by_hand(priced: duckdb.DuckDBPyConnection) -> None:
    settings = Settings(capacity=CapacitySettings(
        quotas=(CapacityQuota(model=SONNET4, region="us-east-1", tpm=10_020),), model_units=(SONNET_UNITS,)))
    notes: list[str] = []
    rows = {r["model"]: r for r in _report(priced, ["model", "region"], settings, notes)}
    assert notes == []
    sonnet = rows[SONNET4]
    assert (sonnet["peak_quota_tpm"], sonnet["quota_tpm"], sonnet["quota_source"]) == (5010, 10_020, "config")
    assert sonnet["quota_share"] == 0.5  # 5010 / 10020
    # Sonnet 4 on 2025-03-03: input 1000 + 500 + 10, cache write 200, output 100 + 40 + 1000.
    # Quota input side 1710; the peak's 5010 quota tokens split 1710 : 5 x 1140 = 1710 : 5700,
    # so input 5010 x 1710 / 7410 = 1156.15 and output 5010 x 1140 / 7410 = 770.77 tokens.
    # Units: max(1156.15 / 300, 770.77 / 1000) = 3.854 x 1.2 = 4.62 -> 5.
    assert sonnet["model_units_needed"] == 5
    assert sonnet["pt_monthly_usd_1_month"] == pytest.approx(5 * 40.0 * 730)  # 146,000
    assert sonnet["pt_monthly_usd_6_month"] == pytest.approx(5 * 30.0 * 730)  # 109,500
    # cost of the day: (1510 x 3 + 3000 x 0.3 + 200 x 3.75 + 1140 x 15) / 1e6 = $0.02328, x 730 h / 24 h
    assert sonnet["on_demand_monthly_usd"] == pytest.approx(0.02328 * 730 / 24)  # 0.7081
    # the day's average minute: 1710 / 1440 = 1.1875 input-side and 1140 / 1440 = 0.79167
    # output tokens, of 5 units' 1500 and 5000: max(7.9167e-4, 1.5833e-4) = 7.9167e-4 used.
    # At full use on demand would cost 0.70810 / 7.9167e-4 = $894.4 a month, against $146,000:
    # break-even 146,000 / 894.4 = 163.2, above 1: the commitment cannot pay at any use
    assert sonnet["breakeven_utilisation"] == pytest.approx(163.23, rel=1e-3)
    assert sonnet["missing"] is None
    haiku = rows[HAIKU35]
    assert [haiku[k] for k in ("quota_tpm", "quota_share", "model_units_needed", "pt_monthly_usd_1_month",
                               "on_demand_monthly_usd", "breakeven_utilisation")] == [None] * 6
    assert haiku["missing"] == (f"a TPM quota for {HAIKU35} in us-east-1 (capacity.quotas or capacity.service_quotas); "
                                f"a price for {HAIKU35} (1 unpriced calls); capacity.model_units for {HAIKU35}")


def test_capacity_report_not_by_model_and_region_leaves_the_columns_null_and_says_why(
    priced: duckdb.DuckDBPyConnection,
) -> None:
    notes: list[str] = []
    rows = _report(priced, ["tenant"], Settings(capacity=CapacitySettings(model_units=(SONNET_UNITS,))), notes)
    assert len(rows) == 1 and rows[0]["model_units_needed"] is None and rows[0]["missing"] is None
    assert notes == [GROUP_BY_MODEL_REGION]


def test_report_command_prints_the_note_on_stderr(priced: duckdb.DuckDBPyConnection, capsys: Any) -> None:
    parser = argparse.ArgumentParser()
    add_report_arguments(parser)
    args = parser.parse_args(["capacity", "--from", "2025-03-03T00:00:00Z", "--to", "2025-03-04T00:00:00Z",
                              "--by", "model,region", "--format", "json"])
    run = lambda name, params: run_query(priced, name, params)  # noqa: E731
    assert run_report_command(args, run, settings=Settings()) == 0
    out = capsys.readouterr()
    assert {r["model"] for r in json.loads(out.out)} == {SONNET4, HAIKU35} and out.err == ""
    args = parser.parse_args(["capacity", "--from", "2025-03-03T00:00:00Z", "--to", "2025-03-04T00:00:00Z"])
    assert run_report_command(args, run, settings=Settings()) == 0
    assert "group by model,region" in capsys.readouterr().err


def test_units_are_exact_at_a_whole_number_of_units() -> None:
    # output only: 2500 quota tokens = 500 output x 5; 500 / 100 per unit = 5 units x 1.2 = 6
    # exactly (6.000000000000001 in floats, which would round up to 7)
    traffic = Traffic(model=SONNET4, peak_quota_tpm=2500, quota_input_tokens=0, output_tokens=100,
                      cost_usd=None, unpriced_requests=0, hours=24.0)
    units = ModelUnits(model=f"us.{SONNET4}", input_tpm_per_unit=1, output_tpm_per_unit=100, hourly_usd_1_month=10.0)
    sized = size(traffic, CapacitySettings(model_units=(units,), headroom=0.2))
    assert sized.model_units_needed == 6
    assert sized.pt_monthly_usd_1_month == 6 * 10.0 * 730
    assert sized.pt_monthly_usd_6_month is None and sized.on_demand_monthly_usd is None
    assert sized.missing == (f"capacity.model_units[].hourly_usd_6_month for {SONNET4}",)
    assert peak_split(traffic, 5.0) == (0, 500)


def test_breakeven_is_the_use_of_the_units_at_which_they_cost_what_on_demand_does() -> None:
    # 1000 quota tokens at the peak, input:output 3:1 at rate 1 -> 750 in, 250 out; units of
    # 1000 in / 100 out: max(0.75, 2.5) = 2.5 x 1.0 = 2.5 -> 3 units x $20 x 730 = $43,800.
    # $600 over 10 days -> $600 x 730 / 240 = $1,825 a month. The average minute (14,400 in
    # 240 h) holds 300 / 14400 input and 100 / 14400 output tokens of 3 units' 3000 and 300:
    # max(6.944e-6, 2.3148e-5) = 2.3148e-5 used. Fully used, the units would serve traffic
    # costing 1825 / 2.3148e-5 = $78.84M on demand; they pay from 43,800 / 78.84M = 0.0556%.
    traffic = Traffic(model="amazon.nova-pro-v1:0", peak_quota_tpm=1000, quota_input_tokens=300, output_tokens=100,
                      cost_usd=600.0, unpriced_requests=0, hours=240.0)
    units = ModelUnits(model="amazon.nova-pro-v1:0", input_tpm_per_unit=1000, output_tpm_per_unit=100,
                       hourly_usd_1_month=20.0, hourly_usd_6_month=15.0)
    sized = size(traffic, CapacitySettings(model_units=(units,), headroom=0.0))
    assert sized.model_units_needed == 3
    assert sized.pt_monthly_usd_1_month == pytest.approx(43_800.0)
    assert sized.on_demand_monthly_usd == pytest.approx(1825.0)
    assert sized.breakeven_utilisation == pytest.approx(43_800 / (1825 / (100 / 14_400 / 300)))
    assert sized.breakeven_utilisation == pytest.approx(0.000556, rel=1e-3)
    assert sized.missing == ()


def test_read_api_serves_the_capacity_report_with_its_columns(server_factory: Any) -> None:
    server = server_factory(
        capacity={"quotas": [{"model": SONNET4, "region": "us-east-1", "tpm": 10_020}],
                  "model_units": [SONNET_UNITS.model_dump(exclude_none=True)]},
        pricing={"use_genai_prices": False, "overrides": [SONNET_PRICE.model_dump(exclude_none=True)]},
    )
    server.store.write(lambda con: insert_calls(con, _calls(), T0))
    requests.post(server.api_url + "/v1/admin/jobs", json={"names": ["rollups"]}, timeout=60).raise_for_status()
    body = {"params": {"from": "2025-03-03T00:00:00Z", "to": "2025-03-04T00:00:00Z", "by": ["model", "region"]}}
    answer = requests.post(server.api_url + "/v1/reports/capacity", json=body, timeout=30)
    assert answer.status_code == 200, answer.text
    sonnet = next(r for r in answer.json() if r["model"] == SONNET4)
    # the figures of test_capacity_report_sizes_provisioned_throughput_by_hand
    assert (sonnet["quota_share"], sonnet["model_units_needed"], sonnet["missing"]) == (0.5, 5, None)
    assert sonnet["pt_monthly_usd_1_month"] == pytest.approx(146_000.0)
    bad = requests.post(server.api_url + "/v1/reports/capacity", json={"params": {**body["params"], "by": "model"}},
                        timeout=30)
    assert bad.status_code == 400 and "'by' must be a list" in bad.json()["message"]
    peaks = requests.post(server.api_url + "/v1/queries/daily_peaks", json=body, timeout=30).json()
    assert [(r["model"], r["peak_quota_tpm"]) for r in peaks] == [(HAIKU35, 150), (SONNET4, 5010)]


def test_a_quiet_peak_still_needs_one_unit() -> None:
    # no quota tokens at the peak (e.g. only cache reads), yet tokens over the range: one
    # unit is the least a commitment can be, and the break-even is still defined
    traffic = Traffic(model="amazon.nova-pro-v1:0", peak_quota_tpm=0, quota_input_tokens=300, output_tokens=100,
                      cost_usd=600.0, unpriced_requests=0, hours=240.0)
    units = ModelUnits(model="amazon.nova-pro-v1:0", input_tpm_per_unit=1000, output_tpm_per_unit=100,
                       hourly_usd_1_month=20.0, hourly_usd_6_month=15.0)
    sized = size(traffic, CapacitySettings(model_units=(units,), headroom=0.0))
    assert sized.model_units_needed == 1
    assert sized.pt_monthly_usd_1_month == pytest.approx(20.0 * 730)
    # average use 100 / 14,400 / 100 = 6.944e-5 of one unit; 14,600 x 6.944e-5 / 1,825
    assert sized.breakeven_utilisation == pytest.approx(14_600 * (100 / 14_400 / 100) / 1825)
