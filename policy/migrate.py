"""Create the policy's tables as declared (:mod:`policy.tables`), and bring a database written by an older version
up to that declaration.

:func:`ensure_tables` runs inside the caller's transaction (the policy's write, a review): DuckDB DDL is
transactional, so a failure leaves the database as it was. It

- creates schema ``policy`` and every declared table that is missing;
- adds the declared columns an older table lacks (e.g. the review columns of ``policy.interventions``);
- converts a decision log whose ``inputs`` is JSON text (before issue 18) in place: ``inputs`` becomes the
  declared struct (cast from the JSON), ``inputs_hash`` is recomputed from it (:func:`policy.hashing.inputs_hash_sql`)
  and ``decision_log_id`` from that, so the converted rows have the keys a new run computes and a rerun of a
  converted date adds no rows. The rows keep every other value; their configs are not in ``policy.configs`` (the
  old log kept only config_hash), which ``journey policy explain`` says.
"""

from __future__ import annotations

import duckdb

from policy.decide import DECISION_INPUT_SCHEMA
from policy.hashing import decision_log_id_sql, inputs_hash_sql
from policy.tables import SCHEMA, policy_table, policy_tables

__all__ = ["ensure_tables", "log_needs_conversion"]


def _column_types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    rows = con.execute(
        "select column_name, data_type from information_schema.columns where table_schema = ? and table_name = ?",
        [SCHEMA, table],
    ).fetchall()
    return {name: type_ for name, type_ in rows}


def log_needs_conversion(con: duckdb.DuckDBPyConnection) -> bool:
    """True when ``policy.decision_log`` exists with its inputs as text (the JSON log of before issue 18)."""
    return _column_types(con, "decision_log").get("inputs") == "VARCHAR"


def _convert_log(con: duckdb.DuckDBPyConnection) -> None:
    log = policy_table("decision_log")
    struct = log.column("inputs").data_type
    con.execute(
        f"alter table {log.qualified} alter column inputs set data type {struct} "
        f"using cast(json(inputs) as {struct})"
    )
    con.execute(
        f"update {log.qualified} set inputs_hash = {inputs_hash_sql('inputs', DECISION_INPUT_SCHEMA)}"
    )
    con.execute(f"update {log.qualified} set decision_log_id = {decision_log_id_sql('dq_gate')}")


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create, complete and convert the policy's tables (see the module docstring)."""
    con.execute(f"create schema if not exists {SCHEMA}")
    for table in policy_tables().values():
        con.execute(table.ddl())
        present = _column_types(con, table.name)
        for column in table.columns:
            if column.name not in present:
                con.execute(f"alter table {table.qualified} add column {column.name} {column.data_type}")
    if log_needs_conversion(con):
        _convert_log(con)
