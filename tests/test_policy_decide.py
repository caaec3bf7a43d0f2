"""Unit and property tests of the pure policy decision core (policy/config.py, policy/decide.py).

Tiny hand-built Arrow tables, one rule per test; hypothesis checks the invariants on generated tables.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policy.config import DEFAULT_CONFIG_PATH, PolicyConfig, PolicyConfigError, load_config, parse_config
from policy.decide import (
    APPROVAL_REASONS,
    DECISION_INPUT_SCHEMA,
    DECISION_OUTPUT_SCHEMA,
    DECISIONS,
    decide,
)
from policy.hashing import decision_id_of, intervention_id_of, is_holdout_of, row_hashes

AS_OF = dt.date(2025, 1, 20)
RAW_CONFIG: dict[str, Any] = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))


def make_config(**overrides: Any) -> PolicyConfig:
    """The shipped config with dotted-key overrides, e.g. make_config(**{"holdout.share": 0.0})."""
    raw = copy.deepcopy(RAW_CONFIG)
    for dotted, value in overrides.items():
        node = raw
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node[key]
        node[leaf] = value
    return parse_config(raw, source="test config")


SHIPPED = load_config()
NO_HOLDOUT = make_config(**{"holdout.share": 0.0})


def make_row(**overrides: Any) -> dict[str, Any]:
    """A critical-risk onboarding customer with two strong negative automated signals, no history."""
    row: dict[str, Any] = {
        "customer_id": "C001",
        "as_of_date": AS_OF,
        "segment": "smb",
        "account_value": 12000.0,
        "journey_stage": "onboarding",
        "is_stalled": True,
        "risk_score": 0.78,
        "risk_band": "critical",
        "is_high_value": False,
        "signal_ids": ["S001", "S002"],
        "negative_signal_count": 2,
        "positive_signal_count": 0,
        "negative_pressure": 1.4,
        "positive_pressure": 0.0,
        "max_signal_strength": 0.82,
        "has_conflicting_signals": False,
        "automated_signal_share": 1.0,
        "has_incomplete_data": False,
        "open_intervention_count": 0,
        "last_intervention_at": None,
        "interventions_last_30d": 0,
    }
    row.update(overrides)
    return row


def table(*rows: dict[str, Any]) -> pa.Table:
    return pa.Table.from_pylist(list(rows), schema=DECISION_INPUT_SCHEMA)


def decide_one(config: PolicyConfig = NO_HOLDOUT, **overrides: Any) -> dict[str, Any]:
    return decide(table(make_row(**overrides)), config).to_pylist()[0]


def holdout_id(config: PolicyConfig, inside: bool = True) -> str:
    """A customer id that the config's hash puts inside (or outside) the holdout."""
    for i in range(10_000):
        cid = f"H{i:05d}"
        if is_holdout_of(cid, config.holdout.salt, config.holdout.share) == inside:
            return cid
    raise AssertionError("no such id in 10,000 tries")


# --- config ----------------------------------------------------------------------------------------------


def test_shipped_config_loads_and_has_a_stable_hash(tmp_path: Path) -> None:
    assert SHIPPED.policy_version == "2026.11.2"
    assert re.fullmatch(r"[0-9a-f]{64}", SHIPPED.config_hash)
    assert load_config().config_hash == SHIPPED.config_hash
    # comments and formatting do not change the hash; values do
    reformatted = tmp_path / "policy.yml"
    reformatted.write_text("# a comment\n" + yaml.safe_dump(RAW_CONFIG, sort_keys=True), encoding="utf-8")
    assert load_config(reformatted).config_hash == SHIPPED.config_hash
    assert make_config(**{"suppression.cooldown_days": 15}).config_hash != SHIPPED.config_hash
    assert SHIPPED.confidence.floor == 0.4
    assert set(SHIPPED.catalog) == set(SHIPPED.stages)
    assert SHIPPED.costs.per_action["monitor_only"] == 0


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"colour": "red"}, "colour"),
        ({"policy_version": 2026.11}, "policy_version"),
        ({"catalog.onboarding.critical": "send_flowers"}, "catalog.onboarding.critical"),
        ({"confidence.weights.signal_strength": 0.9}, "confidence.weights"),
        ({"confidence.weights.signal_strength": "high"}, "confidence.weights.signal_strength"),
        ({"confidence.floor": 1.5}, "confidence.floor"),
        ({"holdout.share": 0.9}, "holdout.share"),
        ({"holdout.salt": ""}, "holdout.salt"),
        ({"suppression.cooldown_days": 3.5}, "suppression.cooldown_days"),
        (
            {"approval.high_touch_actions_require_approval": "yes"},
            "approval.high_touch_actions_require_approval",
        ),
        ({"thresholds.act_min_band": "severe"}, "thresholds.act_min_band"),
        # shared values live in the reference seeds, not in policy.yml
        ({"high_touch_actions": ["proactive_outreach"]}, "high_touch_actions"),
        ({"costs": {"per_human_review": 40}}, "costs"),
        ({"confidence.source_weights": {"automated": 1.0, "manual": 0.8}}, "confidence.source_weights"),
        # ... and so do the bands and stages that shape the catalog
        ({"risk_bands": ["low", "medium", "high"]}, "risk_bands: not set in the policy config"),
        ({"stages": ["engagement", "onboarding"]}, "stages: not set in the policy config"),
    ],
)
def test_invalid_config_names_the_bad_key(overrides: dict[str, Any], key: str) -> None:
    with pytest.raises(PolicyConfigError) as excinfo:
        make_config(**overrides)
    assert f"{key}:" in str(excinfo.value)


def test_missing_catalog_cell_and_unreadable_files(tmp_path: Path) -> None:
    raw = copy.deepcopy(RAW_CONFIG)
    del raw["catalog"]["retention"]["high"]
    with pytest.raises(PolicyConfigError, match=r"catalog\.retention\.high: required key is missing"):
        parse_config(raw)
    with pytest.raises(PolicyConfigError, match="cannot read"):
        load_config(tmp_path / "nope.yml")
    broken = tmp_path / "broken.yml"
    broken.write_text("policy_version: [unclosed\n", encoding="utf-8")
    with pytest.raises(PolicyConfigError, match="not valid YAML"):
        load_config(broken)


# --- rules, one at a time --------------------------------------------------------------------------------


def test_act_uses_the_catalog_action_and_deterministic_ids() -> None:
    out = decide_one()
    assert out["decision"] == "act"
    assert out["recommended_action"] == "onboarding_specialist_call"  # onboarding x critical
    assert out["intervention_id"] == intervention_id_of("C001", AS_OF, NO_HOLDOUT.policy_version)
    assert re.fullmatch(r"P[0-9a-f]{16}", out["intervention_id"])
    assert out["decision_id"] == decision_id_of("C001", AS_OF, NO_HOLDOUT.policy_version)
    assert out["triggered_by_signals"] == ["S001", "S002"]
    assert out["policy_version"] == NO_HOLDOUT.policy_version
    assert out["config_hash"] == NO_HOLDOUT.config_hash
    for stage in NO_HOLDOUT.stages:
        assert (
            decide_one(journey_stage=stage, risk_band="high", risk_score=0.6)["recommended_action"]
            == (NO_HOLDOUT.catalog[stage]["high"])
        )


def test_reason_reads_like_the_contract_example() -> None:
    out = decide_one(account_value=120000.0, is_high_value=True)
    assert out["reason"] == (
        "risk 0.78 (critical) in onboarding, stalled; 2 negative signals; "
        "confidence 0.89 -> onboarding_specialist_call; approval: high value and high risk, high-touch action"
    )


def test_band_below_act_threshold_monitors() -> None:
    out = decide_one(risk_score=0.45, risk_band="medium")
    assert out["decision"] == "monitor"
    assert out["recommended_action"] == "monitor_only"
    assert out["intervention_id"] is None
    assert out["requires_human_approval"] is False
    assert "band below act threshold (high)" in out["reason"]


def test_no_signals_and_low_risk_gets_no_action_like_c003() -> None:
    out = decide_one(
        customer_id="C003",
        journey_stage="engagement",
        is_stalled=False,
        risk_score=0.1,
        risk_band="low",
        signal_ids=[],
        negative_signal_count=0,
        negative_pressure=0.0,
        max_signal_strength=None,
        automated_signal_share=None,
    )
    assert out["decision"] == "monitor"
    assert out["recommended_action"] == "monitor_only"
    assert out["confidence"] == 0.0
    assert out["triggered_by_signals"] == []
    assert out["reason"].startswith("risk 0.10 (low) in engagement; no signals")


def test_confidence_below_floor_means_monitor_only() -> None:
    out = decide_one(signal_ids=[], negative_signal_count=0, negative_pressure=0.0, max_signal_strength=None)
    assert out["decision"] == "act"
    assert out["confidence"] == 0.0
    assert out["recommended_action"] == "monitor_only"
    assert "confidence 0.00 < floor 0.40 -> monitor_only" in out["reason"]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, 0.6 * 0.82 + 0.4 * 1.0),  # strong, all negative, automated
        ({"automated_signal_share": 0.0}, (0.6 * 0.82 + 0.4) * 0.8),  # manual source weight
        ({"has_incomplete_data": True}, 0.6 * 0.82 + 0.4 - 0.15),
        (
            {"positive_signal_count": 1, "positive_pressure": 0.6, "has_conflicting_signals": True},
            0.6 * 0.82 + 0.4 * (0.8 / 2.0) - 0.15,
        ),
        # positives outweigh negatives: agreement 0, strength only (conflict flag given as false)
        ({"negative_pressure": 0.2, "positive_pressure": 0.8, "positive_signal_count": 1}, 0.6 * 0.82),
        ({"max_signal_strength": 0.1, "negative_pressure": 0.0, "has_incomplete_data": True}, 0.0),  # clipped
        ({"has_incomplete_data": None}, 0.6 * 0.82 + 0.4 - 0.15),  # unknown completeness counts as incomplete
    ],
)
def test_confidence_model(overrides: dict[str, Any], expected: float) -> None:
    assert decide_one(**overrides)["confidence"] == pytest.approx(round(expected, 4))


def test_approval_high_value_and_high_risk() -> None:
    # a non-high-touch action isolates the rule: engagement x high -> usage_review_checkin
    base = {"journey_stage": "engagement", "risk_band": "critical", "is_high_value": True}
    out = decide_one(**base, risk_score=0.71, account_value=50000.01)
    assert out["requires_human_approval"] is True
    assert "high_value_high_risk" in out["approval_reasons"]
    assert decide_one(**base, risk_score=0.70, account_value=90000.0)["approval_reasons"] == [
        "high_touch_action"
    ]  # 0.7 is not > 0.7 (engagement x critical is proactive_outreach: high touch)
    out = decide_one(**{**base, "risk_band": "high"}, risk_score=0.69, account_value=90000.0)
    assert out["recommended_action"] == "usage_review_checkin"
    assert out["requires_human_approval"] is False
    out = decide_one(**{**base, "is_high_value": False}, risk_score=0.9, account_value=50000.0)
    assert "high_value_high_risk" not in out["approval_reasons"]  # 50,000 is not > 50,000


def test_approval_high_touch_and_low_confidence_high_value() -> None:
    out = decide_one()  # onboarding_specialist_call is high touch
    assert out["approval_reasons"] == ["high_touch_action"]
    out = decide_one(
        account_value=60000.0,
        is_high_value=True,
        risk_score=0.6,
        risk_band="high",  # onboarding x high -> onboarding_nudge_email (not high touch)
        max_signal_strength=0.2,
        negative_pressure=0.3,
        positive_pressure=0.3,
        positive_signal_count=1,
    )
    assert out["recommended_action"] == "monitor_only"
    assert out["approval_reasons"] == ["low_confidence_high_value"]
    assert "low confidence on a high-value account" in out["reason"]
    # the rule can be switched off for high-touch actions
    config = make_config(**{"holdout.share": 0.0, "approval.high_touch_actions_require_approval": False})
    assert decide_one(config)["requires_human_approval"] is False


def test_any_open_intervention_suppresses() -> None:
    """Open (no outcome yet) suppresses however old it is: never two open interventions for a customer."""
    long_ago = decide_one(open_intervention_count=1, last_intervention_at=AS_OF - dt.timedelta(days=200))
    assert long_ago["decision"] == "suppressed"
    assert long_ago["intervention_id"] is None
    assert long_ago["reason"].startswith(
        "suppressed: 1 open intervention (no outcome yet), latest intervention from 2024-07-04, past the 14-day "
        "cooldown: follow up the open one; risk 0.78"
    )
    two = decide_one(open_intervention_count=2, last_intervention_at=None)
    assert two["reason"].startswith("suppressed: 2 open interventions (no outcome yet);")


def test_cooldown_concerns_open_interventions_only() -> None:
    """The design: no new intervention while an open one is inside the cooldown. A closed one only counts
    toward the 30-day cap (C001 in the sample: I001 resolved five days ago, still critical, acted on)."""
    cooldown = NO_HOLDOUT.suppression.cooldown_days
    closed_recently = decide_one(
        open_intervention_count=0, last_intervention_at=AS_OF - dt.timedelta(days=cooldown - 1)
    )
    assert closed_recently["decision"] == "act"
    open_inside = decide_one(open_intervention_count=1, last_intervention_at=AS_OF)
    assert open_inside["decision"] == "suppressed"
    assert open_inside["reason"].startswith(
        "suppressed: 1 open intervention (no outcome yet), latest intervention from 2025-01-20 inside"
    )
    open_past = decide_one(
        open_intervention_count=1, last_intervention_at=AS_OF - dt.timedelta(days=cooldown)
    )
    assert open_past["decision"] == "suppressed"
    assert "past the 14-day cooldown: follow up the open one" in open_past["reason"]
    never = decide_one(open_intervention_count=0, last_intervention_at=None)
    assert never["decision"] == "act"


def test_thirty_day_cap() -> None:
    cap = NO_HOLDOUT.suppression.max_interventions_per_30_days
    assert decide_one(interventions_last_30d=cap - 1)["decision"] == "act"
    out = decide_one(interventions_last_30d=cap)
    assert out["decision"] == "suppressed"
    assert f"30-day cap reached ({cap} of {cap})" in out["reason"]


def test_holdout_gets_no_action_but_keeps_the_counterfactual() -> None:
    cid = holdout_id(SHIPPED)
    out = decide_one(SHIPPED, customer_id=cid)
    assert out["decision"] == "holdout"
    assert out["would_be_decision"] == "act"
    assert out["is_holdout"] is True
    assert out["recommended_action"] == "onboarding_specialist_call"
    assert out["intervention_id"] is None
    assert out["requires_human_approval"] is False
    assert out["reason"].startswith("holdout: control group (10% share), no action; would be act")
    outside = decide_one(SHIPPED, customer_id=holdout_id(SHIPPED, inside=False))
    assert (outside["decision"], outside["is_holdout"]) == ("act", False)


def test_precedence_order() -> None:
    cid = holdout_id(SHIPPED)
    recent = {"open_intervention_count": 1, "last_intervention_at": AS_OF}
    # 1 beats 2: the gate wins over the holdout, and is_holdout is still reported
    gated = decide(table(make_row(customer_id=cid)), SHIPPED, dq_blocked=True).to_pylist()[0]
    assert (gated["decision"], gated["is_holdout"]) == ("skipped_bad_data", True)
    # 2 beats 3: holdout wins over suppression, which shows as the counterfactual
    held = decide_one(SHIPPED, customer_id=cid, **recent)
    assert (held["decision"], held["would_be_decision"]) == ("holdout", "suppressed")
    assert (
        "would be suppressed (1 open intervention (no outcome yet), latest intervention from 2025-01-20"
        in (held["reason"])
    )
    # 3 beats 4: a low-risk customer with an open intervention is suppressed, not monitored
    assert decide_one(risk_score=0.1, risk_band="low", **recent)["decision"] == "suppressed"
    # 4 beats 5
    assert decide_one(risk_score=0.4, risk_band="medium")["decision"] == "monitor"


def test_data_quality_gate() -> None:
    rows = table(make_row(customer_id="C001"), make_row(customer_id="C002"))
    everyone = decide(rows, NO_HOLDOUT, dq_blocked=True, dq_reason="expectation orphan_signals failed")
    assert everyone["decision"].to_pylist() == ["skipped_bad_data"] * 2
    assert everyone["reason"][0].as_py() == (
        "skipped_bad_data: data-quality gate: expectation orphan_signals failed"
    )
    assert everyone["recommended_action"].to_pylist() == [None, None]
    assert everyone["intervention_id"].to_pylist() == [None, None]
    some = decide(rows, NO_HOLDOUT, dq_blocked={"C002"})
    assert some["decision"].to_pylist() == ["act", "skipped_bad_data"]
    assert decide(rows, NO_HOLDOUT, dq_blocked=[])["decision"].to_pylist() == ["act", "act"]
    with pytest.raises(TypeError):
        decide(rows, NO_HOLDOUT, dq_blocked="C002")


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"risk_score": None}, "risk_score missing or outside [0, 1]"),
        ({"risk_score": 1.2}, "risk_score missing or outside [0, 1]"),
        ({"risk_score": math.nan}, "risk_score missing or outside [0, 1]"),
        ({"risk_band": "extreme"}, "unknown risk_band"),
        ({"journey_stage": "churned"}, "unknown journey_stage"),
        ({"journey_stage": None}, "unknown journey_stage"),
        ({"customer_id": None}, "missing customer_id"),
        ({"as_of_date": None}, "missing as_of_date"),
    ],
)
def test_undecidable_rows_are_skipped_with_the_reason(overrides: dict[str, Any], problem: str) -> None:
    out = decide_one(**overrides)
    assert out["decision"] == "skipped_bad_data"
    assert out["reason"] == f"skipped_bad_data: {problem}"
    assert out["recommended_action"] is None
    assert out["confidence"] is None
    assert out["requires_human_approval"] is False


def test_input_is_coerced_and_validated() -> None:
    rows = table(make_row(), make_row(customer_id="C002"))
    loose = pa.table(
        {
            **{name: rows[name] for name in reversed(rows.column_names)},
            "negative_signal_count": rows["negative_signal_count"].cast(pa.int32()),
            "customer_id": rows["customer_id"].cast(pa.large_string()),
            "account_value": rows["account_value"].cast(pa.decimal128(12, 2)),
            "unrelated": pa.array([1, 2]),
        }
    )
    assert decide(loose, NO_HOLDOUT).equals(decide(rows, NO_HOLDOUT))
    with pytest.raises(ValueError, match=r"missing column.*risk_band"):
        decide(rows.drop_columns(["risk_band"]), NO_HOLDOUT)


def test_empty_input_and_output_schema() -> None:
    empty = decide(table(), SHIPPED)
    assert empty.num_rows == 0
    assert empty.schema.equals(DECISION_OUTPUT_SCHEMA)
    assert decide(table(make_row()), SHIPPED).schema.equals(DECISION_OUTPUT_SCHEMA)


def test_vectorized_hashes_match_the_reference() -> None:
    ids = [f"C{i:03d}" for i in range(300)] + ["Ünïcode-客户"]
    holdout, intervention_ids, decision_ids = row_hashes(
        pa.array(ids),
        pa.array([AS_OF] * len(ids)),
        policy_version="v1",
        holdout_salt="salt",
        holdout_share=0.3,
    )
    assert holdout.to_pylist() == [is_holdout_of(cid, "salt", 0.3) for cid in ids]
    assert intervention_ids.to_pylist() == [intervention_id_of(cid, AS_OF, "v1") for cid in ids]
    assert decision_ids.to_pylist() == [decision_id_of(cid, AS_OF, "v1") for cid in ids]


def test_sample_customers_under_the_shipped_config() -> None:
    """The sample's expectations (issue 6): C003 no action, C004 and C006 suppressed (open I008 / I005)."""
    assert not any(
        is_holdout_of(f"C{i:03d}", SHIPPED.holdout.salt, SHIPPED.holdout.share) for i in range(1, 11)
    )
    rows = table(
        make_row(customer_id="C003", journey_stage="engagement", risk_score=0.05, risk_band="low", signal_ids=[],
                 negative_signal_count=0, negative_pressure=0.0, max_signal_strength=None, is_stalled=False),
        make_row(customer_id="C004", journey_stage="engagement", risk_score=0.55, risk_band="high",
                 open_intervention_count=1, last_intervention_at=dt.date(2025, 1, 16), interventions_last_30d=2),
        make_row(customer_id="C006", open_intervention_count=1, last_intervention_at=dt.date(2025, 1, 16),
                 interventions_last_30d=1, positive_signal_count=1, positive_pressure=0.4),
    )  # fmt: skip
    assert decide(rows, SHIPPED)["decision"].to_pylist() == ["monitor", "suppressed", "suppressed"]


# --- properties ------------------------------------------------------------------------------------------

STAGES = list(SHIPPED.stages)
BANDS = list(SHIPPED.risk_bands)


def _band(score: float) -> str:
    return "low" if score < 0.3 else "medium" if score < 0.5 else "high" if score < 0.7 else "critical"


def _mostly(draw: st.DrawFn, usual: st.SearchStrategy[Any], rare: st.SearchStrategy[Any]) -> Any:
    """Draw from usual nine times in ten, else from rare (edge cases without drowning the common path)."""
    return draw(rare) if draw(st.integers(0, 9)) == 0 else draw(usual)


@st.composite
def input_rows(draw: st.DrawFn) -> dict[str, Any]:
    risk = _mostly(draw, st.floats(0, 1), st.sampled_from([0.7, None, 1.5, math.nan]))
    consistent_band = risk is not None and 0 <= risk <= 1 and draw(st.integers(0, 3)) > 0
    negative = draw(st.integers(0, 4))
    positive = draw(st.integers(0, 3))
    n_ids = negative + positive + draw(st.integers(0, 1))
    return {
        "customer_id": _mostly(draw, st.text(min_size=1, max_size=8), st.none()),
        "as_of_date": draw(st.sampled_from([AS_OF, dt.date(2026, 11, 1)])),
        "segment": draw(st.sampled_from(["smb", "mid-market", "enterprise", None])),
        "account_value": _mostly(draw, st.floats(0, 200_000), st.sampled_from([50_000.0, None])),
        "journey_stage": _mostly(draw, st.sampled_from(STAGES), st.sampled_from(["unknown", None])),
        "is_stalled": draw(st.one_of(st.booleans(), st.none())),
        "risk_score": risk,
        "risk_band": _band(risk) if consistent_band else draw(st.sampled_from(BANDS)),
        "is_high_value": draw(st.one_of(st.booleans(), st.none())),
        "signal_ids": [f"S{i}" for i in range(n_ids)],
        "negative_signal_count": negative,
        "positive_signal_count": positive,
        "negative_pressure": draw(st.floats(0, 5)) if negative else 0.0,
        "positive_pressure": draw(st.floats(0, 5)) if positive else 0.0,
        "max_signal_strength": draw(st.floats(0, 1)) if n_ids else None,
        "has_conflicting_signals": _mostly(draw, st.just(negative > 0 and positive > 0), st.none()),
        "automated_signal_share": draw(st.floats(0, 1)) if n_ids else None,
        "has_incomplete_data": _mostly(draw, st.booleans(), st.none()),
        "open_intervention_count": draw(st.sampled_from([0, 0, 0, 1, 2])),
        "last_intervention_at": draw(
            st.one_of(st.none(), st.integers(-2, 60).map(lambda d: AS_OF - dt.timedelta(days=d)))
        ),
        "interventions_last_30d": draw(st.sampled_from([0, 0, 1, 1, 2, 3])),
    }


CONFIGS = st.sampled_from([SHIPPED, NO_HOLDOUT, make_config(**{"holdout.share": 0.5})])
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FORCED_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(rows=st.lists(input_rows(), max_size=25), config=CONFIGS, data=st.data())
def test_invariants(rows: list[dict[str, Any]], config: PolicyConfig, data: st.DataObject) -> None:
    blocked = data.draw(st.sampled_from([False, False, False, True, {"a", "b"}, frozenset("0")]))
    out = decide(table(*rows), config, dq_blocked=blocked)

    # exactly one row per input row, in input order
    assert out.num_rows == len(rows)
    assert out["customer_id"].to_pylist() == [row["customer_id"] for row in rows]
    assert out.schema.equals(DECISION_OUTPUT_SCHEMA)

    for row, res in zip(rows, out.to_pylist(), strict=True):
        assert res["decision"] in DECISIONS
        acted = res["decision"] == "act"
        account_value = row["account_value"] or 0.0
        risk = row["risk_score"]
        # high value and high risk => approval, whenever the policy acts
        if acted and account_value > 50_000 and risk is not None and risk > 0.7:
            assert res["requires_human_approval"]
            assert "high_value_high_risk" in res["approval_reasons"]
        # confidence below the floor => monitor_only (or no action at all)
        if res["confidence"] is not None and res["confidence"] < 0.4:
            assert res["recommended_action"] in ("monitor_only", None)
        # never two open interventions: any open one (inside the cooldown or past it) blocks a new one
        if row["open_intervention_count"] > 0:
            assert not acted
        # ids, approvals and the holdout are consistent with the decision
        assert (res["intervention_id"] is not None) == acted
        assert res["requires_human_approval"] == bool(res["approval_reasons"])
        assert set(res["approval_reasons"]) <= set(APPROVAL_REASONS)
        assert acted or not res["requires_human_approval"]
        if res["confidence"] is not None:
            assert 0.0 <= res["confidence"] <= 1.0
        if row["customer_id"] is not None:
            expected_holdout = is_holdout_of(row["customer_id"], config.holdout.salt, config.holdout.share)
            assert res["is_holdout"] == expected_holdout
            if res["decision"] not in ("skipped_bad_data",):
                assert (res["decision"] == "holdout") == expected_holdout
        assert res["reason"]


@FORCED_SETTINGS
@given(row=input_rows(), account_value=st.floats(50_000.01, 1e7), risk=st.floats(0.7, 1.0, exclude_min=True))
def test_high_value_high_risk_always_needs_approval(
    row: dict[str, Any], account_value: float, risk: float
) -> None:
    row = {
        **row,
        "customer_id": row["customer_id"] or "X",
        "journey_stage": row["journey_stage"] if row["journey_stage"] in STAGES else "support",
        "account_value": account_value,
        "risk_score": risk,
        "risk_band": "critical",
        "open_intervention_count": 0,
        "last_intervention_at": None,
        "interventions_last_30d": 0,
    }
    res = decide(table(row), NO_HOLDOUT).to_pylist()[0]
    assert res["decision"] == "act"
    assert res["requires_human_approval"] is True
    assert "high_value_high_risk" in res["approval_reasons"]


@FORCED_SETTINGS
@given(row=input_rows(), days_ago=st.integers(-3, 400), config=CONFIGS)
def test_open_intervention_is_never_acted_on(
    row: dict[str, Any], days_ago: int, config: PolicyConfig
) -> None:
    """The 'never two open interventions for a customer' invariant, whatever the age of the open one."""
    row = {
        **row,
        "open_intervention_count": 1,
        "last_intervention_at": row["as_of_date"] - dt.timedelta(days=days_ago),
    }
    res = decide(table(row), config).to_pylist()[0]
    assert res["decision"] != "act"
    assert res["intervention_id"] is None


@settings(max_examples=25, deadline=None)
@given(rows=st.lists(input_rows(), min_size=1, max_size=10), config=CONFIGS)
def test_same_input_same_output_and_rows_are_independent(
    rows: list[dict[str, Any]], config: PolicyConfig
) -> None:
    first = decide(table(*rows), config)
    assert decide(table(*rows), config).equals(first)
    # each row's decision depends on that row only: deciding it alone gives the same row
    for i, row in enumerate(rows):
        assert decide(table(row), config).to_pylist()[0] == first.slice(i, 1).to_pylist()[0]


@settings(max_examples=8, deadline=None)
@given(salt=st.text(min_size=1, max_size=20).filter(str.strip), share=st.sampled_from([0.05, 0.1, 0.2]))
def test_holdout_share_within_tolerance_on_20k_ids(salt: str, share: float) -> None:
    config = make_config(**{"holdout.salt": salt, "holdout.share": share})
    n = 20_000
    ids = pa.array([f"C{i:07d}" for i in range(n)])
    rows = pa.table(
        {
            name: ids if name == "customer_id" else pa.nulls(n, field.type)
            for name, field in zip(DECISION_INPUT_SCHEMA.names, DECISION_INPUT_SCHEMA, strict=True)
        }
    )
    out = decide(rows, config)
    observed = sum(out["is_holdout"].to_pylist()) / n
    sigma = math.sqrt(share * (1 - share) / n)
    assert abs(observed - share) < 5 * sigma  # 5 sigma: a false alarm about once in 1.7 million runs


# --- reference values (shared with dbt through the seeds) ------------------------------------------------


def test_shared_values_come_from_the_reference_seeds() -> None:
    from policy.reference import load_reference_csv

    reference = load_reference_csv()
    assert (
        SHIPPED.high_touch_actions
        == reference.high_touch_actions
        == (
            "onboarding_specialist_call",
            "proactive_outreach",
            "support_manager_followup",
        )
    )
    assert SHIPPED.costs.per_action["support_manager_followup"] == 180
    assert SHIPPED.costs.per_human_review == reference.human_review_cost == 50
    assert (SHIPPED.confidence.automated_source_weight, SHIPPED.confidence.manual_source_weight) == (1.0, 0.8)
    assert "source_weights" not in RAW_CONFIG["confidence"]
    assert "costs" not in RAW_CONFIG and "high_touch_actions" not in RAW_CONFIG


def test_reference_values_are_validated_and_hashed() -> None:
    from dataclasses import replace

    from policy.reference import ReferenceError, build_reference, load_reference_csv

    reference = load_reference_csv()
    cheaper = replace(reference, unit_costs={**reference.unit_costs, "proactive_outreach": 1.0})
    assert parse_config(RAW_CONFIG, reference=cheaper).config_hash != SHIPPED.config_hash
    no_touch = replace(reference, high_touch_actions=())
    assert decide_one(parse_config({**RAW_CONFIG, "holdout": {**RAW_CONFIG["holdout"], "share": 0.0}},
                                   reference=no_touch))["requires_human_approval"] is False  # fmt: skip
    with pytest.raises(ReferenceError, match=r"ref_actions\.unit_cost\[proactive_outreach\]"):
        build_reference(
            "test",
            [{"recommended_action": "proactive_outreach", "is_high_touch": "true", "unit_cost": "-5"}],
            [{"source": "automated", "source_weight": 1}, {"source": "manual", "source_weight": 0.8}],
            [{"parameter": "human_review_cost", "value": "50"}],
            [],
            [],
        )
    without = tuple(a for a in reference.actions if a != "usage_review_checkin")
    with pytest.raises(
        PolicyConfigError, match=r"catalog\.engagement\.high: 'usage_review_checkin' is not in ref_actions"
    ):
        parse_config(RAW_CONFIG, reference=replace(reference, actions=without))
    with pytest.raises(PolicyConfigError, match="ref_actions must include 'monitor_only'"):
        parse_config(RAW_CONFIG, reference=replace(reference, actions=without[:-1]))


def test_act_without_approval_says_so() -> None:
    out = decide_one(journey_stage="engagement", risk_band="high", risk_score=0.6)
    assert out["recommended_action"] == "usage_review_checkin"
    assert out["reason"].endswith("-> usage_review_checkin; no approval needed")


def test_approval_thresholds_agree_with_the_risk_mart() -> None:
    """policy.yml's approval rule and the risk mart's needs_human_review (seeds/ref_scoring_parameters.csv)
    state the same design rule (account_value > 50,000 and risk_score > 0.7): they must not drift apart."""
    import csv

    from policy.reference import DEFAULT_SEEDS_DIR

    with (DEFAULT_SEEDS_DIR / "ref_scoring_parameters.csv").open(newline="") as handle:
        parameters = {row["parameter"]: float(row["value"]) for row in csv.DictReader(handle)}
    approval = SHIPPED.approval
    assert approval.high_value_account_value == parameters["high_value_account_value"]
    assert approval.high_risk_score == parameters["review_risk_score"]
