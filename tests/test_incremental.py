"""Incremental daily runs (load_mode 'append') give the same staging, marts and quality tables as a full rebuild
over the same files (load_mode 'full' with a glob over every daily folder).

Every build uses the session's dbt target (tests/conftest.py ``dbt_target``): a new day's folder or load mode
is an environment variable to dbt, so each build re-parses only the files that read it."""

from __future__ import annotations

import json
import math
from pathlib import Path

import duckdb
import pytest

from journey.generate import GeneratorRates, generate
from journey.project import DbtResult, run_dbt
from tests.conftest import FEEDS

DAYS = 3
# Small rates, but every kind of imperfection shows up (rejects, exact duplicates, key conflicts, orphans).
RATES = GeneratorRates.zero().with_overrides(
    {
        "orphan_signals": 0.005,
        "orphan_interventions": 0.005,
        "orphan_outcomes": 0.005,
        "orphan_signal_refs": 0.005,
        "invalid_transitions": 0.02,
        "missing_outcomes": 0.1,
        "conflicting_signals": 0.05,
        "exact_duplicates": 0.005,
        "duplicate_key_conflicts": 0.005,
        "missing_key": 0.003,
        "missing_field": 0.003,
        "wrong_type": 0.003,
        "out_of_range": 0.003,
        "unknown_value": 0.003,
        "unparseable_date": 0.003,
        "unknown_signal_type": 0.003,
    }
)
# To keep the test fast the first days load staging only (the base models are what accumulates), the last day
# builds everything, and no dbt test runs (other tests do).
NO_TESTS = ["--exclude", "test_type:data", "test_type:unit"]
STAGING_ONLY = ["--select", "path:seeds", "path:models/staging", *NO_TESTS]
LINEAGE = ("loaded_at", "loaded_from")


def dbt(target: Path, db: Path, input_dir: Path, args: list[str], **options: str) -> DbtResult:
    result = run_dbt(["build", *args], db=db, input_dir=input_dir, target_path=target, echo=False, **options)
    assert result.ok, result.output[-4000:]
    return result


def tables(connection: duckdb.DuckDBPyConnection, database: str) -> dict[str, list[str]]:
    """schema.table -> column names, for the staging views and the mart and quality tables."""
    rows = connection.sql(
        f"""
        select table_schema || '.' || table_name, list(column_name order by ordinal_position)
        from information_schema.columns
        where table_catalog = '{database}'
            and (table_schema in ('marts', 'quality') or (table_schema = 'staging' and table_name like 'stg_%'))
        group by all
        """
    ).fetchall()
    return dict(rows)


def rows_of(
    connection: duckdb.DuckDBPyConnection, database: str, table: str, columns: list[str], also: str = "true"
) -> list:
    kept = [column for column in columns if column not in LINEAGE]
    where = f"where {also}"
    if "as_of_date" in columns:
        where += f" and as_of_date = (select max(as_of_date) from {database}.{table})"
    select = ", ".join(f'"{column}"' for column in kept)
    rows = connection.sql(f"select {select} from {database}.{table} {where} order by all").fetchall()
    return [tuple(round(value, 9) if isinstance(value, float) else value for value in row) for row in rows]


def assert_same(left: Path, right: Path) -> None:
    # attached under their file stems: the staging views name their database that way
    lhs, rhs = left.stem, right.stem
    with duckdb.connect() as connection:
        connection.execute(f"attach '{left}' as {lhs} (read_only)")
        connection.execute(f"attach '{right}' as {rhs} (read_only)")
        left_tables, right_tables = tables(connection, lhs), tables(connection, rhs)
        assert left_tables == right_tables
        assert {f"staging.stg_{feed}" for feed in FEEDS} <= set(left_tables)
        for table, columns in sorted(left_tables.items()):
            also = "true"
            if table == "marts.customer_risk_changes":
                # the previous score and the deltas need an earlier run: only the incremental database has one
                columns = ["customer_id", "current_as_of_date", "current_risk_score", "current_risk_band"]
            if table in ("quality.dq_metrics", "quality.dq_metric_anomalies"):
                # a feed's metrics are of the run's delivery (one day's files, or every file), and the baseline
                # is the earlier runs (only the incremental database has them): the marts' values must agree
                columns, also = (
                    ["as_of_date", "metric_key", "metric_value"],
                    "monitored_relation like 'marts.%'",
                )
            left_rows = rows_of(connection, lhs, table, columns, also)
            right_rows = rows_of(connection, rhs, table, columns, also)
            assert len(left_rows) == len(right_rows), table
            for left_row, right_row in zip(left_rows, right_rows, strict=True):
                assert all(
                    math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) if isinstance(a, float) else a == b
                    for a, b in zip(left_row, right_row, strict=True)
                ), (table, left_row, right_row)


def drop_every_nth_record(day: Path, n: int) -> dict[str, int]:
    """Rewrite each feed file of ``day`` without every n-th record (JSON array or NDJSON); how many were dropped."""
    dropped = {}
    for feed in FEEDS:
        path = day / f"{feed}.json"
        text = path.read_text(encoding="utf-8")
        if text.lstrip().startswith("["):
            records = json.loads(text)
            kept = [record for index, record in enumerate(records) if index % n != n - 1]
            path.write_text(json.dumps(kept), encoding="utf-8")
        else:
            records = [line for line in text.splitlines() if line.strip()]
            kept = [line for index, line in enumerate(records) if index % n != n - 1]
            path.write_text("\n".join(kept) + "\n", encoding="utf-8")
        dropped[feed] = len(records) - len(kept)
    return dropped


def base_counts(db: Path) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as connection:
        return {
            feed: connection.sql(f"select count(*) from staging.base_{feed}").fetchone()[0] for feed in FEEDS
        }


@pytest.fixture(scope="module")
def daily(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("daily")
    manifest = generate(folder / "feeds", 2_000, seed=8, days=DAYS, rates=RATES)
    return folder, manifest


def test_append_equals_full_rebuild(daily: tuple[Path, dict], dbt_target: Path) -> None:
    folder, manifest = daily
    feeds = folder / "feeds"
    incremental, full = folder / "appended.duckdb", folder / "rebuilt.duckdb"

    for day in range(DAYS + 1):
        args = NO_TESTS if day == DAYS else STAGING_ONLY
        dbt(dbt_target, incremental, feeds / f"day_{day:03d}", args, load_mode="append")
    after_last_day = base_counts(incremental)
    # a scheduler retrying the same day's folder: the day's rows are replaced, nothing is added
    dbt(dbt_target, incremental, feeds / f"day_{DAYS:03d}", STAGING_ONLY, load_mode="append")
    assert base_counts(incremental) == after_last_day

    # the day is then redelivered with fewer records: keys that only that day held disappear, keys it shared
    # with other days are decided again (base_<feed> works by key group in append mode)
    dropped = drop_every_nth_record(feeds / f"day_{DAYS:03d}", 7)
    assert all(n > 0 for n in dropped.values()), dropped
    dbt(dbt_target, incremental, feeds / f"day_{DAYS:03d}", NO_TESTS, load_mode="append")
    after_redelivery = base_counts(incremental)
    assert after_redelivery == {feed: after_last_day[feed] - dropped[feed] for feed in FEEDS}

    dbt(dbt_target, full, feeds, NO_TESTS, feed_file_pattern="day_*/{feed}.json")
    assert base_counts(full) == after_redelivery
    assert_same(incremental, full)

    with duckdb.connect(str(incremental), read_only=True) as connection:
        # every day's records (less the dropped ones) were loaded once, each one staged, rejected or collapsed
        accounting = connection.sql(
            "select source, input_records, staged_records + rejected_records + collapsed_duplicates "
            "from quality.feed_accounting"
        ).fetchall()
        assert {source: (total, parts) for source, total, parts in accounting} == {
            feed: (manifest["rows"][feed] - dropped[feed],) * 2 for feed in FEEDS
        }
        files = connection.sql("select count(distinct loaded_from) from staging.base_customers").fetchone()[0]
        assert files == DAYS + 1
