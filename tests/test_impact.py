"""Impact measurement (issue 9): treatment effects, the holdout split check and the rollout gates.

The sample is too small for any conclusion and must say so. The statistics are checked on a copy of the sample
database with a generated policy experiment written straight into ``policy.decision_log`` and
``marts.customer_risk_history`` (deterministic pseudo-random numbers from md5), then ONE dbt run of
the impact models. Each policy_version is an independent replicate, so one run gives hundreds of experiments:
200 with no effect (false-positive rate), 100 with a known effect (interval coverage), one with a broken
50/50 split (sample-ratio mismatch).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from statistics import NormalDist

import duckdb
import pytest

from journey.project import PROJECT_DIR, run_dbt
from journey.report import render_report
from journey.runrecord import OPS_RUNS_DDL
from policy.config import canonical_json, load_config
from policy.migrate import ensure_tables
from policy.reference import load_reference_csv
from tests.conftest import SAMPLE_DIR, copy_db, query

NULL_REPLICATES = 200
EFFECT_REPLICATES = 100
UNITS_PER_REPLICATE = 500  # acting customers per replicate; 10% of them are held out (about 50 controls)
TRUE_EFFECT = -0.03  # injected into the treated customers' risk change
NOISE_SD = 0.05  # sd of the risk change
SUCCESS_DROP = 0.05  # ref_experiment_parameters.success_min_risk_drop
BASELINE_DATE, FOLLOWUP_DATE, LATER_DATE = "2025-01-05", "2025-01-15", "2025-01-19"
# the config the experiment's decisions were made with (policy/policy.yml), stored in policy.configs
CONFIG = load_config(reference=load_reference_csv())
# the staging views of the policy's and ops tables too: built before the log was written, they read nothing
IMPACT_MODELS = [
    "--select",
    "stg_policy__decision_log",
    "stg_policy__configs",
    "stg_ops__runs",
    "path:models/intermediate/impact",
    "path:models/marts/impact",
]


def _binomial_band(trials: int, rate: float, sds: float = 3.5) -> tuple[float, float]:
    mean, sd = trials * rate, math.sqrt(trials * rate * (1 - rate))
    return mean - sds * sd, mean + sds * sd


# --------------------------------------------------------------------------------------------- the sample


def test_the_holdout_share_is_declared_only_in_the_policy_config() -> None:
    """holdout.share of policy/policy.yml is its one declaration: no reference seed repeats it (a parameter or a
    column named like it; ref_experiment_parameters held a copy, kept equal by a test). The impact marts take
    the share of the config each decision was made with from policy.configs."""
    seeds = sorted((PROJECT_DIR / "seeds").glob("ref_*.csv"))
    assert any(seed.name == "ref_experiment_parameters.csv" for seed in seeds)
    for seed in seeds:
        with seed.open(newline="", encoding="utf-8") as handle:
            header, *rows = list(csv.reader(handle))
        names = [name.lower() for name in header + [row[0] for row in rows if row]]
        assert not [name for name in names if "holdout" in name and "share" in name], seed.name


def test_sample_says_the_data_are_too_few(sample_db: Path) -> None:
    rows = query(
        sample_db,
        "select method, metric, status, effect, ci_lower, ci_upper, p_value, mde, conclusion"
        " from marts.treatment_effects where grouping_name = 'overall'",
    )
    assert {(method, metric) for method, metric, *_ in rows} == {
        (method, metric)
        for method in ("randomized", "observational")
        for metric in ("churn_risk_delta", "success", "csat_delta", "revenue_saved")
    }
    for _, _, status, effect, lower, upper, p_value, mde, conclusion in rows:
        assert status == "insufficient_data"
        assert (effect, lower, upper, p_value, mde) == (None, None, None, None, None)
        assert conclusion.startswith("insufficient data")
        assert "no effect is estimated" in conclusion
    gates = dict(query(sample_db, "select gate, status from marts.rollout_gates"))
    assert gates["success_rate"] == "pass"  # 4/6 >= 0.6
    assert gates["override_rate"] == "pass"  # 1/8 <= 0.2
    assert gates["churn_risk_no_harm"] == "not measured"
    assert gates["run_failure_rate"] == "not measured"  # no ops.runs in a plain dbt build
    # no policy has run: no customers, and no config, so no holdout share to test against
    assert query(
        sample_db, "select customers, expected_holdout_share, status from marts.holdout_sample_ratio"
    ) == [(0, None, "too few customers"), (0, None, "too few customers")]


# ------------------------------------------------------------------------------- a generated experiment


def _uniform(salt: str) -> str:
    """A deterministic pseudo-random number in (0, 1) per customer."""
    return (
        f"((('0x' || substr(md5(customer_id || '{salt}'), 1, 13))::bigint)::double + 0.5) / 4503599627370496"
    )


def _normal(salt: str) -> str:
    """Box-Muller: a standard normal deviate per customer."""
    return f"sqrt(-2 * ln({_uniform(salt + 'a')})) * cos(2 * pi() * {_uniform(salt + 'b')})"


def _populate(db: Path) -> None:
    share = CONFIG.holdout.share
    with duckdb.connect(str(db)) as con:
        ensure_tables(con)
        con.execute(
            "insert into policy.configs by name select ? as config_hash, ? as policy_version, ? as config, "
            "'run-config' as run_id, timestamp '2025-01-05' as decided_at",
            [CONFIG.config_hash, CONFIG.policy_version, canonical_json(CONFIG)],
        )
        # every replicate decided with the shipped config (srm_5050 draws its holdout at 0.5 regardless: broken)
        con.execute(f"""
            create temp table experiment as
            with replicates as (
                select 'null_' || lpad(i::varchar, 3, '0') as policy_version, 0.0 as effect, {share} as share,
                    'monitor_only' as recommended_action
                from range({NULL_REPLICATES}) as t(i)
                union all
                select 'effect_' || lpad(i::varchar, 3, '0'), {TRUE_EFFECT}, {share}, 'proactive_outreach'
                from range({EFFECT_REPLICATES}) as t(i)
                union all
                select 'srm_5050', 0.0, 0.5, 'renewal_health_check'
            ),
            customers as (
                select
                    replicates.*,
                    replicates.policy_version || '-' || lpad(n::varchar, 5, '0') as customer_id
                from replicates, range({UNITS_PER_REPLICATE} + {UNITS_PER_REPLICATE} // 4) as t(n)
            ),
            drawn as (
                select
                    *,
                    row_number() over (partition by policy_version order by customer_id) <= {UNITS_PER_REPLICATE}
                        as would_act,
                    {_uniform("holdout")} < share as is_holdout,
                    0.5 + 0.1 * {_normal("baseline")} as baseline_score,
                    {NOISE_SD} * {_normal("noise")} as noise
                from customers
            )
            select
                *,
                baseline_score + noise + case when would_act and not is_holdout then effect else 0 end
                    as followup_score
            from drawn
        """)
        # every customer evaluated on the baseline date; holdout customers who would act are evaluated again later
        # (a second eligible decision must not make a second unit); two skipped rows on the later date
        con.execute(f"""
            insert into policy.decision_log by name
            select
                'L' || customer_id || day as decision_log_id,
                'run-' || day as run_id,
                cast(day as timestamp) as decided_at,
                cast(day as date) as as_of_date,
                customer_id,
                case
                    when skipped then 'skipped_bad_data'
                    when is_holdout then 'holdout'
                    when would_act then 'act'
                    else 'monitor'
                end as decision,
                case when skipped then 'skipped_bad_data' when would_act then 'act' else 'monitor' end
                    as would_be_decision,
                case when would_act then recommended_action else 'monitor_only' end as recommended_action,
                case when would_act and not is_holdout and not skipped then 'I' || customer_id || day end
                    as intervention_id,
                'D' || customer_id || day as decision_id,
                policy_version,
                '{CONFIG.config_hash}' as config_hash,
                is_holdout,
                'passed' as dq_gate
            from (
                select *, '{BASELINE_DATE}' as day, false as skipped from experiment
                union all
                select *, '{LATER_DATE}' as day, false as skipped from experiment
                where is_holdout and would_act and policy_version = 'null_000'
                union all
                select *, '{LATER_DATE}' as day, true as skipped from experiment
                where not is_holdout and would_act and policy_version = 'null_001'
                    and customer_id <= 'null_001-00001'
            )
        """)
        con.execute(f"""
            insert into marts.customer_risk_history by name
            select customer_id, baseline_score as risk_score, 'high' as risk_band,
                cast('{BASELINE_DATE}' as date) as as_of_date
            from experiment
            union all
            select customer_id, followup_score as risk_score, 'high' as risk_band,
                cast('{FOLLOWUP_DATE}' as date) as as_of_date
            from experiment
        """)
        con.execute(OPS_RUNS_DDL)
        con.execute("""
            insert into ops.runs (run_id, started_at, status, exit_code, row_counts)
            select
                'r' || lpad(i::varchar, 2, '0'),
                timestamp '2025-01-01' + to_days(cast(i as integer)),
                case when i = 7 then 'failed' else 'ok' end,
                case when i = 7 then 4 else 0 end,
                case
                    when i = 7 then '{}'
                    else json_object('data_quality', json_object('errors', case when i = 19 then 2 else 0 end))
                end
            from range(20) as t(i)
        """)


@pytest.fixture(scope="module")
def impact_db(sample_db: Path, tmp_path_factory: pytest.TempPathFactory, dbt_target: Path) -> Path:
    """A copy of the session's sample database with the generated experiment, the impact models rebuilt."""
    db = copy_db(sample_db, tmp_path_factory.mktemp("impact"))
    _populate(db)
    result = run_dbt(
        ["build", *IMPACT_MODELS], db=db, input_dir=SAMPLE_DIR, target_path=dbt_target, echo=False
    )
    assert result.ok, result.output[-4000:]
    return db


def _by_version(db: Path, metric: str, prefix: str) -> list[tuple]:
    return query(
        db,
        "select grouping_value, effect, ci_lower, ci_upper, p_value, status, n_treated, n_control"
        " from marts.treatment_effects"
        f" where method = 'randomized' and metric = '{metric}' and grouping_name = 'policy_version'"
        f" and grouping_value like '{prefix}%' order by grouping_value",
    )


def test_statistical_constants(impact_db: Path) -> None:
    z_confidence, z_power = query(
        impact_db, "select z_confidence, z_power from intermediate.int_impact_parameters"
    )[0]
    assert z_confidence == pytest.approx(NormalDist().inv_cdf(0.975), abs=1e-7)
    assert z_power == pytest.approx(NormalDist().inv_cdf(0.8), abs=1e-7)


@pytest.mark.parametrize("metric", ["churn_risk_delta", "success"])
def test_false_positive_rate_without_effect_is_near_five_percent(impact_db: Path, metric: str) -> None:
    rows = _by_version(impact_db, "churn_risk_delta" if metric == "churn_risk_delta" else metric, "null_")
    assert len(rows) == NULL_REPLICATES
    assert all(status != "insufficient_data" for *_, status, _, _ in rows)
    false_positives = sum(1 for row in rows if row[4] < 0.05)
    covers_zero = sum(1 for row in rows if row[2] <= 0 <= row[3])
    low, high = _binomial_band(NULL_REPLICATES, 0.05)
    print(f"{metric}: {false_positives}/{NULL_REPLICATES} false positives, {covers_zero} intervals cover 0")
    assert low <= false_positives <= high
    assert low <= NULL_REPLICATES - covers_zero <= high


def test_interval_covers_the_true_effect(impact_db: Path) -> None:
    rows = _by_version(impact_db, "churn_risk_delta", "effect_")
    assert len(rows) == EFFECT_REPLICATES
    covered = sum(1 for _, _, lower, upper, *_ in rows if lower <= TRUE_EFFECT <= upper)
    low, _ = _binomial_band(EFFECT_REPLICATES, 0.95)
    print(f"churn_risk_delta: {covered}/{EFFECT_REPLICATES} intervals cover {TRUE_EFFECT}")
    assert covered >= low
    # pooled over the 100 replicates (the action they share) the estimate is tight and still covers the truth
    lower, upper, status, n_treated, n_control = query(
        impact_db,
        "select ci_lower, ci_upper, status, n_treated, n_control from marts.treatment_effects"
        " where method = 'randomized' and metric = 'churn_risk_delta' and grouping_name = 'action'"
        " and grouping_value = 'proactive_outreach'",
    )[0]
    assert lower <= TRUE_EFFECT <= upper
    assert upper - lower < 0.01
    assert status == "significant_improvement"
    assert n_treated + n_control == EFFECT_REPLICATES * UNITS_PER_REPLICATE


def test_proportion_interval_covers_the_true_difference(impact_db: Path) -> None:
    normal = NormalDist()
    true_difference = normal.cdf((-SUCCESS_DROP - TRUE_EFFECT) / NOISE_SD) - normal.cdf(
        -SUCCESS_DROP / NOISE_SD
    )
    rows = _by_version(impact_db, "success", "effect_")
    covered = sum(1 for _, _, lower, upper, *_ in rows if lower <= true_difference <= upper)
    low, _ = _binomial_band(EFFECT_REPLICATES, 0.95)
    print(f"success: {covered}/{EFFECT_REPLICATES} intervals cover {true_difference:.4f}")
    assert covered >= low


def test_newcombe_interval_matches_a_reference_computation(impact_db: Path) -> None:
    n_t, n_c, mean_t, mean_c, lower, upper = query(
        impact_db,
        "select n_treated, n_control, mean_treated, mean_control, ci_lower, ci_upper from marts.treatment_effects"
        " where method = 'randomized' and metric = 'success' and grouping_value = 'effect_000'",
    )[0]
    z = NormalDist().inv_cdf(0.975)

    def wilson(p: float, n: int) -> tuple[float, float]:
        centre, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)

    (l_t, u_t), (l_c, u_c) = wilson(mean_t, n_t), wilson(mean_c, n_c)
    difference = mean_t - mean_c
    assert lower == pytest.approx(difference - math.hypot(mean_t - l_t, u_c - mean_c), abs=1e-6)
    assert upper == pytest.approx(difference + math.hypot(u_t - mean_t, mean_c - l_c), abs=1e-6)


def test_latest_decisions_are_kept_incrementally_like_a_full_rebuild(
    impact_db: Path, tmp_path: Path, dbt_target: Path
) -> None:
    """int_impact_decision_log__latest recomputes only the decision dates that got log rows since its last
    build, and int_impact_first_decisions only the groups found on them. After a rerun that supersedes a
    decision (same decision_id, later decided_at: act decisions that become monitor, so their eligible groups
    lose their first decision) and a run for a new date, the incremental builds equal --full-refresh ones, and
    the newer row won."""
    incremental = copy_db(impact_db, tmp_path / "incremental")
    with duckdb.connect(str(incremental)) as con:
        con.execute(f"""
            insert into policy.decision_log by name
            select
                'L2' || customer_id as decision_log_id, 'rerun' as run_id,
                cast('2025-01-21 06:00:00' as timestamp) as decided_at, as_of_date, customer_id,
                'monitor' as decision, 'monitor' as would_be_decision, 'monitor_only' as recommended_action,
                decision_id, policy_version, is_holdout, 'passed' as dq_gate
            from policy.decision_log
            where policy_version = 'null_002' and as_of_date = '{BASELINE_DATE}' and decision = 'act'
            union all
            select
                'L3' || customer_id, 'next-day', cast('2025-01-21 07:00:00' as timestamp),
                cast('{FOLLOWUP_DATE}' as date), customer_id, 'monitor', 'monitor', 'monitor_only',
                'D3' || customer_id, policy_version, is_holdout, 'passed'
            from policy.decision_log
            where policy_version = 'null_003' and as_of_date = '{BASELINE_DATE}'
        """)
        # the superseded customers act on the next day under the same config: that is their first now
        con.execute(f"""
            insert into policy.decision_log by name
            select
                'L4' || customer_id as decision_log_id, 'next-day-act' as run_id,
                cast('2025-01-21 07:00:00' as timestamp) as decided_at, cast('{FOLLOWUP_DATE}' as date) as as_of_date,
                customer_id, 'act' as decision, 'act' as would_be_decision, recommended_action,
                'D4' || customer_id as decision_id, policy_version, config_hash, is_holdout, 'passed' as dq_gate
            from policy.decision_log
            where policy_version = 'null_002' and as_of_date = '{BASELINE_DATE}' and decision = 'act'
        """)
        superseded = con.execute(
            "select count(*) from policy.decision_log where run_id = 'rerun'"
        ).fetchone()[0]
    assert superseded > 0
    full = copy_db(incremental, tmp_path / "full")
    model = [
        "-s",
        "stg_policy__decision_log",
        "int_impact_decision_log__latest",
        "int_impact_first_decisions",
        "--exclude",
        "test_type:unit",
    ]
    for db, extra in ((incremental, []), (full, ["--full-refresh"])):
        result = run_dbt(
            ["build", *model, *extra],
            db=db,
            input_dir=SAMPLE_DIR,
            target_path=dbt_target,
            echo=False,
        )
        assert result.ok, result.output[-4000:]
    latest = "select * from intermediate.int_impact_decision_log__latest order by all"
    assert query(incremental, latest) == query(full, latest)
    firsts = "select * exclude (folded_decided_at) from intermediate.int_impact_first_decisions order by all"
    assert query(incremental, firsts) == query(full, firsts)
    watermark = "select max(folded_decided_at) from intermediate.int_impact_first_decisions"
    assert query(incremental, watermark) == query(full, watermark)
    # the superseded act decisions' groups now start on a later date, or are gone
    assert query(
        incremental,
        "select count(*) from intermediate.int_impact_first_decisions as firsts"
        " inner join policy.decision_log as log on firsts.decision_id = log.decision_id where log.run_id = 'rerun'"
        " and firsts.is_eligible",
    ) == [(0,)]
    assert query(
        incremental,
        "select count(*) from intermediate.int_impact_first_decisions where decision_id like 'D4%'",
    ) == [(superseded,)]
    assert query(
        incremental,
        "select run_id, count(*) from intermediate.int_impact_decision_log__latest"
        " where run_id in ('rerun', 'next-day') group by 1 order by 1",
    ) == [("next-day", UNITS_PER_REPLICATE + UNITS_PER_REPLICATE // 4), ("rerun", superseded)]


def test_one_unit_per_customer_and_only_would_act_decisions(impact_db: Path) -> None:
    units, holdouts = query(
        impact_db,
        "select count(*), count(*) filter (where arm = 'control') from intermediate.int_impact_units"
        " where method = 'randomized' and policy_version = 'null_000'",
    )[0]
    assert units == UNITS_PER_REPLICATE
    assert 20 <= holdouts <= 80


def test_sample_ratio_mismatch_flags_a_50_50_split(impact_db: Path) -> None:
    flagged = dict(
        query(
            impact_db,
            "select grouping_value, is_sample_ratio_mismatch from marts.holdout_sample_ratio"
            " where population = 'eligible' and grouping_name = 'policy_version'",
        )
    )
    assert flagged["srm_5050"] is True
    assert sum(1 for version, flag in flagged.items() if flag and version != "srm_5050") <= 2
    statuses = dict(
        query(
            impact_db,
            "select metric, status from marts.treatment_effects"
            " where method = 'randomized' and grouping_value = 'srm_5050'",
        )
    )
    assert statuses["churn_risk_delta"] == "sample_ratio_mismatch"
    expected_share, observed_share, p_value = query(
        impact_db,
        "select expected_holdout_share, observed_holdout_share, p_value from marts.holdout_sample_ratio"
        " where population = 'evaluated' and grouping_value = 'srm_5050'",
    )[0]
    assert expected_share == pytest.approx(CONFIG.holdout.share)
    assert observed_share > 0.4 and p_value < 1e-6


def test_outcomes_recorded_only_for_interventions_are_not_measurable(impact_db: Path) -> None:
    rows = query(
        impact_db,
        "select status, effect, n_control from marts.treatment_effects"
        " where method = 'randomized' and metric in ('csat_delta', 'revenue_saved')",
    )
    assert rows and all(row == ("not_measurable", None, 0) for row in rows)


def test_rollout_gates(impact_db: Path) -> None:
    gates = {
        gate: (measured, passed, status)
        for gate, measured, passed, status in query(
            impact_db, "select gate, measured_value, passed, status from marts.rollout_gates"
        )
    }
    assert gates["run_failure_rate"] == (pytest.approx(1 / 20), True, "pass")
    assert gates["data_quality_errors"] == (2.0, False, "fail")  # the latest run that recorded dq totals
    assert gates["policy_skipped_bad_data"][2] == "fail"  # 2 skipped of the later date's decisions
    assert gates["holdout_split"][1] is False  # srm_5050 is flagged
    assert gates["churn_risk_no_harm"][2] == "pass"  # the pooled effect lowers churn risk
    go_no_go = "select bool_and(passed) and count(*) = count(passed) from marts.rollout_gates"
    assert query(impact_db, go_no_go) == [(False,)]


def test_report_shows_the_impact_section(impact_db: Path, sample_db: Path, tmp_path: Path) -> None:
    html = render_report(impact_db, tmp_path / "impact").read_text()
    section = html[html.index('id="impact"') : html.index('id="dq-heading"')]
    assert "Effect on churn risk delta" in section
    assert section.count('class="error-bar"') >= 8  # estimated effects drawn with their intervals
    assert "srm_5050" in section and ">mismatch<" in section  # the broken split is listed
    assert "significant improvement" in section and ">no-go<" in section
    sample = render_report(sample_db, tmp_path / "sample").read_text()
    sample_section = sample[sample.index('id="impact"') : sample.index('id="dq-heading"')]
    assert "Too few data to conclude anything" in sample_section
    assert "error-bar" not in sample_section
