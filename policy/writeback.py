"""Write the policy's decisions back to the database: ``policy.interventions`` and ``policy.decision_log``.

Everything is written by ONE DuckDB transaction on one connection (:class:`DecisionWriter`), with one insert
statement per table. The policy decides in batches of customers (memory at 10M customers). A run of one batch
(up to 1M customers by default) computes its rows in those inserts, straight from the batch registered with
DuckDB as an Arrow table (no Python loop per row). With more batches, each batch's rows are first computed into
two temporary tables of the connection (DuckDB spills them to its temp directory past its memory limit), and the
inserts read those. The transaction creates the schema and tables when missing. Any exception before ``COMMIT``
(in a batch, or between the two inserts: the ``before_log_insert`` hook lets tests inject one) leaves both tables
exactly as they were, and the temporary tables vanish with the connection.

Idempotence -- what a rerun writes:

- ``policy.interventions``: one row per ``act`` decision, keyed by ``intervention_id`` (deterministic from
  customer_id, as_of_date and policy_version). A row whose id already exists is never inserted again or
  changed, so a rerun for the same as_of_date and policy version inserts no interventions, and a reviewer's
  approval survives reruns. (A rerun that now decides ``act`` for a customer the first run did not act on adds
  that customer's intervention.)
- ``policy.decision_log``: append-only; never updated or deleted. Each row is keyed by ``decision_log_id`` =
  'L' || md5(decision_id | config_hash | inputs_hash | dq_gate | decision | reason), where ``inputs_hash`` is
  the md5 of the row's typed inputs with doubles rounded to 9 decimals (:mod:`policy.hashing`), so identical
  runs give identical keys. A row whose key is already in the log is not inserted again.
  So a rerun with the same inputs, config and gate adds NO rows; a rerun after the marts changed adds a row
  for exactly the customers whose inputs (or decision) changed; a forced rerun after a blocked one adds rows
  (dq_gate differs). Every evaluated customer therefore has a log row describing the decision it got; its
  ``run_id`` / ``decided_at`` are those of the first run that reached that decision from those inputs.

- ``policy.configs``: the run's config (canonical JSON) once per config_hash, the first time a run decides with it.

The tables' columns and types are those declared in ``models/staging/_policy__sources.yml`` (:mod:`policy.tables`);
``ensure_tables`` (:mod:`policy.migrate`) creates them and converts a log of JSON text written by an older version.
The rows written take their column lists from the same declaration (:meth:`policy.tables.Table.select_list`): each
declared column is the staged column of that name (the decision columns, ``journey_stage``, ``inputs``) unless
its value is computed here (:data:`INTERVENTION_VALUES`, ``_LOG_VALUES``); an intervention's review columns are
null until ``journey review`` sets them.

``approval_status`` of a new intervention is 'pending' when it requires human approval, else 'not_required';
``journey review`` changes it later (with ``reviewed_by``, ``reviewed_at``, ``review_reason``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from policy.config import PolicyConfig, canonical_json
from policy.decide import DECISION_INPUT_SCHEMA, DECISION_OUTPUT_SCHEMA
from policy.hashing import decision_log_id_sql, inputs_hash_sql
from policy.migrate import ensure_tables
from policy.tables import SCHEMA, policy_table

__all__ = [
    "INTERVENTION_VALUES",
    "LOG_ROWS_SQL",
    "DecisionWriter",
    "WriteResult",
    "ensure_tables",
    "preview",
    "stage_rows",
]

_STAGED = "policy_run_rows"


@dataclass(frozen=True)
class WriteResult:
    interventions_inserted: int
    decision_log_inserted: int


def stage_rows(decisions: pa.Table, inputs: pa.Table) -> pa.Table:
    """One Arrow table for the write: the decision columns, the customer's journey_stage, and the inputs as a
    struct column (logged as it is, typed). Both tables are aligned row by row (decide() keeps
    the input order)."""
    if decisions.num_rows != inputs.num_rows:
        raise ValueError(f"{decisions.num_rows} decisions for {inputs.num_rows} input rows")
    distinct = pc.count_distinct(decisions["customer_id"], mode="all").as_py()
    if distinct != decisions.num_rows:
        raise ValueError(
            f"{decisions.num_rows - distinct} duplicate customer_id(s) in the decisions: one row per customer "
            "is required (ids and log keys are per customer)"
        )
    inputs = inputs.combine_chunks()
    typed = pa.StructArray.from_arrays(
        [inputs[name].combine_chunks() for name in inputs.column_names], names=inputs.column_names
    )
    return decisions.append_column("journey_stage", inputs["journey_stage"]).append_column("inputs", typed)


def _empty_staged() -> pa.Table:
    """A run with no customers: nothing to write, but the tables are still created."""
    return stage_rows(DECISION_OUTPUT_SCHEMA.empty_table(), DECISION_INPUT_SCHEMA.empty_table())


# The columns of a batch's staged rows (stage_rows): the decision columns, journey_stage and the typed inputs.
_STAGED_COLUMNS = frozenset(_empty_staged().column_names)

# The values of an act decision's policy.interventions row that are not staged columns of the same name, on every
# engine (policy.spark_policy writes the same rows); the rest of the declared columns are staged, or null until
# journey review sets them.
INTERVENTION_VALUES = {
    "generated_at": "as_of_date",
    "approval_status": "case when requires_human_approval then 'pending' else 'not_required' end",
}

_INTERVENTION_COLUMNS = policy_table("interventions").select_list(
    {
        **INTERVENTION_VALUES,
        "evaluation_latency_ms": "cast($latency_ms as integer)",
        "run_id": "$run_id",
        "decided_at": "cast($decided_at as timestamp)",
    },
    _STAGED_COLUMNS,
    missing_as_null=True,
)

_INTERVENTION_ROWS = f"""
select
    {_INTERVENTION_COLUMNS}
from {_STAGED}
where decision = 'act'
    and intervention_id is not null
"""

# What the write-back records with each decision (policy.decide.RECORDED_BY_THE_WRITE_BACK) besides the staged
# inputs and their hash (computed in LOG_ROWS_SQL's first step).
_LOG_VALUES = {
    "decision_log_id": decision_log_id_sql("$dq_gate"),
    "run_id": "$run_id",
    "decided_at": "cast($decided_at as timestamp)",
    "dq_gate": "$dq_gate",
    "dq_gate_note": "$dq_gate_note",
}

LOG_ROWS_SQL = f"""
with keyed as (
    select
        *,
        {inputs_hash_sql("inputs", DECISION_INPUT_SCHEMA)} as inputs_hash
    from {_STAGED}
),

rows as (
    select
        {policy_table("decision_log").select_list(_LOG_VALUES, _STAGED_COLUMNS | {"inputs_hash"}, indent=8)}
    from keyed
)

select * from rows
{{existing_filter}}
"""
# A log key hashes the inputs, which hold the as_of_date: only the log rows of this run's date can
# match, so the anti-join reads one day of the log, not all of it (the log grows by a row per customer a day).
_NOT_LOGGED = (
    f"where decision_log_id not in (select decision_log_id from {SCHEMA}.decision_log "
    f"where as_of_date in (select distinct as_of_date from {_STAGED}))"
)

# A run that fits in one batch (up to 1M customers by default) computes its rows straight into the policy's
# tables from the batch registered with DuckDB. A bigger run computes each batch's rows into two temporary tables
# of the writing connection (DuckDB spills them to its temp directory past the memory limit; they vanish with the
# connection, so a crash leaves nothing behind), which the transaction then inserts. Either way each table gets
# ONE insert statement: many inserts in a single transaction kept every batch in memory (13 GiB at 10M customers
# with a 6 GB limit), while one insert from a relation streams, and the write stays atomic.
_PENDING = {"interventions": "pending_interventions", "decision_log": "pending_decision_log"}
_LOG_ROWS = LOG_ROWS_SQL.format(existing_filter="")
_STAGE_INTERVENTIONS = f"insert into temp.{_PENDING['interventions']} by name\n{_INTERVENTION_ROWS}"
_STAGE_LOG = f"insert into temp.{_PENDING['decision_log']} by name\n{_LOG_ROWS}"


def _insert_interventions_sql(rows: str) -> str:
    return f"""
insert into {SCHEMA}.interventions by name
select * from {rows}
where intervention_id not in (select intervention_id from {SCHEMA}.interventions where intervention_id is not null)
returning intervention_id
"""


def _insert_log_sql(rows: str, dates_from: str) -> str:
    return f"""
insert into {SCHEMA}.decision_log by name
select * from {rows}
where decision_log_id not in (
    select decision_log_id from {SCHEMA}.decision_log
    where as_of_date in (select distinct as_of_date from {dates_from})
)
"""


_INSERT_CONFIG = f"""
insert into {SCHEMA}.configs by name
select
    $config_hash as config_hash,
    $policy_version as policy_version,
    $config as config,
    $run_id as run_id,
    cast($decided_at as timestamp) as decided_at
where $config_hash not in (select config_hash from {SCHEMA}.configs)
"""

_PREVIEW_COLUMNS = (
    "intervention_id", "customer_id", "journey_stage", "recommended_action", "confidence",
    "requires_human_approval", "reason", "approval_status",
)  # fmt: skip


def _count(cursor: duckdb.DuckDBPyConnection) -> int:
    row = cursor.fetchone()
    return int(row[0]) if row else 0


class DecisionWriter:
    """Writes a run's decisions, given batch by batch, in ONE transaction (see the module docstring).

        with DecisionWriter(con, config=..., run_id=..., decided_at=..., dq_gate=..., dq_gate_note=...) as writer:
            for decisions, inputs in batches:
                writer.add(decisions, inputs, evaluation_latency_ms=0)
        writer.result  # what was inserted, once committed

    Leaving the block without an exception inserts every batch's rows into ``policy.interventions`` and
    ``policy.decision_log`` in one transaction (one batch: straight from it; more: from temporary tables ``add``
    filled). An exception (from a batch, from ``before_log_insert``, from the caller's loop) writes nothing: both
    tables are exactly as they were. ``con`` must be a read-write connection with no open transaction. Customers
    must not repeat across batches (ids and log keys are per customer; the caller's batches are ordered and
    checked).
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        config: PolicyConfig,
        run_id: str,
        decided_at: dt.datetime,
        dq_gate: str,
        dq_gate_note: str,
        before_log_insert: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
        preview_limit: int = 1_000,
    ) -> None:
        self._con = con
        self._params = {"run_id": run_id, "decided_at": decided_at}
        self._log_params = {**self._params, "dq_gate": dq_gate, "dq_gate_note": dq_gate_note}
        self._config_params = {
            **self._params,
            "config_hash": config.config_hash,
            "policy_version": config.policy_version,
            "config": canonical_json(config),
        }
        self._before_log_insert = before_log_insert
        self._preview_limit = preview_limit
        self._held: tuple[pa.Table, int] | None = None  # the first batch, until a second one arrives
        self._spilled = False
        self._result: WriteResult | None = None
        self.new_interventions: list[dict[str, object]] = []

    def __enter__(self) -> DecisionWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        try:
            if exc_type is None:
                self._commit()
        finally:
            self._held = None
            if self._spilled:
                for name in _PENDING.values():
                    self._con.execute(f"drop table if exists temp.{name}")

    def add(self, decisions: pa.Table, inputs: pa.Table, *, evaluation_latency_ms: int) -> None:
        """Take one batch (written when the block ends)."""
        staged = stage_rows(decisions, inputs)
        if self._held is None and not self._spilled:
            self._held = (staged, evaluation_latency_ms)
            return
        if not self._spilled:
            for table, pending in _PENDING.items():
                self._con.execute(f"create or replace temp table {pending} ({policy_table(table).body()})")
            self._spilled = True
            held, self._held = self._held, None
            if held is not None:
                self._stage(*held)
        self._stage(staged, evaluation_latency_ms)

    def _stage(self, staged: pa.Table, latency_ms: int) -> None:
        self._con.register(_STAGED, staged)
        try:
            self._con.execute(_STAGE_INTERVENTIONS, {**self._params, "latency_ms": latency_ms})
            self._con.execute(_STAGE_LOG, self._log_params)
        finally:
            self._con.unregister(_STAGED)

    def _commit(self) -> None:
        con = self._con
        if self._spilled:
            interventions, interventions_params = f"temp.{_PENDING['interventions']}", {}
            log, log_dates, log_params = (
                f"temp.{_PENDING['decision_log']}",
                f"temp.{_PENDING['decision_log']}",
                {},
            )
        else:
            staged, latency_ms = self._held if self._held is not None else (_empty_staged(), 0)
            con.register(_STAGED, staged)
            interventions, interventions_params = (
                f"({_INTERVENTION_ROWS})",
                {**self._params, "latency_ms": latency_ms},
            )
            log, log_dates, log_params = f"({_LOG_ROWS})", _STAGED, self._log_params
        try:
            con.begin()
            try:
                ensure_tables(con)
                con.execute(_INSERT_CONFIG, self._config_params)
                new_ids = (
                    con.execute(_insert_interventions_sql(interventions), interventions_params)
                    .to_arrow_table()["intervention_id"]
                    .combine_chunks()
                )
                if self._before_log_insert is not None:
                    self._before_log_insert(con)
                logged = _count(con.execute(_insert_log_sql(log, log_dates), log_params))
                con.commit()
            except BaseException:
                con.rollback()
                raise
            self._result = WriteResult(interventions_inserted=len(new_ids), decision_log_inserted=logged)
            if self._preview_limit > 0 and len(new_ids):
                self.new_interventions = self._preview_rows(interventions, interventions_params, new_ids)
        finally:
            if not self._spilled:
                con.unregister(_STAGED)

    def _preview_rows(
        self, rows: str, params: dict[str, object], new_ids: pa.Array
    ) -> list[dict[str, object]]:
        """The first ``preview_limit`` new interventions, in customer order (for the terminal)."""
        self._con.register("new_intervention_ids", pa.table({"intervention_id": new_ids}))
        try:
            return (
                self._con.execute(
                    f"select {', '.join(_PREVIEW_COLUMNS)} from {rows} "
                    "where intervention_id in (select intervention_id from new_intervention_ids) "
                    f"order by customer_id limit {int(self._preview_limit)}",
                    params,
                )
                .to_arrow_table()
                .to_pylist()
            )
        finally:
            self._con.unregister("new_intervention_ids")

    @property
    def result(self) -> WriteResult:
        if self._result is None:
            raise RuntimeError("the write was not committed")
        return self._result


def _table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    row = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [SCHEMA, table],
    ).fetchone()
    return bool(row and row[0])


def preview(
    con: duckdb.DuckDBPyConnection,
    decisions: pa.Table,
    inputs: pa.Table,
    *,
    dq_gate: str,
    dq_gate_note: str,
) -> tuple[list[str], int]:
    """What :class:`DecisionWriter` would add, without writing (works on a read-only connection):
    (ids of the new interventions, sorted; number of new decision-log rows)."""
    staged = stage_rows(decisions, inputs)
    con.register(_STAGED, staged)
    try:
        existing = (
            f"and intervention_id not in (select intervention_id from {SCHEMA}.interventions "
            "where intervention_id is not null)"
            if _table_exists(con, "interventions")
            else ""
        )
        ids = con.execute(
            f"select distinct intervention_id from {_STAGED} "
            f"where decision = 'act' and intervention_id is not null {existing} order by 1"
        ).fetchall()
        log_sql = LOG_ROWS_SQL.format(
            existing_filter=_NOT_LOGGED if _table_exists(con, "decision_log") else ""
        )
        params = {"run_id": "preview", "decided_at": dt.datetime(2000, 1, 1), "dq_gate": dq_gate,
                  "dq_gate_note": dq_gate_note}  # fmt: skip
        logged = _count(con.execute(f"select count(*) from ({log_sql})", params))
    finally:
        con.unregister(_STAGED)
    return [row[0] for row in ids], logged
