"""The data-quality suites on the real sample build, and on copies of it corrupted in each error class.

One dbt build of the sample (the session's ``sample_db``); every run of the suites is in-process
(``run_suites`` / ``cli.run``), so Great Expectations is imported once. A corrupted database is a
copy of the sample file, changed with DuckDB. The copy keeps the file name: dbt-duckdb's views name
their catalog (the file's stem), so a renamed copy would break every staging view.
"""

from __future__ import annotations

import argparse
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import duckdb
import pytest
import yaml

from expectations import cli
from expectations.config import DEFAULT_POLICY_PATH, POLICY_PARAMS, load_config
from expectations.results import EXIT_ERRORS, EXIT_OK, Status
from expectations.runner import run_suites
from expectations.suites import declared_ids
from journey.project import run_dbt
from tests.conftest import SAMPLE_DIR, copy_db

# The warning-level findings the seed marks as intended imperfections, with their labels.
SAMPLE_WARNINGS = {
    "orphan_signals": ["S009 → customer C999"],
    "invalid_transitions": ["C009: support → engagement on 2025-01-09"],
    "missing_outcomes": ["I005 (customer C006, 4 of 14 days)", "I008 (customer C004, 4 of 14 days)"],
}
# Informational (own suite, never a data-quality warning): the design's stalled customers.
SAMPLE_STALLED = ["C001", "C004", "C006", "C007"]


def run_cli(db: Path, out: Path, suites: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    argv = ["--db", str(db), "--out", str(out)]
    for suite in suites or ():
        argv += ["--suite", suite]
    return cli.run(parser.parse_args(argv))


def summary_of(out: Path) -> dict:
    return json.loads((out / "dq_summary.json").read_text(encoding="utf-8"))


def junit_cases(out: Path) -> dict[str, ET.Element]:
    root = ET.parse(out / "dq_junit.xml").getroot()
    return {case.get("name", ""): case for case in root.iter("testcase")}


def corrupted_copy(sample_db: Path, folder: Path, sql: str) -> Path:
    db = copy_db(sample_db, folder)  # same name: the views are bound to the catalog of that name
    with duckdb.connect(str(db)) as connection:
        connection.execute(sql)
    return db


def test_sample_warns_exactly_about_the_intended_imperfections(
    sample_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "dq"
    code = run_cli(sample_db, out)
    printed = capsys.readouterr().out
    assert code == EXIT_OK, printed

    summary = summary_of(out)
    assert summary["status"] == "warnings"
    warnings = {
        f["expectation_id"]: f["offending_rows"]
        for f in summary["failures"]
        if f["severity"] == "warning" and not f["informational"]
    }
    assert warnings == SAMPLE_WARNINGS
    informational = [f for f in summary["failures"] if f["informational"]]
    assert [(f["expectation_id"], f["offending_keys"]) for f in informational] == [
        ("stalled_customers", SAMPLE_STALLED)
    ]
    totals = summary["totals"]
    assert (totals["errors"], totals["warnings"], totals["informational"], totals["exceptions"]) == (
        0,
        3,
        1,
        0,
    )
    # Everything but the policy suite ran (it waits for policy.interventions), and ran for real.
    ran = {s["name"]: s for s in summary["suites"]}
    assert ran["policy"]["status"] == "skipped" and ran["policy"]["note"] == (
        "table not built yet: policy.interventions"
    )
    assert all(s["status"] == "ran" and s["skipped"] == 0 for name, s in ran.items() if name != "policy")
    assert totals["passed"] == totals["evaluated"] - 4 > 15

    # The terminal names the findings, and sets the informational one apart.
    assert "WARNING orphan_signals: 1 row (S009 → customer C999)" in printed
    assert "WARNING invalid_transitions: 1 row (C009: support → engagement on 2025-01-09)" in printed
    assert "WARNING missing_outcomes: 2 rows (I005 (customer C006, 4 of 14 days), I008 " in printed
    notes_at = printed.index("Informational (operational flags, not data defects")
    assert printed.index("INFO    stalled_customers: 4 rows (C001: 14 days in onboarding > SLA 10") > notes_at
    assert "0 errors, 3 warnings, 1 informational" in printed

    cases = junit_cases(out)
    assert set(cases) == set(declared_ids())
    assert not [name for name, case in cases.items() if case.find("failure") is not None]
    assert not [name for name, case in cases.items() if case.find("error") is not None]
    assert "S009 → customer C999" in (cases["orphan_signals"].findtext("system-out") or "")
    assert "C007" in (cases["stalled_customers"].findtext("system-out") or "")
    print(
        f"\nsample suites: {[(s['name'], s['seconds']) for s in summary['suites']]}; {summary['timings_s']}"
    )


CORRUPTIONS = {
    "lost_staged_row": (
        "delete from staging.base_customers where customer_id = 'C005'",  # stg_customers is a view on it
        ["inputs"],
        {"feed_accounting_balances": ["customers"]},
        "customers: 10 input ≠ 9 staged + 0 rejected + 0 collapsed",
    ),
    "outcome_before_intervention": (
        "update staging.base_outcomes set measured_at = date '2025-01-10' where outcome_id = 'O001'",
        ["outcomes"],
        {"outcomes_measured_after_intervention": ["O001"]},
        "O001 of I001: measured 2025-01-10 before generated 2025-01-15",
    ),
    "score_not_its_contributions": (
        # the score stays in [0, 1] (a leaving score is refused by the table's check constraint) but no longer
        # equals the sum of its contributions (the business rule the marts suite keeps)
        "update marts.customer_risk_scores set risk_score = 0 where customer_id = 'C001'",
        ["marts"],
        {"customer_risk_scores_contributions_sum_to_score": ["C001"]},
        "ERROR   customer_risk_scores_contributions_sum_to_score: 1 row (C001",
    ),
    "overdue_outcomes_past_the_share": (
        # I005 and I008 overdue, and four more overdue copies: 6 of the 8 interventions, past the 0.5 share
        "update quality.missing_outcomes set age_days = 20, is_overdue = true;"
        " insert into quality.missing_outcomes select * replace (intervention_id || '-a' as intervention_id)"
        " from quality.missing_outcomes;"
        " insert into quality.missing_outcomes select * replace (intervention_id || '-b' as intervention_id)"
        " from quality.missing_outcomes where intervention_id not like '%-a'",
        ["outcomes"],
        {"overdue_outcomes_share": ["0.75"]},
        "6 of 8 interventions overdue (share 0.75)",
    ),
}


def test_an_overdue_outcome_is_a_warning_to_follow_up(
    sample_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Real customer bases always have some overdue loops: listed, not a reason to stop publishing."""
    db = corrupted_copy(
        sample_db,
        tmp_path / "db",
        "update quality.missing_outcomes set age_days = 20, is_overdue = true where intervention_id = 'I005'",
    )
    code = run_cli(db, tmp_path / "dq", ["outcomes"])
    printed = capsys.readouterr().out
    assert code == EXIT_OK, printed
    assert "WARNING overdue_outcomes: 1 row (I005 (customer C006, 20 days > 14))" in printed
    warnings = {f["expectation_id"]: f["offending_keys"] for f in summary_of(tmp_path / "dq")["failures"]}
    assert warnings == {"overdue_outcomes": ["I005"], "missing_outcomes": ["I008"]}


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_each_error_class_fails_the_run_and_names_the_finding(
    case: str, sample_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sql, suites, expected, line = CORRUPTIONS[case]
    db = corrupted_copy(sample_db, tmp_path / "db", sql)
    out = tmp_path / "dq"
    code = run_cli(db, out, suites)
    printed = capsys.readouterr().out
    assert code == EXIT_ERRORS, printed
    assert line in printed

    summary = summary_of(out)
    assert summary["status"] == "errors" and summary["exit_code"] == EXIT_ERRORS
    errors = {
        f["expectation_id"]: f["offending_keys"] for f in summary["failures"] if f["severity"] == "error"
    }
    assert errors == expected
    assert all(f["status"] == "failed" for f in summary["failures"])  # found, not crashed

    cases = junit_cases(out)
    failed = {name: case.find("failure") for name, case in cases.items() if case.find("failure") is not None}
    assert set(failed) == set(expected)
    assert any(line.split(": ", 1)[-1] in (element.text or "") for element in failed.values())


# Per-table defects of a mart: its dbt data tests find them (their one home, docs/rules.md), the suites do not.
# (A score out of range is a check constraint of the table now: DuckDB refuses the row, tests/test_constraints.py.)
MART_DEFECTS = {
    "duplicate_mart_key": (
        "insert into marts.customer_risk_scores select * from marts.customer_risk_scores"
        " where customer_id = 'C003'",
        {"unique_customer_risk_scores_customer_id"},
    ),
}


@pytest.mark.parametrize("case", list(MART_DEFECTS))
def test_per_table_defects_fail_the_marts_dbt_tests(
    case: str, sample_db: Path, tmp_path: Path, dbt_target: Path
) -> None:
    sql, failing = MART_DEFECTS[case]
    db = corrupted_copy(sample_db, tmp_path / "db", sql)
    result = run_dbt(
        ["test", "-s", "customer_risk_scores", "--exclude", "test_type:unit"],
        db=db,
        input_dir=SAMPLE_DIR,
        target_path=dbt_target,
        echo=False,
    )
    assert not result.ok, result.output
    failed = {line.split()[1] for line in result.failures}
    assert failed == failing, result.failures
    assert all(line.startswith("test ") for line in result.failures)
    assert result.executed["test"] > len(failing)  # the model's other tests ran, and passed

    # ... and the suites pass over the duplicate: the rule is not also theirs
    if case == "duplicate_mart_key":
        run = run_suites(db, tmp_path / "dq", suites=["marts"])
        assert run.exit_code == EXIT_OK, [o.expectation_id for o in run.errors]


POLICY_SQL = """
-- C009 (account_value 110,000) now scores 0.75: any policy action for C009 needs approval.
update marts.customer_risk_scores set risk_score = 0.75 where customer_id = 'C009';
update marts.customer_risk_history set risk_score = 0.75 where customer_id = 'C009';
create schema policy;
create table policy.interventions (
    intervention_id varchar, customer_id varchar, journey_stage varchar, recommended_action varchar,
    confidence double, requires_human_approval boolean, triggered_by_signals varchar[],
    evaluation_latency_ms integer, generated_at date, policy_version varchar, reason varchar,
    decision_id varchar, approval_status varchar, run_id varchar, decided_at timestamp
);
insert into policy.interventions values
    ('P-C001', 'C001', 'onboarding', 'onboarding_specialist_call', 0.9, true, ['S001'], 5,
        date '2025-01-20', 'v', 'ok', 'D1', 'pending', 'R1', timestamp '2025-01-20 06:00:00'),
    ('P-C009', 'C009', 'engagement', 'usage_review_checkin', 0.8, false, [], 5,
        date '2025-01-20', 'v', 'no approval', 'D2', 'not_required', 'R1', timestamp '2025-01-20 06:00:00'),
    ('P-C002', 'C002', 'onboarding', 'onboarding_nudge_email', 0.3, false, [], 5,
        date '2025-01-20', 'v', 'low confidence', 'D3', 'not_required', 'R1', timestamp '2025-01-20 06:00:00'),
    ('P-C006', 'C006', 'onboarding', 'monitor_only', 0.35, false, [], 5,
        date '2025-01-20', 'v', 'I005 still open', 'D4', 'not_required', 'R1', timestamp '2025-01-20 06:00:00'),
    -- before the feed's open I008 (2025-01-16) for C004: the later one is the source system's, not the policy's
    ('P-C004', 'C004', 'engagement', 'monitor_only', 0.5, false, [], 5,
        date '2025-01-10', 'v', 'ok', 'D5', 'not_required', 'R0', timestamp '2025-01-10 06:00:00');
"""


def test_policy_guardrails_use_the_policy_config(sample_db: Path, tmp_path: Path) -> None:
    policy = yaml.safe_load(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
    params = load_config().params
    for name, keys in POLICY_PARAMS.items():
        value = policy
        for key in keys:
            value = value[key]
        assert params[name] == value, name

    db = corrupted_copy(sample_db, tmp_path / "db", POLICY_SQL)
    result = run_suites(db, tmp_path / "dq", suites=["policy"])
    assert result.exit_code == EXIT_ERRORS
    assert {o.expectation_id: o.offending_labels for o in result.errors} == {
        "policy_approval_required_high_value_high_risk": [
            "P-C009 (customer C009): account_value 110000.0, risk_score 0.75, no human approval required"
        ],
        "policy_monitor_only_below_confidence_floor": [
            "P-C002 (customer C002): confidence 0.3 but onboarding_nudge_email"
        ],
        "policy_no_second_open_intervention": ["C006: 2 open (I005, P-C006)"],
    }

    # Without a policy config the threshold checks are skipped with a note, the rest still run.
    config = load_config(policy_path=tmp_path / "no-policy.yml")
    result = run_suites(db, tmp_path / "dq2", suites=["policy"], config=config)
    skipped = {o.expectation_id: o.description for o in result.outcomes if o.status is Status.SKIPPED}
    assert set(skipped) == {
        "policy_approval_required_high_value_high_risk",
        "policy_monitor_only_below_confidence_floor",
        "policy_no_second_open_intervention",
    }
    assert all("(policy/policy.yml not found)" in note for note in skipped.values())
    assert [o.expectation_id for o in result.outcomes if o.status is Status.PASSED] == [
        "policy_interventions_confidence_in_unit_interval",
    ]
    assert result.exit_code == EXIT_OK
