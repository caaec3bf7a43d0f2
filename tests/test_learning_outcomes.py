"""The learning marts that judge outcomes (models/marts/learning, docs/learning-outcomes.md) on the bundled sample.

The sample has 8 interventions and 6 recorded outcomes: every mart exists, its rows are there, and it says
'insufficient data' where the configured minimums (seeds/ref_learning_parameters.csv) are not met. The expected
counts are derived here from the feeds (seeds/*.json) and the reference CSVs, not copied from the marts. After a
`journey run` the setting in force is policy/policy.yml's, as the policy recorded it in policy.configs.
"""

from __future__ import annotations

import csv
import json
import math
from collections import Counter
from pathlib import Path

import pytest
import yaml

from journey.project import PROJECT_DIR
from tests.conftest import SampleRun, load_sample, query

SEEDS = PROJECT_DIR / "seeds"


def _reference(name: str) -> list[dict[str, str]]:
    with (SEEDS / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


PARAMETERS = {row["parameter"]: float(row["value"]) for row in _reference("ref_learning_parameters")}
KPI_PARAMETERS = {row["parameter"]: float(row["value"]) for row in _reference("ref_kpi_parameters")}
ACTIONS = {row["recommended_action"]: float(row["unit_cost"]) for row in _reference("ref_actions")}
SUCCESS = {row["outcome"]: row["is_success"] == "true" for row in _reference("ref_outcome_types")}
BANDS = [
    row["risk_band"] for row in sorted(_reference("ref_risk_bands"), key=lambda row: int(row["band_order"]))
]


def _grid(value: float, width: float) -> int:
    """floor(value / width) on the decimal grid (as macros/learning.sql: rounded to 9 decimals first)."""
    return math.floor(round(value / width, 9))


def _bin_label(confidence: float) -> str:
    width = PARAMETERS["confidence_bin_width"]
    bins = math.ceil(round(1 / width, 9))
    index = min(_grid(confidence, width), bins - 1)
    return f"{round(index * width, 9)}-{round(min(1.0, (index + 1) * width), 9)}"


def _recorded() -> list[dict]:
    """The sample's interventions that have an outcome, with it (one outcome per intervention in the sample)."""
    outcomes = {outcome["intervention_id"]: outcome for outcome in load_sample("outcomes")}
    recorded = []
    for intervention in load_sample("interventions"):
        outcome = outcomes.get(intervention["intervention_id"])
        if outcome is not None:
            recorded.append({**intervention, **outcome, "is_success": SUCCESS[outcome["outcome"]]})
    return recorded


def _net_value(row: dict) -> float:
    cost = ACTIONS[row["recommended_action"]]
    if row["requires_human_approval"]:
        cost += KPI_PARAMETERS["human_review_cost"]
    return (row["estimated_revenue_saved"] if row["is_success"] else 0) - cost


def test_the_sample_is_below_every_minimum() -> None:
    """The premise of the sample tests: fewer recorded outcomes than any minimum, so nothing is 'measured'."""
    assert len(_recorded()) == 6
    assert (
        len(_recorded()) < PARAMETERS["min_outcomes_per_bin"] <= PARAMETERS["min_outcomes_for_recommendation"]
    )


def test_calibration_counts_per_bin_and_summary(sample_db: Path) -> None:
    recorded = _recorded()
    rows = query(
        sample_db,
        "select origin, confidence_bin, recorded_outcomes, successes, status, brier_score,"
        " expected_calibration_error, conclusion from marts.confidence_calibration"
        " where as_of_date = (select max(as_of_date) from marts.confidence_calibration)",
    )
    bins = math.ceil(round(1 / PARAMETERS["confidence_bin_width"], 9))
    assert len(rows) == 3 * (bins + 1)  # feed, policy, all: every bin and a summary row
    assert {status for *_, status, _, _, _ in rows} == {"insufficient data"}

    per_bin = Counter(_bin_label(row["confidence"]) for row in recorded)
    successes = Counter(_bin_label(row["confidence"]) for row in recorded if row["is_success"])
    by_key = {(origin, label): row for origin, label, *row in rows}
    for origin in ("feed", "all"):
        for label in {label for _, label in by_key if label != "all"}:
            assert by_key[(origin, label)][:2] == [per_bin[label], successes[label]], (origin, label)
    assert all(by_key[("policy", label)][0] == 0 for _, label in by_key)  # no policy run: no policy outcomes
    assert per_bin == {
        "0.4-0.5": 1,
        "0.5-0.6": 2,
        "0.6-0.7": 1,
        "0.7-0.8": 1,
        "0.8-0.9": 1,
    }  # 0.6 is in 0.6-0.7

    brier = sum((row["confidence"] - row["is_success"]) ** 2 for row in recorded) / len(recorded)
    ece = sum(
        abs(
            sum(row["is_success"] for row in recorded if _bin_label(row["confidence"]) == label)
            - sum(row["confidence"] for row in recorded if _bin_label(row["confidence"]) == label)
        )
        for label in per_bin
    ) / len(recorded)
    recorded_all, successes_all, _, brier_all, ece_all, conclusion = by_key[("all", "all")]
    assert (recorded_all, successes_all) == (6, 4)
    assert brier_all == pytest.approx(brier) and ece_all == pytest.approx(ece)
    assert conclusion.startswith("insufficient data: 6 recorded outcomes")
    assert (
        by_key[("policy", "all")][0] == 0 and by_key[("policy", "all")][3] is None
    )  # no Brier without outcomes


def test_threshold_recommendations_without_a_policy_run(sample_db: Path) -> None:
    rows = query(
        sample_db,
        "select parameter, candidate_value, setting_in_force, is_in_force, is_best, recorded_outcomes,"
        " unknown_band_outcomes, expected_net_value, status, conclusion, is_observational"
        " from marts.threshold_recommendations order by parameter, candidate_order",
    )
    floors = [row for row in rows if row[0] == "confidence_floor"]
    bands = [row for row in rows if row[0] == "act_min_band"]
    step = PARAMETERS["floor_candidate_step"]
    assert [float(row[1]) for row in floors] == [round(k * step, 9) for k in range(_grid(1, step) + 1)]
    assert [row[1] for row in bands] == BANDS
    for _, _, in_force, is_in_force, is_best, _, _, _, status, conclusion, is_observational in rows:
        # plain dbt build: no policy config yet, so no setting in force, and too few outcomes for a best
        assert (in_force, is_in_force, is_best, status, is_observational) == (
            None,
            False,
            False,
            "insufficient data",
            True,
        )
        assert conclusion.startswith("no policy config recorded yet")
        assert "insufficient data" in conclusion and "the policy is not changed" in conclusion

    recorded = _recorded()
    for _, value, _, _, _, kept, _, net_value, *_ in floors:
        expected = [row for row in recorded if row["confidence"] >= float(value)]
        assert kept == len(expected), value
        assert net_value == pytest.approx(sum(_net_value(row) for row in expected)), value
    assert floors[0][7] == pytest.approx(4235)  # 2000 + 500 + 1500 + 800 saved - 565 cost, the KPI net value
    # the feed interventions predate the sample's only scored date: no band is known, all six are left out
    assert {(row[5], row[6]) for row in bands} == {(0, len(recorded))}
    assert f"{len(recorded)} recorded outcomes have no known risk band" in bands[0][9]


def test_override_analysis_on_the_sample(sample_db: Path) -> None:
    interventions = load_sample("interventions")
    recorded = _recorded()
    rows = {
        (name, value): rest
        for name, value, *rest in query(
            sample_db,
            "select grouping_name, grouping_value, interventions, recorded_outcomes, human_overrides,"
            " approval_required, policy_interventions, rejection_rate, status from marts.override_analysis",
        )
    }
    overrides = sum(row["human_override"] for row in recorded)
    approvals = sum(row["requires_human_approval"] for row in interventions)
    assert rows[("all", "all")] == [
        len(interventions),
        len(recorded),
        overrides,
        approvals,
        0,
        None,
        "insufficient data",
    ]
    assert (overrides, approvals) == (1, 3)  # DESIGN.md: override_rate 1/8 of interventions, approval 3/8
    assert {value for name, value in rows if name == "recommended_action"} == set(ACTIONS)
    per_action = Counter(row["recommended_action"] for row in interventions)
    assert {value: rest[0] for (name, value), rest in rows.items() if name == "recommended_action"} == {
        action: per_action[action] for action in ACTIONS
    }
    # feed interventions carry no approval reason
    assert rows[("approval_reason", "not recorded")][0] == approvals
    assert rows[("approval_reason", "not required")][0] == len(interventions) - approvals
    assert {rest[-1] for rest in rows.values()} == {"insufficient data"}


def test_action_performance_on_the_sample(sample_db: Path) -> None:
    recorded = _recorded()
    rows = {
        action: rest
        for action, *rest in query(
            sample_db,
            "select recommended_action, interventions, recorded_outcomes, successes, net_value,"
            " is_worse_than_nothing, effect, status from marts.action_performance",
        )
    }
    assert set(rows) == set(ACTIONS)
    per_action = Counter(row["recommended_action"] for row in load_sample("interventions"))
    for action, (interventions, outcomes, successes, net_value, is_worse, effect, status) in rows.items():
        mine = [row for row in recorded if row["recommended_action"] == action]
        assert (interventions, outcomes, successes) == (
            per_action[action],
            len(mine),
            sum(r["is_success"] for r in mine),
        )
        assert net_value == pytest.approx(sum(_net_value(row) for row in mine))
        # one outcome per action at most, no treatment effect: nothing is flagged, nothing is measured
        assert (is_worse, effect, status) == (False, None, "insufficient data")


# ------------------------------------------------------------------------------- after a journey run


@pytest.fixture(scope="module")
def journey_run(sample_run: SampleRun) -> Path:
    """The serving database of the sample's `journey run` (the session's, tests/conftest.py; read only)."""
    return sample_run.db


def test_the_setting_in_force_after_a_run_is_the_policy_files(journey_run: Path) -> None:
    policy = yaml.safe_load((PROJECT_DIR / "policy" / "policy.yml").read_text())
    floor, band = policy["confidence"]["floor"], policy["thresholds"]["act_min_band"]
    ((config,),) = query(journey_run, "select config from policy.configs order by decided_at desc limit 1")
    recorded = json.loads(config)
    assert (recorded["confidence"]["floor"], recorded["act_min_band"]) == (floor, band)

    in_force = query(
        journey_run,
        "select parameter, candidate_value, setting_in_force from marts.threshold_recommendations"
        " where is_in_force order by parameter",
    )
    assert [(parameter, value) for parameter, value, _ in in_force] == [
        ("act_min_band", band),
        ("confidence_floor", str(floor)),
    ]
    settings = set(
        query(journey_run, "select parameter, setting_in_force from marts.threshold_recommendations")
    )
    assert settings == {("act_min_band", band), ("confidence_floor", str(floor))}
    conclusions = {
        conclusion
        for (conclusion,) in query(journey_run, "select conclusion from marts.threshold_recommendations")
    }
    assert not any("no policy config" in conclusion for conclusion in conclusions)


def test_the_run_builds_the_marts_after_the_policy(journey_run: Path) -> None:
    ((policy_interventions,),) = query(journey_run, "select count(*) from policy.interventions")
    assert policy_interventions >= 1
    rows = dict(
        query(
            journey_run,
            "select grouping_name || ':' || grouping_value, policy_interventions from marts.override_analysis",
        )
    )
    assert rows["all:all"] == policy_interventions
    # the policy's approval reasons reach the mart, one row per reason
    reasons = Counter(
        reason
        for (reasons,) in query(
            journey_run, "select approval_reasons from policy.decision_log where intervention_id is not null"
        )
        for reason in reasons
    )
    assert reasons and all(rows[f"approval_reason:{reason}"] == count for reason, count in reasons.items())
    # the policy's new interventions have no outcome yet: the policy origin's bins stay empty
    ((policy_outcomes, dates),) = query(
        journey_run,
        "select sum(recorded_outcomes), count(distinct as_of_date) from marts.confidence_calibration"
        " where origin = 'policy'",
    )
    assert (policy_outcomes, dates) == (0, 1)
