"""Journey-state, signal and risk marts on the sample, and the risk history across two as_of_dates.

The first date is the session's ``sample_db`` (tests/conftest.py), copied; the later dates rebuild only the
risk marts and what they are built from (``RISK``)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import copy_db, load_sample, query, write_feeds

# customer_risk_changes and everything upstream (staging, journey, signals, scores, history), with tests.
RISK = ["--select", "+customer_risk_changes"]


def column(db: Path, sql: str) -> list:
    return [row[0] for row in query(db, sql)]


def test_journey_states_on_the_sample(sample_db: Path) -> None:
    assert query(sample_db, "select customer_id, from_stage, to_stage from quality.invalid_transitions") == [
        ("C009", "support", "engagement")
    ]
    assert column(
        sample_db, "select customer_id from marts.journey_states where not is_transition_valid"
    ) == ["C009"]
    stalled = column(sample_db, "select customer_id from marts.journey_states where is_stalled order by 1")
    assert stalled == ["C001", "C004", "C006", "C007"]
    at_sla = query(
        sample_db,
        "select customer_id, days_in_state, stage_sla_days, is_stalled from marts.journey_states "
        "where customer_id in ('C002', 'C010') order by 1",
    )
    assert at_sla == [("C002", 10, 10, False), ("C010", 60, 60, False)]
    assert column(sample_db, "select distinct as_of_date::varchar from marts.journey_states") == [
        "2025-01-20"
    ]
    assert column(sample_db, "select count(*) from marts.journey_transitions") == [10]


def test_signals_and_orphans_on_the_sample(sample_db: Path) -> None:
    assert column(
        sample_db, "select customer_id from marts.customer_signals where has_conflicting_signals"
    ) == ["C006"]
    assert query(
        sample_db, "select source, record_key, missing_reference, missing_key from quality.orphan_records"
    ) == [("signals", "S009", "customer_id", "C999")]
    for table in ("customer_signals", "customer_risk_scores", "journey_states"):
        assert column(sample_db, f"select count(*) from marts.{table} where customer_id = 'C999'") == [0]
    assert column(
        sample_db, "select count(*) from marts.customer_signals where list_contains(signal_ids, 'S009')"
    ) == [0]
    # C004's usage_drop (S004) is resolved by the later usage_recovery (S010)
    assert query(
        sample_db,
        "select resolved_signal_count, negative_pressure, has_conflicting_signals "
        "from marts.customer_signals where customer_id = 'C004'",
    ) == [(1, 0.0, False)]


def test_risk_scores_on_the_sample(sample_db: Path) -> None:
    ranked = column(sample_db, "select customer_id from marts.customer_risk_scores order by risk_score desc")
    assert set(ranked[:2]) == {"C001", "C006"}
    assert query(
        sample_db, "select risk_band from marts.customer_risk_scores where customer_id = 'C003'"
    ) == [("low",)]
    assert column(
        sample_db, "select min(risk_score) >= 0 and max(risk_score) <= 1 from marts.customer_risk_scores"
    ) == [True]
    contributions = " + ".join(
        f"{factor}_contribution"
        for factor in (
            "signal_pressure",
            "time_in_state_friction",
            "invalid_transition",
            "early_tenure",
            "prior_risk_tier",
            "stage_risk",
        )
    )
    assert column(
        sample_db, f"select max(abs(({contributions}) - risk_score)) < 1e-9 from marts.customer_risk_scores"
    ) == [True]
    assert column(
        sample_db, "select count(distinct scoring_config_hash) from marts.customer_risk_scores"
    ) == [1]
    assert query(
        sample_db,
        "select top_risk_factor, invalid_transition_factor from marts.customer_risk_scores where customer_id = 'C009'",
    ) == [("prior_risk_tier", 1.0)]


def test_history_and_change_explanation_across_two_dates(
    tmp_path: Path, dbt_build, sample_copy, sample_db: Path
) -> None:
    db = copy_db(sample_db, tmp_path / "history")  # the sample, scored on its latest date
    assert column(db, "select as_of_date::varchar from intermediate.int_as_of_date") == ["2025-01-20"]
    changes = query(
        db,
        "select previous_as_of_date, explanation from marts.customer_risk_changes where customer_id = 'C003'",
    )
    assert changes == [(None, "first scored on 2025-01-20")]

    # five days later C003, who had no signals, sends a strong negative one
    later = sample_copy("later")
    strong = {
        "signal_id": "S100",
        "customer_id": "C003",
        "signal_type": "negative_sentiment",
        "signal_strength": 0.9,
        "detected_at": "2025-01-25",
        "journey_stage": "engagement",
        "source": "automated",
    }
    write_feeds(later, {"signals": [*load_sample("signals"), strong]})
    result = dbt_build(db, later, as_of="2025-01-25", args=RISK)
    assert result.ok, result.output[-3000:]

    assert query(
        db, "select as_of_date::varchar, count(*) from marts.customer_risk_history group by 1 order by 1"
    ) == [
        ("2025-01-20", 10),
        ("2025-01-25", 10),
    ]
    row = query(
        db,
        "select previous_as_of_date::varchar, risk_score_delta, top_moving_factor, top_moving_factor_delta, explanation "
        "from marts.customer_risk_changes where customer_id = 'C003'",
    )[0]
    previous_date, delta, factor, factor_delta, explanation = row
    assert previous_date == "2025-01-20"
    assert factor == "signal_pressure"
    assert abs(factor_delta - 0.35 * 0.9) < 1e-9  # weight 0.35 x strength 0.9, detected on the as_of_date
    assert delta > 0.3
    assert explanation.startswith("rose ") and "mostly signal_pressure (+0.315)" in explanation

    # a rerun of the same date replaces that date's rows instead of adding to them
    weaker = {**strong, "signal_strength": 0.5}
    write_feeds(later, {"signals": [*load_sample("signals"), weaker]})
    assert dbt_build(db, later, as_of="2025-01-25", args=RISK).ok
    assert query(db, "select count(*) from marts.customer_risk_history where as_of_date = '2025-01-25'") == [
        (10,)
    ]
    assert query(
        db,
        "select round(signal_pressure_contribution, 6) from marts.customer_risk_history "
        "where customer_id = 'C003' and as_of_date = '2025-01-25'",
    ) == [(0.175,)]
