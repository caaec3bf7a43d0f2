"""The per-run HTML report: real content from a real dbt build of the sample, self-contained, and rendered in
headless Chromium (skipped only where Chromium is not installed)."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

import duckdb
import pytest

from journey.report import (
    DQ_HISTORY_TABLES,
    LEARNING_MARTS,
    REPORT_FILE,
    calibration_chart,
    collect,
    find_chromium,
    fmt_int,
    fmt_pct,
    fmt_signed,
    metric_chart,
    render_report,
    screenshot,
)
from tests.conftest import FEEDS, SampleRun

RUN_INFO = {
    "run_id": "20250120T060000000000Z",
    "as_of_date": "2025-01-20",
    "status": "ok",
    "stage_timings": {"dbt_build": 21.4, "dq": 11.7, "policy": 1.2, "downstream": 4.1},
    "input_dir": "seeds",
}


def _dq_summary(folder: Path) -> Path:
    """A small dq_summary.json in the format expectations/reports.py writes."""
    failure = {
        "suite": "orphans",
        "expectation_id": "orphan_signals",
        "severity": "warning",
        "status": "failed",
        "table": "quality.orphan_records",
        "kind": "rows",
        "description": "Orphan signals records: they reference an unknown customer, signal or intervention.",
        "unexpected_count": 1,
        "offending_keys": ["S009"],
        "offending_rows": ["S009 → customer C999"],
        "offending_keys_truncated": False,
        "observed": None,
        "exception": None,
        "informational": False,
    }
    error = {
        **failure,
        "suite": "inputs",
        "expectation_id": "signals_strength_in_range",
        "severity": "error",
        "table": "staging.stg_signals",
        "description": "signal_strength in [0, 1] <checked>",
        "unexpected_count": 25,
        "offending_keys": [f"S{n:03d}" for n in range(100, 120)],
        "offending_rows": [],
        "offending_keys_truncated": True,
    }
    summary = {
        "status": "errors",
        "exit_code": 1,
        "database": "sample.duckdb",
        "started_at": "2025-01-20T06:00:00+00:00",
        "great_expectations_version": "1.24.1",
        "totals": {
            "expectations": 96,
            "evaluated": 91,
            "passed": 89,
            "failed": 2,
            "exceptions": 0,
            "skipped": 5,
            "failed_by_severity": {"error": 1, "warning": 1},
            "errors": 1,
            "warnings": 1,
            "informational": 0,
        },
        "timings_s": {"total_s": 11.7},
        "suites": [
            {
                "name": "policy",
                "description": "",
                "status": "skipped",
                "informational": False,
                "note": "table not built yet: policy.interventions",
                "expectations": 5,
                "passed": 0,
                "failed": 0,
                "skipped": 5,
                "seconds": 0.0,
            },
        ],
        "failures": [failure, error],
        "reports": {"summary": "dq_summary.json", "junit": "dq_junit.xml", "data_docs": None},
    }
    path = folder / "dq_summary.json"
    path.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def _text(html: str) -> str:
    """The visible text, roughly: tags dropped, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _section(html: str, heading_id: str) -> str:
    start = html.index(f'id="{heading_id}"')
    end = html.find("<section", start)
    return html[start : end if end != -1 else len(html)]


@pytest.fixture(scope="module")
def sample_report(sample_db: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("report")
    path = render_report(sample_db, out, dq_summary=_dq_summary(out), run_info=RUN_INFO)
    return path, path.read_text(encoding="utf-8")


@pytest.fixture
def work_db(sample_db: Path, tmp_path: Path) -> Path:
    """A private copy of the sample database that a test may change."""
    target = tmp_path / "work.duckdb"
    shutil.copy(sample_db, target)
    return target


# ------------------------------------------------------------------------------------------------ content


def test_report_is_written_where_asked(sample_report: tuple[Path, str]) -> None:
    path, html = sample_report
    assert path.name == REPORT_FILE
    assert html.startswith("<!DOCTYPE html>")
    assert not list(path.parent.glob(".report.html.*.tmp"))


def test_kpi_headline_shows_the_sample_figures(sample_report: tuple[Path, str]) -> None:
    _, html = sample_report
    headline = _text(_section(html, "kpi-heading"))
    assert "Interventions 8 " in headline
    assert "4 of 6 recorded outcomes succeeded" in headline
    assert "66.7%" in headline
    assert "1 of 8 interventions overridden" in headline and "12.5%" in headline
    assert "3 of 8 needed approval" in headline and "37.5%" in headline
    assert "4,800" in headline
    assert "205 ms p50" in headline
    assert "7 vs 3" in headline
    assert "100.0%" in headline and "46 of 46 input records" in headline
    assert "4.25 days" in headline


def test_run_header_and_timings(sample_report: tuple[Path, str]) -> None:
    _, html = sample_report
    text = _text(html)
    assert "As of 2025-01-20" in text
    assert RUN_INFO["run_id"] in text
    assert "38.4 s" in text  # duration: the sum of the stage timings
    assert "dbt_build: 21.4 s" in html  # the stage-timings chart's accessible description


def test_band_counts_match_sql(sample_report: tuple[Path, str], sample_db: Path) -> None:
    _, html = sample_report
    with duckdb.connect(str(sample_db), read_only=True) as con:
        counts = con.sql("select risk_band, count(*) from marts.customer_risk_scores group by 1").fetchall()
        scored = con.sql("select count(risk_score) from marts.customer_risk_scores").fetchone()[0]
    assert counts
    risk = _section(html, "risk-heading")
    for band, count in counts:
        assert f"<title>{band}: {count:,} (" in risk, band
    # the histogram's bins add up to every scored customer
    bins = [
        int(n.replace(",", ""))
        for n in re.findall(r"<title>risk score [\d.]+\u2013[\d.]+: ([\d,]+) customer", risk)
    ]
    assert len(bins) == 20
    assert sum(bins) == scored


def test_most_at_risk_lists_c001_first(sample_report: tuple[Path, str]) -> None:
    _, html = sample_report
    risk = _section(html, "risk-heading")
    table = risk[risk.index("Most at risk") :]
    keys = re.findall(r'<td class="key">\s*(C\d{3})', table)
    assert keys[:2] == ["C001", "C006"]
    assert len(keys) == 10
    # the first scoring has nothing to compare with, and says so
    assert "No previous scoring to compare with" in _text(risk)


def test_policy_section_says_the_policy_has_not_run(sample_report: tuple[Path, str]) -> None:
    _, html = sample_report
    assert "The policy step has not run" in _text(_section(html, "policy-heading"))


def test_dq_findings_name_the_offending_keys(sample_report: tuple[Path, str]) -> None:
    _, html = sample_report
    dq = _section(html, "dq-heading")
    text = _text(dq)
    assert "orphan_signals" in text
    assert "S009 → customer C999" in text
    # errors first, with its severity colour, and the truncated key list says there is more
    assert dq.index("signals_strength_in_range") < dq.index("orphan_signals")
    assert 'class="finding sev-error"' in dq and 'class="finding sev-warning"' in dq
    assert "… and 17 more" in text  # 25 rows, 8 keys shown
    assert "&lt;checked&gt;" in dq  # escaped
    assert "Suites not run: policy" in text
    # the feed accounting comes from quality.feed_accounting
    assert "journey state log" in text


def test_report_is_self_contained(sample_report: tuple[Path, str]) -> None:
    _, html = sample_report
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert "http://" not in html and "https://" not in html
    assert "<script" not in html.lower()
    assert "<link" not in html.lower()
    assert "@import" not in html
    # charts are inline SVG with accessible names
    assert html.count("<svg") >= 3
    for svg in re.findall(r"<svg[^>]*>", html):
        assert 'role="img"' in svg
        assert "aria-labelledby" in svg or "aria-label" in svg


# ------------------------------------------------------------------------------------ policy, changes, escaping


def _add_policy_tables(db: Path, run_id: str) -> None:
    with duckdb.connect(str(db)) as con:
        con.execute("create schema policy")
        con.execute(
            """
            create table policy.decision_log as
            select
                ? as run_id,
                customer_id,
                case
                    when risk_score >= 0.6 then 'act'
                    when customer_id = 'C003' then 'holdout'
                    when customer_id = 'C004' then 'suppressed'
                    else 'monitor'
                end as decision,
                '1.0.0' as policy_version,
                date '2025-01-20' as as_of_date,
                timestamp '2025-01-20 06:00:00' as decided_at
            from marts.customer_risk_scores
            union all
            select
                'an-older-run', customer_id, 'skipped_bad_data', '0.9.0', date '2025-01-19',
                timestamp '2025-01-19 06:00:00'
            from marts.customer_risk_scores
            union all
            -- an earlier run on the same date decided differently for C005; the later decision counts
            select 'an-earlier-rerun', 'C005', 'skipped_bad_data', '1.0.0', date '2025-01-20',
                timestamp '2025-01-20 05:00:00'
            """,
            [run_id],
        )
        con.execute(
            """
            create table policy.interventions as
            select
                'P-' || customer_id as intervention_id,
                customer_id,
                'onboarding' as journey_stage,
                case when customer_id = 'C001' then 'onboarding_specialist_call' else 'proactive_outreach' end
                    as recommended_action,
                0.8 as confidence,
                customer_id = 'C001' as requires_human_approval,
                date '2025-01-20' as generated_at,
                '1.0.0' as policy_version,
                ? as run_id,
                case when customer_id = 'C001' then 'pending' else 'not_required' end as approval_status
            from marts.customer_risk_scores
            where risk_score >= 0.6
            """,
            [run_id],
        )


def test_policy_decisions_and_approvals(work_db: Path, tmp_path: Path) -> None:
    _add_policy_tables(work_db, RUN_INFO["run_id"])
    html = render_report(work_db, tmp_path / "out", run_info=RUN_INFO).read_text(encoding="utf-8")
    policy = _section(html, "policy-heading")
    assert "policy step has not run" not in policy
    # only this date's decisions, the latest per customer: 2 act (C001, C006), 1 holdout, 1 suppressed, 6 monitor
    assert "<title>act: 2 (20%)</title>" in policy
    assert "<title>monitor: 6 (60%)</title>" in policy
    assert "<title>holdout: 1 (10%)</title>" in policy
    assert "skipped bad data" not in policy  # the older date and the superseded decision are not counted
    assert "10 customers evaluated (as of 2025-01-20)" in _text(policy)
    assert "<title>pending: 1 (50%)</title>" in policy
    assert "<title>not required: 1 (50%)</title>" in policy
    assert "onboarding specialist call" in policy


def test_policy_tables_with_missing_columns_do_not_break_the_report(work_db: Path, tmp_path: Path) -> None:
    with duckdb.connect(str(work_db)) as con:
        con.execute("create schema policy")
        con.execute("create table policy.interventions (intervention_id varchar, customer_id varchar)")
        con.execute("insert into policy.interventions values ('P1', 'C001')")
    html = render_report(work_db, tmp_path / "out").read_text(encoding="utf-8")
    text = _text(_section(html, "policy-heading"))
    assert "No approval status" in text
    assert "No policy.decision_log" in text


def test_biggest_changes_sorted_by_absolute_delta_and_escaped(work_db: Path, tmp_path: Path) -> None:
    deltas = {"C004": -0.31, "C001": 0.12, "C006": 0.25, "C002": -0.02}
    with duckdb.connect(str(work_db)) as con:
        for customer, delta in deltas.items():
            con.execute(
                """
                update marts.customer_risk_changes
                set previous_risk_score = current_risk_score - ?,
                    risk_score_delta = ?,
                    previous_risk_band = 'low',
                    top_moving_factor = 'signal_pressure',
                    top_moving_factor_delta = ?,
                    explanation = ?
                where customer_id = ?
                """,
                [
                    delta,
                    delta,
                    delta,
                    f"<script>alert('{customer}')</script> signal pressure moved",
                    customer,
                ],
            )
    html = render_report(work_db, tmp_path / "out").read_text(encoding="utf-8")
    risk = _section(html, "risk-heading")
    changes = risk[risk.index("Biggest risk changes") :]
    assert re.findall(r'<td class="key">\s*(C\d{3})', changes) == ["C004", "C006", "C001", "C002"]
    assert "\u22120.310" in changes and "+0.250" in changes
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#39;C004&#39;)&lt;/script&gt; signal pressure moved" in changes
    assert "4 customers compared" in _text(changes)


def test_report_on_a_database_without_marts(tmp_path: Path) -> None:
    db = tmp_path / "empty.duckdb"
    duckdb.connect(str(db)).close()
    html = render_report(db, tmp_path / "out", dq_summary=tmp_path / "missing.json").read_text(
        encoding="utf-8"
    )
    text = _text(html)
    assert "marts.kpi_overview is not in this database" in text
    assert "marts.customer_risk_scores is not in this database" in text
    assert "The policy step has not run" in text
    assert "The learning marts were not built in this database" in text
    assert "The data-quality history is not in this database" in text
    assert "No data-quality summary at" in text


def test_connection_is_read_only_and_closed(work_db: Path, tmp_path: Path) -> None:
    before = work_db.read_bytes()
    render_report(work_db, tmp_path / "out")
    assert work_db.read_bytes() == before
    # in one process DuckDB refuses a read-write connection while a read-only one to the same file is open
    with duckdb.connect(str(work_db)) as con:
        assert con.sql("select count(*) from marts.kpi_overview").fetchone()[0] == 1


def test_million_customers_are_aggregated_in_sql(tmp_path: Path) -> None:
    db = tmp_path / "big.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema marts")
        con.execute(
            """
            create table marts.customer_risk_scores as
            select
                'C' || lpad(cast(i as varchar), 7, '0') as customer_id,
                (hash(i) % 1000000) / 1000000.0 as risk_score,
                case
                    when (hash(i) % 1000000) / 1000000.0 < 0.3 then 'low'
                    when (hash(i) % 1000000) / 1000000.0 < 0.5 then 'medium'
                    when (hash(i) % 1000000) / 1000000.0 < 0.7 then 'high'
                    else 'critical'
                end as risk_band
            from range(1000000) as numbers(i)
            """
        )
    began = time.perf_counter()
    path = render_report(db, tmp_path / "out")
    seconds = time.perf_counter() - began
    html = path.read_text(encoding="utf-8")
    bins = [
        int(n.replace(",", ""))
        for n in re.findall(r"<title>risk score [\d.]+\u2013[\d.]+: ([\d,]+) customer", html)
    ]
    assert sum(bins) == 1_000_000
    assert "1,000,000 customers scored" in _text(html)
    assert path.stat().st_size < 200_000  # nothing per customer beyond the top ten
    assert seconds < 30


# -------------------------------------------------------------------------------------- what it learned


def _add_learning_marts(db: Path) -> None:
    """Measured learning marts with known figures (the sample has too few outcomes to measure anything): a
    calibration curve of five bins with one short bin, a backtest of ten score bins, two ranked signal types and
    one short, a confidence floor with three candidates and one harmful action."""
    with duckdb.connect(str(db)) as con:
        con.execute("create schema if not exists marts")
        con.execute(
            """
            create or replace table marts.confidence_calibration as
            with bins as (
                select * from (values
                    ('0.3-0.4', 0.3, 0.4, 4, 40, 12, 0.35),
                    ('0.4-0.5', 0.4, 0.5, 5, 50, 20, 0.45),
                    ('0.5-0.6', 0.5, 0.6, 6, 60, 33, 0.55),
                    ('0.6-0.7', 0.6, 0.7, 7, 70, 45, 0.65),
                    ('0.7-0.8', 0.7, 0.8, 8, 80, 60, 0.75),
                    ('0.9-1.0', 0.9, 1.0, 10, 3, 3, 0.95)
                ) as bins(confidence_bin, bin_lower, bin_upper, bin_order, recorded_outcomes, successes,
                    mean_confidence)
            )
            select
                date '2025-01-20' as as_of_date,
                'all' as origin,
                confidence_bin, bin_lower, bin_upper, bin_order, recorded_outcomes, successes,
                successes / recorded_outcomes as success_rate,
                successes / recorded_outcomes - 0.1 as success_rate_ci_lower,
                successes / recorded_outcomes + 0.1 as success_rate_ci_upper,
                mean_confidence,
                successes / recorded_outcomes - mean_confidence as calibration_gap,
                cast(null as double) as brier_score,
                cast(null as double) as expected_calibration_error,
                case when recorded_outcomes >= 10 then 'measured' else 'insufficient data' end as status,
                'h' as learning_config_hash
            from bins
            union all
            select
                date '2025-01-20', 'all', 'all', null, null, null, 303, 173, 173 / 303, 0.52, 0.62, 0.6,
                -0.03, 0.231, 0.052, 'measured', 'h'
            """
        )
        con.execute(
            """
            create or replace table marts.risk_score_backtest as
            select
                date '2024-12-01' as scored_date, 'score_bin' as grouping_name, cast(bin as varchar) as grouping_value,
                100 as customers, bin * 3 as customers_with_event, bin * 0.03 as event_rate,
                bin * 0.03 / 0.165 as lift, bin / 10.0 - 0.05 as mean_risk_score,
                cast(null as double) as auc, cast(null as double) as score_drift_mean,
                cast(null as double) as score_drift_psi, 'measured' as status,
                date '2025-01-20' as as_of_date
            from range(1, 11) as bins(bin)
            union all
            select date '2024-12-01', 'all', 'all', 1000, 165, 0.165, 1.0, 0.5, 0.734, 0.012, 0.031, 'measured',
                date '2025-01-20'
            union all
            select date '2024-12-01', 'risk_band', band, customers, events, events / customers,
                events / customers / 0.165, score, null, null, null, 'measured', date '2025-01-20'
            from (values ('low', 500, 40, 0.2), ('critical', 100, 45, 0.8)) as bands(band, customers, events, score)
            union all
            select date '2025-01-20', 'all', 'all', 1010, null, null, null, 0.51, null, -0.004, 0.02,
                'follow-up incomplete', date '2025-01-20'
            """
        )
        con.execute(
            """
            create or replace table marts.signal_effectiveness as
            select * from (values
                ('usage_drop', 'automated', 120, 60, 0.5, 0.41, 0.59, 0.25, 2.0, 0.3, 1),
                ('negative_sentiment', 'manual', 80, 24, 0.3, 0.21, 0.41, 0.25, 1.2, 0.1, 2),
                ('renewal_intent', 'manual', 5, 1, 0.2, 0.04, 0.62, 0.25, 0.8, 0.01, null)
            ) as signals(signal_type, source, signals, signals_followed_by_event, precision, precision_ci_lower,
                precision_ci_upper, base_rate, lift, recall, effectiveness_rank)
            """
        )
        con.execute(
            """
            alter table marts.signal_effectiveness add column status varchar;
            update marts.signal_effectiveness
            set status = case when effectiveness_rank is null then 'insufficient data' else 'measured' end;
            alter table marts.signal_effectiveness add column as_of_date date default date '2025-01-20';
            """
        )
        con.execute(
            """
            create or replace table marts.threshold_recommendations as
            select * from (values
                ('confidence_floor', '0.30', 1, false, false, 300, 170, 50000.0, 166.7, 30000.0, 70000.0),
                ('confidence_floor', '0.40', 2, true, false, 250, 150, 60000.0, 240.0, 42000.0, 78000.0),
                ('confidence_floor', '0.50', 3, false, true, 200, 130, 65000.0, 325.0, 49000.0, 81000.0),
                ('act_min_band', 'high', 1, true, false, 12, 6, null, null, null, null)
            ) as candidates(parameter, candidate_value, candidate_order, is_in_force, is_best, recorded_outcomes,
                successes, expected_net_value, net_value_per_outcome, net_value_ci_lower, net_value_ci_upper)
            """
        )
        con.execute(
            """
            alter table marts.threshold_recommendations add column status varchar;
            alter table marts.threshold_recommendations add column conclusion varchar;
            update marts.threshold_recommendations
            set status = case when parameter = 'act_min_band' then 'insufficient data' else 'measured' end,
                conclusion = case when parameter = 'act_min_band'
                    then 'insufficient data: 12 outcomes with a known band, fewer than 30'
                    else 'A floor of 0.50 would have earned the most on these outcomes (observational)' end;
            """
        )
        con.execute(
            """
            create or replace table marts.action_performance as
            select * from (values
                ('proactive_outreach', 200, 150, 90, 0.6, 40.0, 20000.0, 'randomized', -0.04, -0.07, -0.01, false,
                    'measured', 'Lowers churn risk against the holdout'),
                ('reengagement_campaign', 120, 100, 30, 0.3, 90.0, -3000.0, 'observational', 0.05, 0.02, 0.08, true,
                    'measured', 'Customers got riskier than the matched comparison'),
                ('monitor_only', 0, 0, 0, null, null, 0.0, null, null, null, null, false, 'insufficient data',
                    'No outcomes recorded')
            ) as actions(recommended_action, interventions, recorded_outcomes, successes, success_rate,
                cost_per_success, net_value, effect_method, effect, effect_ci_lower, effect_ci_upper,
                is_worse_than_nothing, status, conclusion)
            """
        )


def test_learning_section_on_the_sample_says_insufficient_data(
    sample_report: tuple[Path, str], sample_db: Path
) -> None:
    """Ten customers, six recorded outcomes, one scored date: every learning mart exists and has too little
    evidence, and the section says so in words instead of drawing empty charts."""
    _, html = sample_report
    learned = _section(html, "learned-heading")
    text = _text(learned)
    assert "were not built" not in text and "Not built in this database" not in text
    assert "Insufficient data for a calibration curve: 6 recorded outcomes" in text
    assert "no confidence bin has the 10 outcomes a point needs" in text
    assert (
        "Not measured yet. No scored date is measured: follow-up incomplete: scored on 2025-01-20, its 30-day"
        " window closes on 2025-02-19" in text
    )
    assert "Insufficient data to rank the signals" in text
    with duckdb.connect(str(sample_db), read_only=True) as con:
        awaiting = con.sql(
            "select sum(signals_awaiting_follow_up) from marts.signal_effectiveness"
        ).fetchone()[0]
    assert awaiting > 0
    assert f"{awaiting} signals are still within their window" in text
    assert "Insufficient data to judge any action" in text
    recommendations = _text(learned[learned.index('id="learned-recommendations"') :])
    for parameter, following in (("confidence floor", "act min band"), ("act min band", "Actions")):
        said = recommendations[recommendations.index(parameter) : recommendations.index(following)]
        assert "insufficient data" in said, parameter  # in the mart's conclusion, or a chip before it
    assert "<svg" not in learned  # words, not empty charts


def test_learning_section_draws_the_measured_marts(work_db: Path, tmp_path: Path) -> None:
    _add_learning_marts(work_db)
    html = render_report(work_db, tmp_path / "out").read_text(encoding="utf-8")
    learned = _section(html, "learned-heading")
    text = _text(learned)
    calibration = learned[learned.index('id="learned-calibration"') : learned.index('id="learned-backtest"')]
    # five measured bins drawn, the short one (3 outcomes) named instead; the summary row's scores
    assert calibration.count('<g class="bin">') == 5
    assert "confidence 0.5-0.6: success 55.0% (45.0% to 65.0%) over 60 outcomes" in calibration
    assert "not drawn: 0.9-1.0" in _text(calibration)
    assert "0.231" in calibration and "0.052" in calibration
    assert 'class="threshold diagonal"' in calibration
    # the backtest of the latest measured date, not the newer one whose follow-up is incomplete
    backtest = learned[learned.index('id="learned-backtest"') : learned.index('id="learned-signals"')]
    assert "Lift by score bin, scored 2024-12-01" in backtest
    assert backtest.count('<g class="column">') == 10
    lifts = re.findall(r"<title>score bin (\d+): [^<]*lift ([\d.]+)</title>", backtest)
    assert [int(b) for b, _ in lifts] == list(range(1, 11))
    assert lifts[-1][1] == "1.82"
    assert "0.734" in backtest and "1 of 2 scored dates measured" in _text(backtest)
    assert "newest scoring, 2025-01-20: mean score change \u22120.004 , PSI 0.020" in _text(backtest)
    # ranked signals first, in rank order; the unranked one listed with its status
    signals = learned[learned.index('id="learned-signals"') : learned.index('id="learned-recommendations"')]
    assert re.findall(r"<title>([a-z ]+ · [a-z]+): ", signals) == [
        "usage drop · automated",
        "negative sentiment · manual",
    ]
    assert signals.index("usage drop") < signals.index("negative sentiment") < signals.index("renewal intent")
    # the confidence floor's candidates drawn with their intervals; the band says insufficient data in words
    assert "A floor of 0.50 would have earned the most" in text
    assert learned.count('class="effect"') == 3
    assert "0.40 · in force" in learned and "0.50 · best" in learned
    assert "insufficient data: 12 outcomes with a known band" in text
    # the harmful action is flagged, first
    assert "1 action did worse than doing nothing: reengagement campaign" in text
    actions = learned[learned.index('<th scope="col">Action</th>') :]
    assert actions.index("reengagement campaign") < actions.index("proactive outreach")
    assert actions.count("worse than nothing</span>") == 1


def test_learning_section_shows_the_report_date(work_db: Path, tmp_path: Path) -> None:
    """The calibration history holds a later date too: a report of 2025-01-20 shows that date's rows, a report
    of a date the history does not have its latest."""
    _add_learning_marts(work_db)
    with duckdb.connect(str(work_db)) as con:
        con.execute(
            """
            insert into marts.confidence_calibration
            select * replace (date '2025-01-27' as as_of_date, recorded_outcomes + 100 as recorded_outcomes)
            from marts.confidence_calibration
            """
        )
    dated = render_report(work_db, tmp_path / "dated", run_info=RUN_INFO).read_text(encoding="utf-8")
    other = {**RUN_INFO, "as_of_date": "2025-01-25"}
    latest = render_report(work_db, tmp_path / "latest", run_info=other).read_text(encoding="utf-8")
    assert "over 60 outcomes" in _section(dated, "learned-heading")
    assert "over 160 outcomes" in _section(latest, "learned-heading")


def test_learning_section_without_the_marts(work_db: Path, tmp_path: Path) -> None:
    """An older database, or a run that did not build the models downstream of the policy."""
    _add_learning_marts(work_db)
    with duckdb.connect(str(work_db)) as con:
        for table in LEARNING_MARTS[1:]:
            con.execute(f"drop table if exists {table}")
    html = render_report(work_db, tmp_path / "one").read_text(encoding="utf-8")
    text = re.sub(r" ([,.])", r"\1", _text(_section(html, "learned-heading")))
    assert "Not built in this database: " + ", ".join(LEARNING_MARTS[1:]) + "." in text
    assert "marts.risk_score_backtest was not built in this database" in text
    with duckdb.connect(str(work_db)) as con:
        con.execute(f"drop table if exists {LEARNING_MARTS[0]}")
    html = render_report(work_db, tmp_path / "none").read_text(encoding="utf-8")
    text = _text(_section(html, "learned-heading"))
    assert "The learning marts were not built in this database" in text
    assert "<svg" not in _section(html, "learned-heading")


def test_calibration_chart_puts_a_calibrated_point_on_the_diagonal() -> None:
    chart = calibration_chart(
        "c",
        [
            {
                "name": "all",
                "colour": "#000",
                "points": [
                    {"x": 0.5, "y": 0.5, "lower": 0.4, "upper": 0.6, "label": "0.5-0.6", "n": 20},
                    {"x": 0.8, "y": 0.2, "lower": 0.1, "upper": 0.3, "label": "0.8-0.9", "n": 20},
                ],
            }
        ],
    )
    size = chart["right"] - chart["left"]
    on, off = chart["series"][0]["points"]
    assert on["cx"] - chart["left"] == pytest.approx(chart["bottom_y"] - on["cy"])  # x = y
    assert on["cx"] == pytest.approx(chart["left"] + size * 0.5)
    assert off["cy"] == pytest.approx(chart["bottom_y"] - size * 0.2)
    assert off["y1"] > off["cy"] > off["y2"]  # lower bound below the point, upper above (SVG y grows down)


# ------------------------------------------------------------------------------------ data-quality history


class JourneyRun(NamedTuple):
    db: Path  # the serving database the run published
    html: str  # the report the run rendered from its working copy
    report: Path


@pytest.fixture(scope="module")
def journey_run(sample_run: SampleRun) -> JourneyRun:
    """The sample's real `journey run`, shared by the session (read-only; tests that change the database take a
    copy): its check history, volume metrics and the report it wrote."""
    report = Path(sample_run.summary["report"])
    return JourneyRun(sample_run.db, report.read_text(encoding="utf-8"), report)


def _one(db: Path, sql: str) -> Any:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql(sql).fetchone()[0]


def test_dq_history_grid_lists_the_checks_that_warned(journey_run: JourneyRun) -> None:
    section = _section(journey_run.html, "dq-history-heading")
    checks = section[section.index('id="dq-history-checks"') : section.index('id="dq-history-anomalies"')]
    for check in ("orphan_signals", "invalid_transitions", "source_freshness_feeds.signals"):
        assert f'title="{check} on 2025-01-20: warn' in checks, check
        assert f'<th scope="row" class="check-name">{check}' in checks, check
    assert "dbt · source freshness" in checks and "great expectations · expectation" in checks
    # the other checks, counted in SQL, are summed up in one line
    others = _one(
        journey_run.db,
        "select count(*) from (select check_id from ops.check_history group by check_home, check_type, check_id"
        " having bool_and(status = 'pass'))",
    )
    assert others > 100
    assert f"{others} other checks passed on every one of these runs" in _text(checks)
    # the same figures in collect(), as the template reads them
    data = collect(journey_run.db, run_info={"as_of_date": "2025-01-20"})["dq_history"]
    assert data["missing"] == []
    grid = data["checks"]
    assert [str(d) for d in grid["dates"]] == ["2025-01-20"]
    statuses = {row["check_id"]: [cell["status"] for cell in row["cells"]] for row in grid["rows"]}
    assert statuses["orphan_signals"] == ["warn"]
    assert statuses["source_freshness_feeds.signals"] == ["warn"]
    assert grid["others"] == others
    assert grid["checks"] == others + len(grid["rows"])
    homes = {group["check_home"] for group in grid["groups"]}
    assert homes == {"dbt", "great_expectations"}


def test_dq_history_draws_each_feeds_volume_and_says_it_is_recording(journey_run: JourneyRun) -> None:
    section = _section(journey_run.html, "dq-history-heading")
    anomalies = section[section.index('id="dq-history-anomalies"') : section.index('id="dq-history-changes"')]
    assert anomalies.count('<svg class="chart metric-chart"') == len(FEEDS) == 5
    minimum = _one(
        journey_run.db,
        "select cast(value as integer) from reference.ref_dq_monitor_parameters where parameter = 'min_history_runs'",
    )
    for feed in FEEDS:
        delivered = _one(
            journey_run.db,
            f"select metric_value from quality.dq_metrics where metric_key = 'feeds.{feed} records_delivered'",
        )
        assert f"<title>today, 2025-01-20: {fmt_int(delivered)}</title>" in anomalies, feed
        assert f"<code>feeds.{feed} records_delivered</code>" in anomalies, feed
    text = _text(anomalies)
    assert text.count(f"recording history: 0 of {minimum} runs") == len(FEEDS)
    assert "No anomaly today." in text
    data = collect(journey_run.db)["dq_history"]["anomalies"]
    assert data["judged"] == 0 and data["anomalies"] == 0
    assert (
        data["metrics"]
        == data["recording"]
        == _one(journey_run.db, "select count(*) from quality.dq_metric_anomalies")
    )
    assert [card["monitored_relation"] for card in data["volumes"]] == [f"feeds.{feed}" for feed in FEEDS]
    assert data["params"]["min_history_runs"] == minimum
    # the first run has nothing to compare with
    assert "No earlier run to compare with." in _text(section)


def test_dq_history_on_a_database_without_its_tables(work_db: Path, tmp_path: Path) -> None:
    """A plain dbt build has the quality tables but no ops.check_history; an older database has none."""
    html = render_report(work_db, tmp_path / "built").read_text(encoding="utf-8")
    text = _text(_section(html, "dq-history-heading"))
    assert "Not in this database: ops.check_history ." in text
    assert "ops.check_history is not in this database" in text
    assert "recording history" in text  # the metrics are still shown
    with duckdb.connect(str(work_db)) as con:
        for table in DQ_HISTORY_TABLES[1:]:
            con.execute(f"drop table if exists {table}")
    html = render_report(work_db, tmp_path / "older").read_text(encoding="utf-8")
    section = _section(html, "dq-history-heading")
    assert "The data-quality history is not in this database" in _text(section)
    assert "<svg" not in section
    # a table of another shape (a status that is not text) is one sentence, not a crash
    with duckdb.connect(str(work_db)) as con:
        con.execute("create schema if not exists ops")
        con.execute(
            "create table ops.check_history as select date '2025-01-20' as as_of_date, 'c' as check_id,"
            " 'dbt' as check_home, 'data_test' as check_type, 1 as status"
        )
    html = render_report(work_db, tmp_path / "odd").read_text(encoding="utf-8")
    assert "The data-quality history could not be read" in _text(_section(html, "dq-history-heading"))


def test_dq_history_what_changed_since_the_previous_run(journey_run: JourneyRun, tmp_path: Path) -> None:
    """A previous kept run date where orphan_signals passed: the change is listed against that date."""
    db = Path(shutil.copy(journey_run.db, tmp_path / journey_run.db.name))
    with duckdb.connect(str(db)) as con:
        con.execute(
            """
            insert into ops.check_history
            select * replace (
                'an-earlier-run' as run_id,
                as_of_date - 1 as as_of_date,
                case when check_id = 'orphan_signals' then 'pass' else status end as status
            )
            from ops.check_history
            """
        )
    data = collect(db, run_info={"as_of_date": "2025-01-20"})["dq_history"]
    changes = data["changes"]
    assert str(changes["previous"]) == "2025-01-19"
    assert [(c["check_id"], c["previous_status"], c["status"]) for c in changes["checks"]] == [
        ("orphan_signals", "pass", "warn")
    ]
    html = render_report(db, tmp_path / "out", run_info={"as_of_date": "2025-01-20"}).read_text(
        encoding="utf-8"
    )
    text = _text(_section(html, "dq-history-heading"))
    assert "orphan_signals pass → warn" in text
    assert "Compared with 2025-01-19" in text
    # two run dates in the grid now, oldest left
    assert [str(d) for d in data["checks"]["dates"]] == ["2025-01-19", "2025-01-20"]
    # the same day again: nothing changed
    with duckdb.connect(str(db)) as con:
        con.execute("update ops.check_history set status = 'warn' where check_id = 'orphan_signals'")
    html = render_report(db, tmp_path / "again", run_info={"as_of_date": "2025-01-20"}).read_text(
        encoding="utf-8"
    )
    assert "Nothing changed since 2025-01-19." in _text(_section(html, "dq-history-heading"))


def test_metric_chart_shades_the_band_around_the_median() -> None:
    points = [(date(2025, 1, day), value) for day, value in ((1, 10.0), (2, 12.0), (3, 11.0), (4, 30.0))]
    chart = metric_chart("m", points, median=11.0, half_band=3.0, is_anomaly=True, metric="row_count")
    band, today = chart["band"], chart["today"]
    assert band["y"] < chart["median_y"] < band["y"] + band["h"]
    assert today["y"] < band["y"]  # 30 is above the band's top, 14 (SVG y grows down)
    assert [p["x"] for p in chart["points"]] == sorted(p["x"] for p in chart["points"])  # oldest left
    assert (
        chart["today_colour"]
        != metric_chart("m", points, median=11.0, half_band=3.0, is_anomaly=False)["today_colour"]
    )
    # a count is never negative: a band wider than the median stops at 0, the lowest label
    wide = metric_chart("m", points, median=11.0, half_band=20.0, is_anomaly=False, metric="row_count")
    assert wide["y_labels"][-1]["label"] == "0"
    assert wide["band"]["y"] + wide["band"]["h"] == pytest.approx(wide["y_labels"][-1]["y"])


# --------------------------------------------------------------------------------------------- formatting


def test_number_formatting() -> None:
    assert fmt_int(1234567) == "1,234,567"
    assert fmt_int(None) == "—"
    assert fmt_pct(2 / 3) == "66.7%"
    assert fmt_signed(-0.1333, 3) == "\u22120.133"
    assert fmt_signed(0.25) == "+0.25"
    assert fmt_signed(0.0) == "±0.00"


# ------------------------------------------------------------------------------------------- the browser


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert header[12:16] == b"IHDR"
    return struct.unpack(">II", header[16:24])


MEASURE_SCRIPT = """<script>
const measured = [...document.querySelectorAll("#dq-history svg")].map((svg) => {
  const box = svg.getBoundingClientRect();
  return [svg.getAttribute("aria-labelledby"), box.width, box.height];
});
const grid = document.querySelector("#dq-history table.check-grid").getBoundingClientRect();
document.body.insertAdjacentHTML("beforeend", `<pre id="measured">${JSON.stringify({measured, grid: [grid.width, grid.height]})}</pre>`);
console.log("measured the data-quality history");
</script>"""


def _measure_in_chromium(report: Path, folder: Path) -> tuple[dict[str, Any], list[str]]:
    """Lay out a copy of the report (with a measuring script appended: the report itself has none) in headless
    Chromium: the sizes of the data-quality history's SVGs and its grid, and every console message."""
    page = folder / "measure.html"
    page.write_text(
        report.read_text(encoding="utf-8").replace("</body>", MEASURE_SCRIPT + "</body>"), encoding="utf-8"
    )
    with tempfile.TemporaryDirectory(prefix="journey-chromium-") as profile:
        completed = subprocess.run(
            [
                str(find_chromium()),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--enable-logging=stderr",
                "--v=0",
                f"--user-data-dir={profile}",
                "--window-size=1280,2000",
                "--dump-dom",
                page.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={"HOME": profile, "PATH": "/usr/bin:/bin"},
        )
    assert completed.returncode == 0, completed.stderr[-2000:]
    # the last match: the script's own text holds the element's markup too
    found = re.findall(r'<pre id="measured">(\{.*?)</pre>', completed.stdout, re.S)
    assert found, completed.stdout[-2000:]
    console = [line for line in completed.stderr.splitlines() if ":CONSOLE" in line]
    return json.loads(found[-1]), console


def test_report_renders_in_headless_chromium(journey_run: JourneyRun, tmp_path: Path) -> None:
    """The report of a real `journey run` (every section, the data-quality history too) in Chromium."""
    if find_chromium() is None:
        pytest.skip("chromium is not installed (apt-get install chromium); CI installs it in .ci/run")
    out = tmp_path / "run"
    report = render_report(journey_run.db, out, dq_summary=_dq_summary(tmp_path), run_info=RUN_INFO)
    png = out / "screenshot.png"
    assert screenshot(report, png, width=1280, height=2000)
    assert _png_size(png) == (1280, 2000)
    # a blank page compresses to a few kilobytes; a rendered report with charts and tables does not
    assert png.stat().st_size > 50_000
    sizes, console = _measure_in_chromium(report, tmp_path)
    # the console carries the measuring script's message and nothing else (no SVG attribute errors)
    assert len(console) == 1 and "measured the data-quality history" in console[0], console
    assert len(sizes["measured"]) == len(FEEDS)  # a volume chart per feed
    for name, width, height in sizes["measured"]:
        assert width > 100 and height > 50, name
    assert sizes["grid"][0] > 300 and sizes["grid"][1] > 50


def test_learning_section_renders_in_headless_chromium(work_db: Path, tmp_path: Path) -> None:
    """The section with every chart drawn, alone on a page with the report's styles, in Chromium."""
    if find_chromium() is None:
        pytest.skip("chromium is not installed (apt-get install chromium); CI installs it in .ci/run")
    _add_learning_marts(work_db)
    html = render_report(work_db, tmp_path / "out").read_text(encoding="utf-8")
    section = html[html.rindex("<section", 0, html.index('id="learned"')) :]
    page = tmp_path / "learned.html"
    page.write_text(
        html[: html.index("<main")]
        + '<main class="wrap">'
        + section[: section.index("</section>")]
        + "</section>",
        encoding="utf-8",
    )
    png = tmp_path / "learned.png"
    assert screenshot(page, png, width=1280, height=1600)
    assert _png_size(png) == (1280, 1600)
    assert png.stat().st_size > 50_000  # charts and tables, not a blank page


def test_screenshot_without_chromium_returns_false(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("journey.report.find_chromium", lambda: None)
    html = tmp_path / "page.html"
    html.write_text("<!DOCTYPE html><p>hi</p>", encoding="utf-8")
    assert screenshot(html, tmp_path / "shot.png") is False
    assert not (tmp_path / "shot.png").exists()
