"""The same dbt project on Spark (dbt-spark, method session) gives the same tables as on DuckDB.

Builds the bundled sample (and a generated 10k-customer set) on both engines and compares every table of the
schemas marts and quality and every staging.stg_* view row by row, order-independently, numbers with a
floating-point tolerance. Needs the `spark` extra (pip install -e '.[spark]') and Java 17+; run with
`make test-spark` or `pytest -m spark`. Spark runs in this process (dbtRunner): an embedded Derby metastore
cannot be shared between processes, and one JVM is started once for every build of the session.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

pytest.importorskip("pyspark", reason="pyspark is not installed: pip install -e '.[spark]'")
pytest.importorskip("dbt.adapters.spark", reason="dbt-spark is not installed: pip install -e '.[spark]'")

from journey.generate import generate
from journey.project import PROJECT_DIR, dbt_vars, run_dbt
from policy.tables import SCHEMA, policy_tables

pytestmark = pytest.mark.spark

SAMPLE_DIR = PROJECT_DIR / "seeds"
SCHEMAS = ("marts", "quality", "staging")
# Columns whose values depend on when a build ran, not on its inputs.
VOLATILE_COLUMNS = {"loaded_at"}
# each engine's own spelling of a column type (quality.dq_schema_snapshots / dq_schema_changes: varchar[] on
# DuckDB is array<string> on Spark); the columns themselves, their relations and the changes must agree
ENGINE_TYPE_COLUMNS = {"data_type", "previous_data_type"}
# JSON text compared as parsed JSON (numbers with tolerance): a rejected record as each engine re-serializes it,
# the policy's inputs snapshot.
JSON_COLUMNS = {"raw_record", "inputs"}
REL_TOL = 1e-9
ABS_TOL = 1e-9
TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="session", autouse=True)
def _only_when_selected(request: pytest.FixtureRequest) -> None:
    """Spark builds take minutes: they run when asked for (`-m spark`, make test-spark, or
    JOURNEY_SPARK_TESTS=1), not in the default `pytest` run even when pyspark is installed."""
    if "spark" not in (request.config.option.markexpr or "") and os.environ.get("JOURNEY_SPARK_TESTS") != "1":
        pytest.skip(
            "Spark equivalence tests run with `pytest -m spark` (make test-spark) or JOURNEY_SPARK_TESTS=1"
        )


# --------------------------------------------------------------------------------------------------- builds


class SparkBuilder:
    """Runs dbt on the `spark` target in this process; every build shares one warehouse and metastore."""

    def __init__(self, warehouse: Path, work: Path) -> None:
        self.warehouse = warehouse
        self.work = work

    def build(self, name: str, input_dir: Path, args: list[str] | None = None) -> tuple[bool, str]:
        from dbt.cli.main import dbtRunner

        log_path = self.work / name / "logs"
        started = time.perf_counter()
        result = dbtRunner().invoke(
            [
                "build",
                *(args or []),
                "--vars",
                dbt_vars(input_dir, None),
                "--project-dir",
                str(PROJECT_DIR),
                "--profiles-dir",
                str(PROJECT_DIR),
                "--target-path",
                str(self.work / name / "target"),
                "--log-path",
                str(log_path),
                "--quiet",
            ]
        )
        TIMINGS[f"spark build {name}"] = time.perf_counter() - started
        log_file = log_path / "dbt.log"
        log = log_file.read_text(errors="replace") if log_file.exists() else ""
        return bool(result.success), log + (f"\n{result.exception!r}" if result.exception else "")

    def session(self) -> Any:
        from pyspark.sql import SparkSession

        return SparkSession.getActiveSession() or SparkSession.builder.getOrCreate()


@pytest.fixture(scope="session")
def spark_builder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkBuilder]:
    work = tmp_path_factory.mktemp("spark")
    saved = {key: os.environ.get(key) for key in ("JOURNEY_TARGET", "JOURNEY_SPARK_WAREHOUSE")}
    os.environ["JOURNEY_TARGET"] = "spark"
    os.environ["JOURNEY_SPARK_WAREHOUSE"] = str(work / "warehouse")
    # Python workers (mapInArrow in the policy step) must run this interpreter, which has the project installed
    saved["PYSPARK_PYTHON"] = os.environ.get("PYSPARK_PYTHON")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    try:
        yield SparkBuilder(work / "warehouse", work)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        print("\nspark equivalence timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in TIMINGS.items()))


def drop_policy_tables(builder: SparkBuilder) -> None:
    """Later Spark builds in this session read policy.* (source_or_empty): leave none behind."""
    from pyspark import SparkContext

    # dbt-spark starts the session in a worker thread (getActiveSession() is per thread): look for the context;
    # without one no build has run yet, and a session started here would ignore the profile's settings.
    if SparkContext._active_spark_context is not None:
        session = builder.session()
        for table in policy_tables():
            session.sql(f"drop table if exists {SCHEMA}.{table}")


def duckdb_build(name: str, input_dir: Path, work: Path) -> Path:
    db = work / f"{name}.duckdb"
    started = time.perf_counter()
    env_target = os.environ.pop("JOURNEY_TARGET", None)
    try:
        result = run_dbt(["build"], db=db, input_dir=input_dir, target_path=work / "target", echo=False)
    finally:
        if env_target is not None:
            os.environ["JOURNEY_TARGET"] = env_target
    TIMINGS[f"duckdb build {name}"] = time.perf_counter() - started
    assert result.ok, result.output[-4000:]
    return db


# --------------------------------------------------------------------------------------------- comparison


def normalize(value: Any, column: str) -> Any:
    """A value in a form both engines agree on: numbers as float, lists as tuples, JSON text parsed."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return float(value)
    if isinstance(value, list | tuple):
        return tuple(normalize(item, column) for item in value)
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, str) and column in JSON_COLUMNS:
        try:
            return ("json", canonical_json(json.loads(value)))
        except ValueError:
            return value
    return value


def canonical_json(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((key, canonical_json(item)) for key, item in value.items()))
    if isinstance(value, list):
        return tuple(canonical_json(item) for item in value)
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    return float(value)


def sort_key(row: tuple) -> tuple:
    def key(value: Any) -> tuple:
        if value is None:
            return (0, "")
        if isinstance(value, float):
            return (1, f"{round(value, 6):.6f}" if math.isfinite(value) else str(value))
        if isinstance(value, tuple):
            return (2, tuple(key(item) for item in value))
        return (3, str(value))

    return tuple(key(value) for value in row)


def same(left: Any, right: Any) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        if math.isnan(left) or math.isnan(right):
            return math.isnan(left) and math.isnan(right)
        return math.isclose(left, right, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    if isinstance(left, tuple) and isinstance(right, tuple):
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right, strict=True))
    return left == right


def duckdb_tables(db: Path) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as connection:
        rows = connection.sql(
            "select table_schema, table_name from information_schema.tables "
            f"where table_schema in {SCHEMAS} order by 1, 2"
        ).fetchall()
    return [f"{schema}.{name}" for schema, name in rows if schema != "staging" or name.startswith("stg_")]


def duckdb_rows(db: Path, table: str) -> tuple[list[str], list[tuple]]:
    with duckdb.connect(str(db), read_only=True) as connection:
        relation = connection.sql(f"select * from {table}")
        return list(relation.columns), relation.fetchall()


def spark_rows(session: Any, table: str) -> tuple[list[str], list[tuple]]:
    frame = session.table(table)
    return list(frame.columns), [tuple(row) for row in frame.collect()]


def compare_table(
    table: str, duck: tuple[list[str], list[tuple]], spark: tuple[list[str], list[tuple]]
) -> list[str]:
    duck_columns, duck_data = duck
    spark_columns, spark_data = spark
    problems: list[str] = []
    if sorted(duck_columns) != sorted(spark_columns):
        problems.append(
            f"{table}: columns differ: only DuckDB {sorted(set(duck_columns) - set(spark_columns))}, "
            f"only Spark {sorted(set(spark_columns) - set(duck_columns))}"
        )
    skipped = VOLATILE_COLUMNS | ENGINE_TYPE_COLUMNS
    columns = [c for c in duck_columns if c in spark_columns and c not in skipped]

    def project(names: list[str], data: list[tuple]) -> list[tuple]:
        positions = [names.index(c) for c in columns]
        rows = [tuple(normalize(row[p], c) for p, c in zip(positions, columns, strict=True)) for row in data]
        return sorted(rows, key=sort_key)

    left, right = project(duck_columns, duck_data), project(spark_columns, spark_data)
    if len(left) != len(right):
        problems.append(f"{table}: {len(left)} rows on DuckDB, {len(right)} on Spark")
        return problems
    for duck_row, spark_row in zip(left, right, strict=True):
        diffs = [
            f"{column}: duckdb={a!r} spark={b!r}"
            for column, a, b in zip(columns, duck_row, spark_row, strict=True)
            if not same(a, b)
        ]
        if diffs:
            problems.append(
                f"{table}: row {dict(zip(columns, duck_row, strict=True))!r}: " + "; ".join(diffs)
            )
            if len(problems) >= 5:
                break
    return problems


def assert_equivalent(db: Path, builder: SparkBuilder) -> int:
    session = builder.session()
    tables = duckdb_tables(db)
    assert tables, "no tables in the DuckDB build"
    problems: list[str] = []
    for table in tables:
        problems += compare_table(table, duckdb_rows(db, table), spark_rows(session, table))
    assert not problems, f"{len(problems)} differences:\n" + "\n".join(problems[:60])
    return len(tables)


# ------------------------------------------------------------------------------------------------------ tests


@pytest.fixture(scope="module")
def sample_builds(spark_builder: SparkBuilder, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample built on DuckDB (the returned file) and on Spark (the session's warehouse)."""
    db = duckdb_build("sample", SAMPLE_DIR, tmp_path_factory.mktemp("duck_sample"))
    # unit tests are left out: several fixtures are written in DuckDB SQL (docs/spark.md)
    ok, log = spark_builder.build("sample", SAMPLE_DIR, ["--exclude", "test_type:unit"])
    assert ok, log[-6000:]
    return db


def test_sample_builds_the_same_on_spark(sample_builds: Path, spark_builder: SparkBuilder) -> None:
    started = time.perf_counter()
    compared = assert_equivalent(sample_builds, spark_builder)
    TIMINGS["compare sample"] = time.perf_counter() - started
    assert compared >= 20


# inputs_hash hashes the typed inputs with doubles rounded to 9 decimals (policy.hashing), so a pressure that
# differs in its last bit between the engines gives the same hash: inputs_hash and decision_log_id are compared
# for every customer below; the inputs struct (a Row on Spark, a dict on DuckDB) through its hash.
POLICY_VOLATILE = {"run_id", "decided_at", "evaluation_latency_ms", "inputs"}


def test_spark_policy_matches_duckdb(
    sample_builds: Path, spark_builder: SparkBuilder, tmp_path: Path
) -> None:
    from policy.run import PolicyRequest, run_policy
    from policy.spark_policy import run_spark_policy

    no_summary = tmp_path / "no_dq_summary.json"  # the gate is 'missing' on both sides
    duck = run_policy(PolicyRequest(db=sample_builds, dq_summary=no_summary))
    started = time.perf_counter()
    spark = run_spark_policy(spark_builder.session(), dq_summary=no_summary)
    TIMINGS["spark policy sample"] = time.perf_counter() - started
    assert spark.decisions == duck.decisions
    assert spark.interventions_written == duck.interventions_written > 0
    assert spark.decision_log_written == duck.decision_log_written == duck.customers

    session = spark_builder.session()
    problems: list[str] = []
    for table in ("policy.interventions", "policy.decision_log"):
        duck_columns, duck_data = duckdb_rows(sample_builds, table)
        spark_columns, spark_data = spark_rows(session, table)
        keep = [c for c in duck_columns if c not in POLICY_VOLATILE]
        problems += compare_table(
            table,
            (keep, [tuple(row[duck_columns.index(c)] for c in keep) for row in duck_data]),
            (keep, [tuple(row[spark_columns.index(c)] for c in keep) for row in spark_data]),
        )
    assert not problems, "\n".join(problems)

    key_sql = "select customer_id, inputs_hash, decision_log_id from policy.decision_log"
    with duckdb.connect(str(sample_builds), read_only=True) as connection:
        duck_keys = {row[0]: row[1:] for row in connection.sql(key_sql).fetchall()}
    spark_keys = {row[0]: tuple(row[1:]) for row in session.sql(key_sql).collect()}
    assert spark_keys == duck_keys

    try:
        again = run_spark_policy(session, dq_summary=no_summary)
        assert (again.interventions_written, again.decision_log_written) == (0, 0)
    finally:
        drop_policy_tables(spark_builder)


@pytest.mark.slow
def test_generated_10k_customers_build_the_same_on_spark(spark_builder: SparkBuilder, tmp_path: Path) -> None:
    feeds = tmp_path / "feeds"
    generate(feeds, 10_000, 7)
    drop_policy_tables(spark_builder)
    db = duckdb_build("10k", feeds, tmp_path)
    # data tests ran on the sample build; here the tables are what is compared
    ok, log = spark_builder.build("10k", feeds, ["--exclude", "test_type:data", "test_type:unit"])
    assert ok, log[-6000:]
    assert_equivalent(db, spark_builder)


def test_malformed_feed_stops_the_spark_build(
    spark_builder: SparkBuilder, sample_copy: Callable[..., Path]
) -> None:
    for name, text, message in [
        ("truncated", '[{"signal_id": "S1"},\n', "does not end with ']'"),
        ("malformed", '[{"signal_id": "S1"}, {"signal_id": }]', "Malformed JSON"),
        ("bad_ndjson", '{"signal_id": "S1"}\n{"signal_id": \n', "Malformed JSON at line 2"),
    ]:
        folder = sample_copy(name)
        (folder / "signals.json").write_text(text)
        # base_signals reads the feed (the checks run only when a selected node reads one)
        ok, log = spark_builder.build(f"bad_{name}", folder, ["--select", "base_signals", "stg_signals"])
        assert not ok, name
        assert "Feed 'signals'" in log and message in log, (name, log[-3000:])
