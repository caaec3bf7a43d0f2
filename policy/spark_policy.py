"""The policy step on Spark: read the marts through a Spark session, decide with the same pure functions, write
``policy.interventions`` and ``policy.decision_log`` back through Spark.

    from policy.spark_policy import local_session, run_spark_policy
    outcome = run_spark_policy(local_session())   # or any session whose catalog holds the marts

Same steps as :func:`policy.run.run_policy` (DuckDB), distributed where the work is:

- reference values: the seeded ``reference.ref_*`` tables (small: collected to the driver) ->
  :func:`policy.config.load_config`; the data-quality gate: :func:`policy.dq_gate.check_gate`.
- inputs: :data:`policy.inputs.INPUTS_SQL` with Spark's fragments (:func:`spark_inputs`), one row per
  customer of ``marts.customer_risk_scores``.
- decisions: ``DataFrame.mapInArrow`` runs :func:`policy.decide.prepare_input` and :func:`policy.decide.decide`
  on each Arrow batch on the executors (decide is row-wise: one output row per input row, no cross-row state).
  The decision-log rows (ids, typed inputs, hashes) are rendered per batch by the DuckDB path's own SQL
  (:data:`policy.writeback.LOG_ROWS_SQL`) in an in-memory DuckDB, so ``decision_log_id`` / ``inputs_hash`` /
  ``intervention_id`` are byte-identical to what the DuckDB path writes for the same marts.
- write-back, idempotent like :mod:`policy.writeback`: an intervention whose id is already in
  ``policy.interventions`` is not inserted again (a reviewer's approval survives reruns); a decision-log row
  whose key is already logged is not appended again. Unlike DuckDB, Spark's parquet tables have no
  transaction: the interventions go in first, then the log rows; a failure in between leaves interventions
  without their log rows, and a rerun (same ids, same keys) completes the write without duplicating anything.

Differences from the DuckDB path: ``evaluation_latency_ms`` is the decide time per row of the batch that
decided the customer; ``--export`` and the review commands (``journey review``) are DuckDB-only.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from policy.config import PolicyConfig, canonical_json, load_config
from policy.decide import decide, prepare_input
from policy.dq_gate import DEFAULT_DQ_SUMMARY, GateResult, check_gate
from policy.inputs import REQUIRED_RELATIONS, InputsDialect, MissingMartsError, inputs_sql
from policy.reference import REFERENCE_TABLES, build_reference
from policy.tables import policy_table, policy_tables
from policy.writeback import INTERVENTION_VALUES, LOG_ROWS_SQL, stage_rows

__all__ = ["SparkPolicyOutcome", "local_session", "run_spark_policy", "spark_inputs", "spark_type"]

SCHEMA = "policy"


def spark_inputs(as_of_date: dt.date, policy_version: str) -> InputsDialect:
    """policy.inputs.INPUTS_SQL's fragments in Spark SQL: literals instead of parameters, datediff, array()."""
    as_of = f"date'{as_of_date.isoformat()}'"
    return InputsDialect(
        as_of=as_of,
        version="'" + policy_version.replace("\\", "\\\\").replace("'", "\\'") + "'",
        days_since_generated=f"datediff({as_of}, generated_at)",
        empty_list="cast(array() as array<string>)",
        zero="0.0D",
        order_by="",
    )


# Columns a decide batch returns: the decision-log row, plus what an intervention row needs besides (their types
# are those declared for policy.interventions).
_EXTRA_COLUMNS = ("journey_stage", "evaluation_latency_ms")


def spark_type(data_type: str) -> str:
    """The Spark SQL type of a column type declared in models/staging/_policy__sources.yml (DuckDB's spelling:
    ``T[]`` for a list, ``struct(name type, ...)``); the dbt macro ``column_type`` does the same for dbt."""
    spelled = re.sub(r"(\w+)\[\]", r"array<\1>", data_type.strip())
    spelled = re.sub(r"\bvarchar\b", "string", spelled)
    if spelled.startswith("struct(") and spelled.endswith(")"):
        spelled = "struct<" + re.sub(r"(\w+)\s+([\w<>]+)", r"\1:\2", spelled[7:-1]) + ">"
    return spelled


def _ddl(columns: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{name} {spark_type(type_)}" for name, type_ in columns)


def _columns(table: str) -> tuple[tuple[str, str], ...]:
    return tuple((column.name, column.data_type) for column in policy_table(table).columns)


_BATCH_COLUMNS = _columns("decision_log") + tuple(
    column for column in _columns("interventions") if column[0] in _EXTRA_COLUMNS
)

# An act decision's policy.interventions row from a batch row, in the declared column order (the insert is
# positional): the batch's columns of the same name, the values policy.writeback computes, null review columns.
_INTERVENTION_COLUMNS = policy_table("interventions").select_list(
    INTERVENTION_VALUES,
    {name for name, _ in _BATCH_COLUMNS},
    missing_as_null=True,
    spell=spark_type,
    indent=12,
)


@dataclass
class SparkPolicyOutcome:
    run_id: str
    as_of_date: dt.date
    policy_version: str
    config_hash: str
    gate: GateResult
    customers: int
    decisions: dict[str, int]
    interventions_written: int
    decision_log_written: int
    timings_s: dict[str, float] = field(default_factory=dict)

    @property
    def headline(self) -> str:
        decided = ", ".join(f"{name} {n:,}" for name, n in self.decisions.items() if n) or "nobody"
        return (
            f"policy {self.policy_version} on {self.as_of_date} (spark): {self.customers:,} customers ({decided}); "
            f"wrote {self.interventions_written:,} new interventions and {self.decision_log_written:,} "
            f"decision-log rows; data-quality gate {self.gate.status}"
        )


def _table_exists(spark: Any, schema: str, table: str) -> bool:
    return bool(spark.catalog.tableExists(f"{schema}.{table}"))


def _load_config(spark: Any, config_path: Path | None) -> PolicyConfig:
    tables: dict[str, list[dict[str, Any]]] = {}
    for table in REFERENCE_TABLES:
        if not _table_exists(spark, "reference", table):
            raise MissingMartsError(
                f"reference.{table} is missing from the Spark catalog: run `dbt seed` (or `dbt build`) first"
            )
        tables[table] = [row.asDict() for row in spark.table(f"reference.{table}").collect()]
    reference = build_reference("spark schema reference", *(tables[t] for t in REFERENCE_TABLES))
    return load_config(config_path, reference=reference)


def _marts_as_of_date(spark: Any) -> dt.date:
    missing = [name for name in REQUIRED_RELATIONS if not _table_exists(spark, *name.split("."))]
    if missing:
        raise MissingMartsError(
            f"the Spark catalog has no {', '.join(missing)}: build it first (JOURNEY_TARGET=spark dbt build)"
        )
    dates = [
        row[0] for row in spark.sql("select distinct as_of_date from marts.customer_risk_scores").collect()
    ]
    if not dates:
        raise MissingMartsError("marts.customer_risk_scores is empty: there is nobody to decide about")
    if len(dates) > 1:
        raise MissingMartsError(f"marts.customer_risk_scores mixes as_of_dates: {sorted(dates)}")
    return dates[0]


def _decide_batches(
    config: PolicyConfig,
    *,
    dq_blocked: bool,
    dq_reason: str,
    run_id: str,
    decided_at: dt.datetime,
    dq_gate: str,
    dq_gate_note: str,
):
    """The function mapInArrow runs on each partition: Arrow batches of inputs -> Arrow batches of rows."""
    log_sql = LOG_ROWS_SQL.format(existing_filter="")
    names = [name for name, _ in _BATCH_COLUMNS]

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import duckdb

        with duckdb.connect() as con:
            for batch in batches:
                if batch.num_rows == 0:
                    continue
                inputs = prepare_input(pa.Table.from_batches([batch]))
                started = time.perf_counter()
                decisions = decide(inputs, config, dq_blocked=dq_blocked, dq_reason=dq_reason)
                latency_ms = round(1000 * (time.perf_counter() - started) / max(inputs.num_rows, 1))
                con.register("policy_run_rows", stage_rows(decisions, inputs))
                try:
                    rows = con.execute(
                        f"select log_rows.*, staged.journey_stage, "
                        f"cast($latency_ms as integer) as evaluation_latency_ms "
                        f"from ({log_sql}) as log_rows "
                        f"inner join (select customer_id as staged_customer_id, journey_stage "
                        f"from policy_run_rows) as staged on log_rows.customer_id = staged.staged_customer_id",
                        {
                            "run_id": run_id,
                            "decided_at": decided_at,
                            "dq_gate": dq_gate,
                            "dq_gate_note": dq_gate_note,
                            "latency_ms": latency_ms,
                        },
                    ).to_arrow_table()
                finally:
                    con.unregister("policy_run_rows")
                yield from rows.select(names).to_batches()

    return run


def _ensure_tables(spark: Any) -> None:
    spark.sql(f"create schema if not exists {SCHEMA}")
    for table in policy_tables():
        spark.sql(f"create table if not exists {SCHEMA}.{table} ({_ddl(_columns(table))}) using parquet")


def _record_config(spark: Any, config: PolicyConfig, run_id: str, decided_at: dt.datetime) -> None:
    """policy.configs gets the run's config once per config_hash (as policy.writeback does on DuckDB)."""
    row = (config.config_hash, config.policy_version, canonical_json(config), run_id, decided_at)
    spark.createDataFrame([row], _ddl(_columns("configs"))).createOrReplaceTempView("policy_spark_config")
    spark.sql(
        f"""
        insert into {SCHEMA}.configs
        select * from policy_spark_config as new_config
        where not exists (
            select 1 from {SCHEMA}.configs as known where known.config_hash = new_config.config_hash
        )
        """
    )
    spark.catalog.dropTempView("policy_spark_config")


def local_session(warehouse: str | Path | None = None) -> Any:
    """A local Spark session with the settings of the `spark` output of profiles.yml (warehouse and Derby
    metastore under ``warehouse``, default $JOURNEY_SPARK_WAREHOUSE or /tmp/journey-spark), so the policy reads
    the tables `JOURNEY_TARGET=spark dbt build` wrote. Python workers run this interpreter."""
    import os
    import sys

    from pyspark.sql import SparkSession

    root = str(warehouse or os.environ.get("JOURNEY_SPARK_WAREHOUSE") or "/tmp/journey-spark")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    return (
        SparkSession.builder.enableHiveSupport()
        .config("spark.sql.warehouse.dir", f"{root}/warehouse")
        .config(
            "spark.hadoop.javax.jdo.option.ConnectionURL",
            f"jdbc:derby:;databaseName={root}/metastore_db;create=true",
        )
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={root}")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", os.environ.get("JOURNEY_SPARK_SHUFFLE_PARTITIONS", "4"))
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )


def new_run_id() -> str:
    return "policy-spark-" + dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")


def run_spark_policy(
    spark: Any,
    *,
    as_of: dt.date | None = None,
    dq_summary: Path | None = DEFAULT_DQ_SUMMARY,
    force: bool = False,
    run_id: str | None = None,
    config_path: Path | None = None,
) -> SparkPolicyOutcome:
    """Decide for every customer of the Spark marts and write the decisions back (see the module docstring)."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    run_id = run_id or new_run_id()
    gate = check_gate(dq_summary, force=force)
    config = _load_config(spark, config_path)
    as_of_date = _marts_as_of_date(spark)
    if as_of is not None and as_of != as_of_date:
        raise ValueError(f"--as-of {as_of} but the Spark marts were built for {as_of_date}")
    _ensure_tables(spark)

    sql = inputs_sql(
        spark_inputs(as_of_date, config.policy_version),
        with_policy_history=True,  # _ensure_tables created policy.interventions above
    )
    decided_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    mark = time.perf_counter()
    rows = (
        spark.sql(sql)
        .mapInArrow(
            _decide_batches(
                config,
                dq_blocked=gate.blocks,
                dq_reason=gate.reason,
                run_id=run_id,
                decided_at=decided_at,
                dq_gate=gate.status,
                dq_gate_note=gate.note,
            ),
            _ddl(_BATCH_COLUMNS),
        )
        .localCheckpoint()  # decide once: both writes and the counts read the same rows
    )
    counts = {
        row["decision"]: row["n"]
        for row in rows.groupBy("decision").count().withColumnRenamed("count", "n").collect()
    }
    customers = sum(counts.values())
    timings["decide"] = time.perf_counter() - mark

    mark = time.perf_counter()
    _record_config(spark, config, run_id, decided_at)
    rows.createOrReplaceTempView("policy_spark_run_rows")
    interventions_before = spark.table(f"{SCHEMA}.interventions").count()
    spark.sql(
        f"""
        insert into {SCHEMA}.interventions
        select
            {_INTERVENTION_COLUMNS}
        from policy_spark_run_rows as new_rows
        where decision = 'act'
            and intervention_id is not null
            and not exists (
                select 1 from {SCHEMA}.interventions as existing
                where existing.intervention_id = new_rows.intervention_id
            )
        """
    )
    interventions_written = spark.table(f"{SCHEMA}.interventions").count() - interventions_before
    log_before = spark.table(f"{SCHEMA}.decision_log").count()
    log_columns = ", ".join(policy_table("decision_log").names)
    spark.sql(
        f"""
        insert into {SCHEMA}.decision_log
        select {log_columns}
        from policy_spark_run_rows as new_rows
        where not exists (
            select 1 from {SCHEMA}.decision_log as logged
            where logged.as_of_date = date'{as_of_date.isoformat()}'
                and logged.decision_log_id = new_rows.decision_log_id
        )
        """
    )
    log_written = spark.table(f"{SCHEMA}.decision_log").count() - log_before
    spark.catalog.dropTempView("policy_spark_run_rows")
    timings["write"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - started
    order = ("act", "monitor", "suppressed", "holdout", "skipped_bad_data")
    return SparkPolicyOutcome(
        run_id=run_id,
        as_of_date=as_of_date,
        policy_version=config.policy_version,
        config_hash=config.config_hash,
        gate=gate,
        customers=customers,
        decisions={name: int(counts.get(name, 0)) for name in order},
        interventions_written=interventions_written,
        decision_log_written=log_written,
        timings_s={name: round(seconds, 3) for name, seconds in timings.items()},
    )
