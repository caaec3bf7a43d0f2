"""The typed decision log (issue 18): tables as declared in models/staging/_policy__sources.yml, inputs a struct,
a stable inputs_hash (reference function and SQL agree), each config stored once, `journey policy explain`, and
the conversion of a log written as JSON text by an older version. Real DuckDB, real dbt (the session's sample)."""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from policy.cli import EXIT_OK, EXIT_USAGE, add_policy_arguments
from policy.cli import run_policy as cli_policy
from policy.config import load_config
from policy.decide import DECISION_INPUT_SCHEMA
from policy.hashing import inputs_hash_of, inputs_hash_sql
from policy.reference import load_reference_csv
from policy.run import PolicyOutcome, PolicyRequest, run_policy
from policy.tables import policy_table, policy_tables
from tests.conftest import copy_db, query

C001 = {
    "customer_id": "C001",
    "as_of_date": dt.date(2025, 1, 20),
    "segment": "enterprise",
    "account_value": 0.1 + 0.2,  # 0.30000000000000004
    "signal_ids": ["S001", "a,b;c"],
    "is_stalled": True,
    "negative_signal_count": 3,
    "negative_pressure": -1e-18,  # noise around zero
    "journey_stage": "onboarding é",
}


def run(db: Path, tmp_path: Path, **kwargs: object) -> PolicyOutcome:
    kwargs.setdefault("dq_summary", tmp_path / "no-dq-summary.json")
    return run_policy(PolicyRequest(db=db, **kwargs))  # type: ignore[arg-type]


@pytest.fixture
def db(tmp_path: Path, sample_db: Path) -> Path:
    return copy_db(sample_db, tmp_path / "work")


def sql_hashes(rows: list[dict]) -> list[str]:
    table = pa.Table.from_pylist(rows, schema=DECISION_INPUT_SCHEMA)
    struct = pa.StructArray.from_arrays(
        [column.combine_chunks() for column in table.columns], names=table.column_names
    )
    with duckdb.connect() as con:
        con.register("rows", pa.table({"inputs": struct}))
        return [
            h
            for (h,) in con.execute(
                f"select {inputs_hash_sql('inputs', DECISION_INPUT_SCHEMA)} from rows"
            ).fetchall()
        ]


def test_reference_and_sql_hash_agree_and_ignore_last_bit_noise() -> None:
    noisy = {**C001, "account_value": 0.3, "negative_pressure": 0.0}  # the same to 9 decimals
    nulls = {"customer_id": None, "signal_ids": []}
    rows = [C001, noisy, nulls, {**C001, "signal_ids": None}, {**C001, "is_stalled": False}]
    reference = [inputs_hash_of(row, DECISION_INPUT_SCHEMA) for row in rows]
    assert sql_hashes(rows) == reference
    assert reference[0] == reference[1]  # last-bit float noise does not change the hash
    assert len(set(reference[1:])) == 4  # null, empty list, false and true are all told apart
    # the canonical text, spelled out for the first fields
    text = "customer_id=4:C001;as_of_date=2025-01-20;segment=10:enterprise;account_value=300000000;"
    assert inputs_hash_of({"customer_id": "C001"}, DECISION_INPUT_SCHEMA) != inputs_hash_of(
        {"customer_id": "C00"}, DECISION_INPUT_SCHEMA
    )
    assert text in _canonical_text(C001)


def _canonical_text(row: dict) -> str:
    from policy.hashing import _value_text

    return ";".join(f"{f.name}={_value_text(row.get(f.name), f.type)}" for f in DECISION_INPUT_SCHEMA)


def test_the_log_is_typed_stable_and_each_config_stored_once(
    db: Path, tmp_path: Path, sample_db: Path
) -> None:
    first = run(db, tmp_path)
    assert first.decision_log_written == 10
    declared = policy_table("decision_log").column("inputs").data_type
    (inputs_type,) = query(
        db,
        "select data_type from information_schema.columns where table_schema = 'policy' "
        "and table_name = 'decision_log' and column_name = 'inputs'",
    )[0]
    with duckdb.connect() as con:
        (expected,) = con.execute(f"select typeof(cast(null as {declared}))").fetchone()
    assert inputs_type == expected and inputs_type.startswith("STRUCT(customer_id VARCHAR, as_of_date DATE")
    rows = query(db, "select inputs, inputs_hash, decision_log_id, customer_id from policy.decision_log")
    for inputs, inputs_hash, _, customer_id in rows:
        assert inputs["customer_id"] == customer_id
        assert (
            inputs_hash_of(inputs, DECISION_INPUT_SCHEMA) == inputs_hash
        )  # the reference agrees with the log
    (c001,) = [inputs for inputs, *_ in rows if inputs["customer_id"] == "C001"]
    assert c001["as_of_date"] == dt.date(2025, 1, 20) and c001["journey_stage"] == "onboarding"
    # a second identical run, on another copy: the same hashes and keys, row for row
    other = copy_db(sample_db, tmp_path / "other")
    run(other, tmp_path)
    keys = "select decision_id, inputs_hash, decision_log_id from policy.decision_log order by all"
    assert query(db, keys) == query(other, keys) and len(query(db, keys)) == 10
    # the config once, its hash the sha256 of the stored text; a rerun adds neither a config nor a log row
    config = load_config(reference=load_reference_csv())
    assert run(db, tmp_path).decision_log_written == 0
    (stored,) = query(db, "select config_hash, policy_version, config from policy.configs")
    assert stored[:2] == (config.config_hash, config.policy_version)
    assert hashlib.sha256(stored[2].encode()).hexdigest() == config.config_hash
    assert json.loads(stored[2])["policy_version"] == config.policy_version
    # every policy table has exactly the declared columns, in the declared order
    for name, table in policy_tables().items():
        columns = query(
            db,
            "select column_name from information_schema.columns where table_schema = 'policy' "
            f"and table_name = '{name}' order by ordinal_position",
        )
        assert [c for (c,) in columns] == list(table.names)


def test_the_staging_views_have_the_declared_types_before_the_policy_ran(sample_db: Path) -> None:
    """source_or_empty casts to the declared types (macro column_type), the struct included."""
    types = dict(
        query(
            sample_db,
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'staging' and table_name = 'stg_policy__decision_log'",
        )
    )
    assert (
        types["inputs"].startswith("STRUCT(customer_id VARCHAR") and types["approval_reasons"] == "VARCHAR[]"
    )
    assert query(sample_db, "select count(*) from staging.stg_policy__configs") == [(0,)]


def explain_cli(db: Path, *argv: str) -> int:
    parser = argparse.ArgumentParser()
    add_policy_arguments(parser)
    return cli_policy(parser.parse_args(["--db", str(db), "explain", *argv]))


def test_explain_shows_inputs_config_version_decision_and_reason(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(db, tmp_path)
    ((decision_id, reason),) = query(
        db, "select decision_id, reason from policy.decision_log where customer_id = 'C006'"
    )
    assert explain_cli(db, decision_id) == EXIT_OK
    text = capsys.readouterr().out
    assert f"decision {decision_id}: customer C006 on 2025-01-20" in text
    assert reason in text and "policy version:  2026.11.2" in text
    assert '"S006"' in text and "negative_pressure" in text and '"holdout":' in text
    assert explain_cli(db, decision_id, "--json") == EXIT_OK
    record = json.loads(capsys.readouterr().out)
    assert record["decision"]["reason"] == reason and record["inputs"]["customer_id"] == "C006"
    assert record["config"]["policy_version"] == record["decision"]["policy_version"] == "2026.11.2"
    assert record["log_rows"] == 1
    # an unknown id: exit 2 and one line, no traceback
    assert explain_cli(db, "Dnope") == EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.err == "error: no decision 'Dnope' in policy.decision_log\n" and captured.out == ""


def make_old_json_log(db: Path) -> None:
    """Rewrite the log as the version before issue 18 wrote it: inputs as JSON text, md5 of that text."""
    with duckdb.connect(str(db)) as con:
        con.execute(
            """
            create table policy.old_log as
            select * replace (
                cast(to_json(inputs) as varchar) as inputs, md5(cast(to_json(inputs) as varchar)) as inputs_hash
            )
            from policy.decision_log
            """
        )
        con.execute(
            "update policy.old_log set decision_log_id = 'L' || md5(concat_ws('|', coalesce(decision_id, ''), "
            "config_hash, inputs_hash, dq_gate, decision, reason))"
        )
        con.execute("drop table policy.decision_log")
        con.execute("drop table policy.configs")
        con.execute("alter table policy.old_log rename to decision_log")


def test_an_old_json_log_is_converted_in_place(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(db, tmp_path)
    typed = "select decision_id, inputs, inputs_hash, decision_log_id, reason from policy.decision_log order by all"
    new_rows = query(db, typed)
    make_old_json_log(db)
    old = query(db, "select inputs, decision_log_id from policy.decision_log order by all")
    assert isinstance(old[0][0], str) and json.loads(old[0][0])["as_of_date"] == "2025-01-20"
    assert {key for _, key in old}.isdisjoint({row[3] for row in new_rows})  # the old keys differ

    def fail(con: duckdb.DuckDBPyConnection) -> None:
        raise RuntimeError("injected")

    with pytest.raises(RuntimeError, match="injected"):  # a failure in the transaction: nothing converted
        run(db, tmp_path, before_log_insert=fail)
    assert query(db, "select inputs, decision_log_id from policy.decision_log order by all") == old

    # explain reads an unconverted log (a read-only connection cannot convert it)
    ((decision_id,),) = query(db, "select decision_id from policy.decision_log where customer_id = 'C001'")
    assert explain_cli(db, decision_id, "--json") == EXIT_OK
    record = json.loads(capsys.readouterr().out)
    assert record["inputs"]["customer_id"] == "C001" and record["config"] is None

    again = run(db, tmp_path)  # converts in its transaction, then finds every decision already logged
    assert again.decision_log_written == 0
    assert query(db, typed) == new_rows  # typed inputs, hashes and keys as a new log has them
    assert query(db, "select count(*) from policy.configs") == [(1,)]
