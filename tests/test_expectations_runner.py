"""The Great Expectations runner on real DuckDB files and the real (pinned) Great Expectations.

No mocks: every test builds a small staging schema in a temporary DuckDB file with the contract's
column names, runs the suites, and reads the reports they wrote.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from expectations import cli, ge_compat
from expectations.config import DqConfig, DqConfigError, Severity, load_config
from expectations.reports import terminal_summary
from expectations.results import EXIT_DB_UNREADABLE, EXIT_ERRORS, EXIT_OK
from expectations.runner import DqRun, run_suites
from expectations.suites import (
    KINDS,
    SEGMENTS,
    SUITES,
    SuiteSpec,
    _spec,
    between,
    columns,
    declared_ids,
    in_set,
    not_null,
    rows,
    unique,
)
from tests.faults import corrupt_blocks

STAGING_SQL = """
create schema staging;
create table staging.stg_customers (
    customer_id varchar, segment varchar, account_value double, tenure_months integer, risk_tier varchar
);
insert into staging.stg_customers values
    ('C001', 'smb', 12000, 3, 'high'),
    ('C002', 'mid-market', 42000, 18, 'low'),
    ('C003', 'enterprise', 125000, 36, 'low');
create table staging.stg_journey_state_log (
    customer_id varchar, journey_stage varchar, previous_stage varchar, state_entered_at date,
    days_in_state integer
);
insert into staging.stg_journey_state_log values
    ('C001', 'onboarding', null, date '2025-01-01', 14),
    ('C002', 'engagement', 'onboarding', date '2024-10-12', 90),
    ('C003', 'retention', 'engagement', date '2024-08-01', 160);
create table staging.stg_signals (
    signal_id varchar, customer_id varchar, signal_type varchar, signal_strength double, detected_at date,
    journey_stage varchar, source varchar
);
insert into staging.stg_signals values
    ('S001', 'C001', 'support_ticket_spike', 0.82, date '2025-01-14', 'onboarding', 'automated'),
    ('S002', 'C002', 'usage_drop', 0.6, date '2025-01-12', 'engagement', 'automated'),
    ('S003', 'C003', 'renewal_intent', 0.3, date '2025-01-10', 'retention', 'manual'),
    ('S009', 'C999', 'negative_sentiment', 0.9, date '2025-01-14', 'support', 'automated');
create table staging.stg_interventions (
    intervention_id varchar, customer_id varchar, journey_stage varchar, recommended_action varchar,
    confidence double, requires_human_approval boolean, triggered_by_signals varchar[],
    evaluation_latency_ms integer, generated_at date
);
insert into staging.stg_interventions values
    ('I001', 'C001', 'onboarding', 'proactive_outreach', 0.78, true, ['S001'], 240, date '2025-01-15'),
    ('I002', 'C002', 'engagement', 'usage_review_checkin', 0.6, false, ['S002'], 210, date '2025-01-13'),
    ('I003', 'C003', 'retention', 'renewal_health_check', 0.4, false, ['S003'], 150, date '2025-01-11');
create table staging.stg_outcomes (
    outcome_id varchar, intervention_id varchar, customer_id varchar, outcome varchar,
    resolution_time_days double, csat_delta double, churn_risk_delta double, estimated_revenue_saved double,
    human_override boolean, measured_at date
);
insert into staging.stg_outcomes values
    ('O001', 'I001', 'C001', 'resolved', 3, 1, -0.25, 2000, false, date '2025-01-18'),
    ('O002', 'I002', 'C002', 'partial_improvement', 7, 0, -0.1, 500, false, date '2025-01-20');
create schema quality;
create table quality.orphan_records (
    source varchar, record_key varchar, customer_id varchar, missing_reference varchar, missing_key varchar
);
insert into quality.orphan_records values ('signals', 'S009', 'C999', 'customer_id', 'C999');
create schema intermediate;  -- what the policy counts as earlier interventions and their outcomes (views: a
-- test's changes to staging show through)
create view intermediate.int_interventions__checked as select *, false as is_orphan from staging.stg_interventions;
create view intermediate.int_outcomes__recorded as select distinct intervention_id from staging.stg_outcomes;
"""

# An error the real suites find (date order across tables), warnings that must not fail the run, and one
# defect for each per-table kind of KINDS_SUITE (in the project those rules are dbt's: see docs/rules.md).
CORRUPTIONS = """
insert into staging.stg_customers values ('C002', 'smb', 1000, 1, 'low');          -- duplicate key
update staging.stg_signals set signal_strength = 1.7 where signal_id = 'S002';      -- out of range
update staging.stg_outcomes set measured_at = date '2025-01-10' where outcome_id = 'O002'; -- before I002
update staging.stg_signals set signal_type = 'mystery_type' where signal_id = 'S003'; -- warning
insert into staging.stg_outcomes values
    ('O003', 'I999', 'C003', 'resolved', 1, 0, 0, 0, false, date '2025-01-20');     -- orphan (warning)
insert into quality.orphan_records values ('outcomes', 'O003', 'C003', 'intervention_id', 'I999');
update staging.stg_signals set journey_stage = null where signal_id = 'S001';       -- null
insert into staging.stg_journey_state_log values
    ('C001', 'engagement', 'onboarding', date '2025-01-01', 3);                      -- duplicate compound key
update staging.stg_customers set segment = 'startup' where customer_id = 'C003';    -- unknown value
"""

# The runner must run every kind of expectations/suites.py KINDS, also those the project's own suites no longer
# use on their own tables: one expectation of each, in a suite built here (severities given here too).
KINDS_SUITE = SuiteSpec(
    name="kinds",
    description="One expectation of every kind in KINDS.",
    expectations=(
        columns("k_columns", "staging.stg_customers", "customer_id", "segment", "no_such_column"),
        _spec("k_row_count", "staging.stg_customers", "row_count", min_value=1),
        not_null("k_not_null", "staging.stg_signals", "journey_stage", ("signal_id",)),
        unique("k_unique", "staging.stg_customers", "customer_id"),
        _spec(
            "k_compound_unique",
            "staging.stg_journey_state_log",
            "compound_unique",
            ("customer_id", "state_entered_at"),
            column_list=["customer_id", "state_entered_at"],
        ),
        between("k_between", "staging.stg_signals", "signal_strength", ("signal_id",), 0, 1),
        in_set("k_in_set", "staging.stg_customers", "segment", ("customer_id",), SEGMENTS),
        rows(
            "k_rows",
            "staging.stg_outcomes",
            "select outcome_id, intervention_id from {batch} where intervention_id = 'I999' order by outcome_id",
            key=("outcome_id",),
            label="{outcome_id} → {intervention_id}",
            reads=(),
            description="Outcomes of I999.",
        ),
    ),
)
KINDS_SEVERITIES = {
    "k_columns": Severity.ERROR,
    "k_row_count": Severity.ERROR,
    "k_not_null": Severity.ERROR,
    "k_unique": Severity.ERROR,
    "k_compound_unique": Severity.ERROR,
    "k_between": Severity.ERROR,
    "k_in_set": Severity.WARNING,
    "k_rows": Severity.WARNING,
}


def make_db(path: Path, extra_sql: str = "") -> Path:
    connection = duckdb.connect(str(path))
    try:
        connection.execute(STAGING_SQL + extra_sql)
    finally:
        connection.close()
    return path


def run_cli(db: Path, out: Path, suites: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    argv = ["--db", str(db), "--out", str(out)]
    for suite in suites or ():
        argv += ["--suite", suite]
    return cli.run(parser.parse_args(argv))


def failures_by_id(out: Path) -> dict[str, dict]:
    summary = json.loads((out / "dq_summary.json").read_text(encoding="utf-8"))
    return {failure["expectation_id"]: failure for failure in summary["failures"]}


def junit_cases(out: Path) -> dict[str, ET.Element]:
    root = ET.parse(out / "dq_junit.xml").getroot()
    return {case.get("name", ""): case for case in root.iter("testcase")}


def assert_writable(db: Path) -> None:
    """dbt must be able to open the file for writing right after a run: here, and from another process."""
    connection = duckdb.connect(str(db))
    try:
        connection.execute("create or replace table staging.after_dq as select 1 as x")
    finally:
        connection.close()
    code = f"import duckdb; duckdb.connect({str(db)!r}).execute('drop table staging.after_dq')"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# --- configuration ------------------------------------------------------------------------------


def test_severity_config_covers_exactly_the_declared_expectations() -> None:
    config = load_config()
    config.check_covers(declared_ids())
    assert config.severity_of("orphan_signals") is Severity.WARNING
    assert config.severity_of("feed_accounting_balances") is Severity.ERROR
    assert config.severity_of("signals_type_known") is Severity.WARNING
    assert config.params["contribution_sum_tolerance"] == 1e-9
    assert (
        "outcome_overdue_days" not in config.params
    )  # ref_kpi_parameters' value, in quality.missing_outcomes
    assert set(SUITES) == {
        "inputs",
        "orphans",
        "journey",
        "journey_sla",
        "outcomes",
        "marts",
        "policy",
        "history",
    }


def test_severity_config_rejects_typos(tmp_path: Path) -> None:
    bad = tmp_path / "severity.yml"
    bad.write_text("severities:\n  inputs:\n    customers_id_unique: fatal\n", encoding="utf-8")
    with pytest.raises(DqConfigError, match="use error or warning"):
        load_config(bad)
    bad.write_text("severities:\n  inputs:\n    no_such_expectation: error\n", encoding="utf-8")
    with pytest.raises(DqConfigError, match="no_such_expectation"):
        load_config(bad).check_covers(declared_ids())


# --- the compatibility patch --------------------------------------------------------------------


def test_compat_patch_guard_and_upstream_bug(tmp_path: Path) -> None:
    """Fails loudly when GE is upgraded, when the patch is gone, or when upstream fixed the bug."""
    assert ge_compat.installed_ge_version() == ge_compat.PINNED_GE_VERSION
    with pytest.raises(ge_compat.GeCompatError, match="issues #10738, #11579"):
        ge_compat._check_version("1.25.0")
    ge_compat.apply()
    ge_compat.apply()  # idempotent
    assert ge_compat.is_patched()

    from great_expectations.execution_engine import SqlAlchemyExecutionEngine

    db = make_db(tmp_path / "compat.duckdb")
    engine = SqlAlchemyExecutionEngine(connection_string=f"duckdb:///{db}")
    try:
        query = sa.text("select customer_id from staging.stg_customers order by customer_id")
        unpatched = ge_compat.original_execute_query()(engine, query).fetchall()
        assert unpatched == [], (
            "great_expectations' own execute_query now returns rows on duckdb-engine: the upstream bug "
            "(#10738/#11579) is fixed in this version; remove expectations/ge_compat.py's patch."
        )
        assert [row[0] for row in engine.execute_query(query).fetchall()] == ["C001", "C002", "C003"]
    finally:
        engine.close()


# --- runs ---------------------------------------------------------------------------------------


def test_clean_database_passes_with_orphan_warning_and_releases_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = make_db(tmp_path / "journey.duckdb")
    out = tmp_path / "dq"
    started = time.perf_counter()
    code = run_cli(db, out)
    elapsed = time.perf_counter() - started
    printed = capsys.readouterr().out

    assert code == EXIT_OK, printed
    assert "WARNING orphan_signals: 1 row (S009 → customer C999)" in printed
    assert "suite policy: SKIPPED (tables not built yet: policy.interventions, marts." in printed

    summary = json.loads((out / "dq_summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "warnings"
    assert summary["exit_code"] == 0
    # Not everything passed and not everything failed: exactly the one intended warning.
    assert [(f["expectation_id"], f["offending_keys"]) for f in summary["failures"]] == [
        ("orphan_signals", ["S009"])
    ]
    assert summary["totals"]["passed"] == summary["totals"]["evaluated"] - 1 > 10
    assert summary["totals"]["failed_by_severity"] == {"error": 0, "warning": 1}
    assert summary["totals"]["exceptions"] == 0
    policy = next(s for s in summary["suites"] if s["name"] == "policy")
    assert policy["status"] == "skipped" and "policy.interventions" in policy["note"]
    assert {"ge_import_s", "total_s", "data_docs_s"} <= set(summary["timings_s"])

    cases = junit_cases(out)
    assert len(cases) == len(declared_ids())
    root = ET.parse(out / "dq_junit.xml").getroot()
    assert root.get("failures") == "0" and root.get("errors") == "0"
    orphan = cases["orphan_signals"]
    assert orphan.find("failure") is None
    assert "S009 → customer C999" in (orphan.findtext("system-out") or "")
    assert cases["policy_no_second_open_intervention"].find("skipped") is not None

    index = out / "data_docs" / "index.html"
    assert index.is_file() and "inputs.staging.stg_signals" in index.read_text(encoding="utf-8")
    assert_writable(db)
    print(f"\nclean run incl. GE import (first in process): {elapsed:.2f} s; timings {summary['timings_s']}")


def test_a_run_in_two_phases_runs_each_expectation_once_and_releases_the_file_between(tmp_path: Path) -> None:
    """DqRun as `journey run` uses it: the staging checks first (the rest reported as skipped, "later"), the file
    free for a writer in between, then the rest; the final reports equal a one-phase run's."""
    db = make_db(tmp_path / "journey.duckdb")
    one_phase = {
        o.expectation_id: (o.status, o.unexpected_count) for o in run_suites(db, tmp_path / "one").outcomes
    }

    out = tmp_path / "two"
    dq = DqRun(db, out)
    first = dq.run(lambda spec: spec.table.startswith("staging."), later="waits for the writer", final=False)
    early = {o.expectation_id: o for o in first.outcomes}
    assert {i for i, o in early.items() if o.description != "skipped: waits for the writer"} == {
        spec.id
        for suite in SUITES.values()
        for spec in suite.expectations
        if spec.table.startswith("staging.")
    }
    written = json.loads((out / "dq_summary.json").read_text(encoding="utf-8"))
    assert written["totals"]["skipped"] == sum(1 for o in early.values() if o.status.value == "skipped") > 10
    assert_writable(db)  # released between the phases
    with duckdb.connect(str(db)) as connection:  # a writer changes a table the second phase reads
        connection.execute("insert into quality.orphan_records select * from quality.orphan_records limit 1")

    final = dq.run()
    two_phase = {o.expectation_id: (o.status, o.unexpected_count) for o in final.outcomes}
    assert set(two_phase) == set(one_phase) == set(declared_ids())
    changed = {i for i in one_phase if one_phase[i] != two_phase[i]}
    assert changed <= {"orphan_journey_rows", "orphan_signals", "orphan_interventions", "orphan_outcomes"}
    assert changed  # the second phase read the table as the writer left it
    index = (out / "data_docs" / "index.html").read_text(encoding="utf-8")
    assert "inputs.staging.stg_signals" in index and "orphans.quality.orphan_records" in index  # both phases
    assert_writable(db)


def test_injected_errors_fail_with_the_exact_offending_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = make_db(tmp_path / "journey.duckdb", CORRUPTIONS)
    out = tmp_path / "dq"
    code = run_cli(db, out, suites=["inputs", "orphans", "outcomes"])
    printed = capsys.readouterr().out
    assert code == EXIT_ERRORS, printed

    failures = failures_by_id(out)
    # The duplicate key, the strength out of range, the null and the unknown segment are per-table defects: dbt's
    # tests and staging's rejects find those (docs/rules.md), the suites do not look for them again.
    assert {k: (f["severity"], f["offending_keys"]) for k, f in failures.items()} == {
        "outcomes_measured_after_intervention": ("error", ["O002"]),
        "signals_type_known": ("warning", ["S003"]),
        "orphan_signals": ("warning", ["S009"]),
        "orphan_outcomes": ("warning", ["O003"]),
    }
    assert failures["outcomes_measured_after_intervention"]["unexpected_count"] == 1
    assert failures["signals_type_known"]["unexpected_count"] == 1
    assert failures["outcomes_measured_after_intervention"]["offending_rows"] == [
        "O002 of I002: measured 2025-01-10 before generated 2025-01-13"
    ]
    assert "ERROR   outcomes_measured_after_intervention: 1 row (O002 of I002" in printed
    assert "WARNING orphan_outcomes: 1 row (O003 → intervention I999)" in printed

    cases = junit_cases(out)
    failed_cases = {name for name, case in cases.items() if case.find("failure") is not None}
    assert failed_cases == {"outcomes_measured_after_intervention"}
    assert not any(case.find("error") is not None for case in cases.values())
    assert "O003" in (cases["orphan_outcomes"].findtext("system-out") or "")
    assert_writable(db)


def test_the_runner_runs_every_kind_with_the_exact_offending_keys(tmp_path: Path) -> None:
    """Every kind of KINDS, from a SuiteSpec built here (run_suites takes specs as well as suite names)."""
    assert {spec.kind for spec in KINDS_SUITE.expectations} == set(KINDS)
    base = load_config()
    config = DqConfig(severities={**base.severities, **KINDS_SEVERITIES}, params=base.params)
    db = make_db(tmp_path / "journey.duckdb", CORRUPTIONS)
    out = tmp_path / "dq"
    result = run_suites(db, out, suites=[KINDS_SUITE, "orphans"], config=config)
    assert result.exit_code == EXIT_ERRORS
    assert [suite.name for suite in result.suites] == ["kinds", "orphans"]

    found = {o.expectation_id: (o.severity, o.offending_keys) for o in result.errors + result.warnings}
    assert found == {
        "k_columns": (Severity.ERROR, ["no_such_column"]),  # the missing column
        "k_not_null": (Severity.ERROR, ["S001"]),
        "k_unique": (Severity.ERROR, ["C002"]),
        "k_compound_unique": (Severity.ERROR, ["C001/2025-01-01"]),
        "k_between": (Severity.ERROR, ["S002"]),
        "k_in_set": (Severity.WARNING, ["C003"]),
        "k_rows": (Severity.WARNING, ["O003"]),
        "orphan_signals": (Severity.WARNING, ["S009"]),
        "orphan_outcomes": (Severity.WARNING, ["O003"]),
    }
    outcomes = {o.expectation_id: o for suite in result.suites for o in suite.outcomes}
    assert outcomes["k_row_count"].status.value == "passed"
    assert outcomes["k_unique"].unexpected_count == 2
    assert outcomes["k_between"].unexpected_count == 1
    assert outcomes["k_rows"].offending_labels == ["O003 → I999"]
    printed = terminal_summary(result)
    assert "ERROR   k_unique: 2 rows (C002)" in printed
    assert "WARNING k_in_set: 1 row (C003)" in printed

    summary = json.loads((out / "dq_summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "errors" and summary["exit_code"] == EXIT_ERRORS
    cases = junit_cases(out)
    failed_cases = {name for name, case in cases.items() if case.find("failure") is not None}
    assert failed_cases == {"k_columns", "k_not_null", "k_unique", "k_compound_unique", "k_between"}
    assert not any(case.find("error") is not None for case in cases.values())
    assert_writable(db)


@pytest.mark.parametrize("kind", ["missing", "not_duckdb", "corrupt", "locked"])
def test_unreadable_database_exits_3(tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "journey.duckdb"
    holder: subprocess.Popen[str] | None = None
    if kind == "not_duckdb":
        db.write_bytes(b"this is not a database" * 1000)
    elif kind == "corrupt":
        make_db(db)
        corrupt_blocks(db)
    elif kind == "locked":
        make_db(db)
        script = textwrap.dedent(
            f"""
            import duckdb, sys, time
            connection = duckdb.connect({str(db)!r})
            print("locked", flush=True)
            sys.stdin.read()
            """
        )
        holder = subprocess.Popen(
            [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    try:
        code = run_cli(db, tmp_path / "dq")
    finally:
        if holder is not None:
            holder.communicate(timeout=30)
    err = capsys.readouterr().err
    assert code == EXIT_DB_UNREADABLE, err
    expected = {
        "missing": "no such database file",
        "not_duckdb": "not a DuckDB",
        "corrupt": "is corrupt or not a DuckDB database file",
        "locked": "is locked by another process",
    }[kind]
    assert expected in err
    assert ("locked" in err) == (kind == "locked")  # a checksum's "block" is no lock
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err  # one line, naming the reports too
    assert "dq_summary.json" in err
    summary = json.loads((tmp_path / "dq" / "dq_summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "database_unreadable"
    assert junit_cases(tmp_path / "dq")["database_readable"].find("error") is not None


def test_policy_suite_runs_once_its_table_exists(tmp_path: Path) -> None:
    from expectations.runner import run_suites

    policy_sql = """
    create schema policy;
    create table policy.interventions as
        select * replace ('P001' as intervention_id), 'v1' as policy_version, 'test' as reason,
            'D001' as decision_id
        from staging.stg_interventions where intervention_id = 'I003';  -- C003 already has open I003
    """
    db = make_db(tmp_path / "journey.duckdb", policy_sql)
    result = run_suites(db, tmp_path / "dq", suites=["policy"])
    assert [suite.skipped for suite in result.suites] == [False]
    assert result.exit_code == EXIT_ERRORS
    [error] = result.errors
    assert error.expectation_id == "policy_no_second_open_intervention"
    assert error.offending_labels == ["C003: 2 open (I003, P001)"]
    assert_writable(db)
