"""The rollup statements run in one declared order (analytics.rollups.RUN_ORDER)."""

from __future__ import annotations

from outcrop.analytics.rollups import DAY_STEPS, HOUR_STEPS, RUN_ORDER
from outcrop.core.sql import sql_path


def test_every_rollup_file_is_in_the_run_order_once() -> None:
    files = sorted(p.stem for p in sql_path("rollups").glob("*.sql"))
    assert sorted(RUN_ORDER) == files
    assert len(set(RUN_ORDER)) == len(RUN_ORDER)


def test_each_table_is_deleted_before_it_is_rewritten_and_minutes_come_first() -> None:
    for table, _ in HOUR_STEPS + DAY_STEPS:
        assert RUN_ORDER.index(f"delete_{table}") + 1 == RUN_ORDER.index(f"insert_{table}")
    grains = [RUN_ORDER.index(f"insert_counts_{grain}") for grain in ("1m", "1h", "1d")]
    assert grains == sorted(grains)
    assert RUN_ORDER.index("upsert_keys") < RUN_ORDER.index("insert_counts_1m")
