"""Intervention outcomes and KPI marts: the design's figures on the sample, on real dbt builds (no mocks)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.conftest import copy_db, query

OUTCOME_MODELS = "stg_policy__interventions+"


def overview(db: Path, as_of: str | None = None) -> dict[str, object]:
    where = f"where as_of_date = date '{as_of}'" if as_of else ""
    with duckdb.connect(str(db), read_only=True) as connection:
        cursor = connection.execute(f"select * from marts.kpi_overview {where}")
        names = [column[0] for column in cursor.description]
        rows = cursor.fetchall()
    assert len(rows) == 1, rows
    return dict(zip(names, rows[0], strict=True))


def test_kpi_overview_sample_figures(sample_db: Path) -> None:
    kpis = overview(sample_db)
    assert str(kpis["as_of_date"]) == "2025-01-20"
    assert kpis["interventions_total"] == 8
    assert kpis["interventions_with_outcome"] == 6
    assert kpis["pending_interventions"] == 2
    assert (kpis["successful_interventions"], kpis["interventions_with_outcome"]) == (4, 6)
    assert kpis["success_rate"] == pytest.approx(4 / 6)
    assert (kpis["overridden_interventions"], kpis["interventions_total"]) == (1, 8)
    assert kpis["override_rate"] == pytest.approx(1 / 8)
    assert kpis["approval_required_interventions"] == 3
    assert kpis["human_approval_rate"] == pytest.approx(3 / 8)
    assert kpis["avg_resolution_days"] == pytest.approx(4.25)
    assert (kpis["resolution_days_total"], kpis["resolutions_measured"]) == (17, 4)
    assert kpis["revenue_saved"] == 4800
    assert kpis["p50_evaluation_latency_ms"] == pytest.approx(205)
    assert kpis["treated_customers"] == 7
    assert kpis["baseline_customers"] == 3
    assert kpis["customers_total"] == 10


def test_kpi_overview_costs_roi_and_completeness(sample_db: Path) -> None:
    kpis = overview(sample_db)
    # unit_cost of the eight actions (ref_actions) + 3 approvals x human_review_cost 50 (ref_kpi_parameters)
    assert kpis["action_cost"] == 615
    assert kpis["human_review_cost"] == 150
    assert kpis["total_cost"] == 765
    assert kpis["roi"] == pytest.approx((4800 - 765) / 765)
    assert kpis["avg_csat_delta"] == pytest.approx(4 / 6)
    assert kpis["avg_churn_risk_delta"] == pytest.approx(-0.8 / 6)
    assert kpis["p95_evaluation_latency_ms"] == pytest.approx(309.5)
    for feed, records in {"customers": 10, "signals": 12, "interventions": 8, "outcomes": 6}.items():
        assert (kpis[f"{feed}_staged_records"], kpis[f"{feed}_input_records"]) == (records, records)
        assert kpis[f"{feed}_completeness"] == 1.0
    assert kpis["data_completeness"] == 1.0
    assert kpis["kpi_config_hash"]


def test_missing_outcomes_sample(sample_db: Path) -> None:
    assert query(
        sample_db,
        "select intervention_id, customer_id, generated_at::varchar, age_days, is_overdue "
        "from quality.missing_outcomes order by intervention_id",
    ) == [("I005", "C006", "2025-01-16", 4, False), ("I008", "C004", "2025-01-16", 4, False)]


def test_intervention_outcomes_sample(sample_db: Path) -> None:
    rows = query(
        sample_db,
        "select intervention_id, origin, outcome, outcome_class, is_success, is_pending "
        "from marts.intervention_outcomes order by intervention_id",
    )
    assert rows == [
        ("I001", "feed", "resolved", "success", True, False),
        ("I002", "feed", "no_response", "failure", False, False),
        ("I003", "feed", "partial_improvement", "success", True, False),
        ("I004", "feed", "resolved", "success", True, False),
        ("I005", "feed", None, None, None, True),
        ("I006", "feed", "no_action_needed", "neutral", False, False),
        ("I007", "feed", "improved_engagement", "success", True, False),
        ("I008", "feed", None, None, None, True),
    ]


def test_grouped_kpis_add_up_to_the_overview(sample_db: Path) -> None:
    total = query(sample_db, "select interventions_total, revenue_saved, total_cost from marts.kpi_overview")
    for mart in ("kpi_by_segment", "kpi_by_action", "kpi_by_stage"):
        assert (
            query(
                sample_db,
                f"select sum(interventions_total), sum(revenue_saved), sum(total_cost) from marts.{mart}",
            )
            == total
        ), mart
    by_segment = dict(
        (row[0], row[1:])
        for row in query(
            sample_db,
            "select segment, interventions_total, treated_customers, baseline_customers from marts.kpi_by_segment",
        )
    )
    assert by_segment == {"smb": (3, 3, 1), "mid-market": (4, 3, 0), "enterprise": (1, 1, 2)}
    assert query(sample_db, "select count(*) from marts.kpi_by_action") == [(8,)]


def test_policy_interventions_flow_in_and_kpis_keep_a_daily_history(
    sample_db: Path, tmp_path: Path, dbt_build
) -> None:
    db = copy_db(sample_db, tmp_path / "kpis")
    assert overview(db)["policy_interventions"] == 0

    with duckdb.connect(str(db)) as connection:
        connection.execute("create schema policy")
        connection.execute(
            """
            create table policy.interventions (
                intervention_id varchar, customer_id varchar, journey_stage varchar, recommended_action varchar,
                confidence double, requires_human_approval boolean, triggered_by_signals varchar[],
                evaluation_latency_ms integer, generated_at date, policy_version varchar, reason varchar,
                decision_id varchar, approval_status varchar, run_id varchar, decided_at timestamp
            )
            """
        )
        connection.execute(
            """
            insert into policy.interventions values (
                'P-C008-1', 'C008', 'retention', 'renewal_health_check', 0.7, true, ['S010'], 12,
                date '2025-01-20', '2026.11.1', 'high value, high risk', 'D-1', 'pending', 'R-1',
                timestamp '2025-01-20 06:00:00'
            )
            """
        )

    result = dbt_build(db, args=["-s", OUTCOME_MODELS])
    assert result.ok, result.output[-4000:]
    assert query(
        db,
        "select origin, approval_status, is_pending from marts.intervention_outcomes where customer_id = 'C008'",
    ) == [("policy", "pending", True)]
    kpis = overview(db)  # a rerun of the same as_of_date replaces its row
    assert (kpis["interventions_total"], kpis["policy_interventions"], kpis["pending_approvals"]) == (9, 1, 1)
    assert (kpis["treated_customers"], kpis["baseline_customers"]) == (8, 2)
    assert kpis["total_cost"] == 765 + 80 + 50
    assert [
        row[0] for row in query(db, "select intervention_id from quality.missing_outcomes order by 1")
    ] == [
        "I005",
        "I008",
        "P-C008-1",
    ]

    # int_as_of_date is a view with the date compiled in: rebuild it with the outcome models
    result = dbt_build(db, as_of="2025-01-18", args=["-s", "int_as_of_date", OUTCOME_MODELS])
    assert result.ok, result.output[-4000:]
    assert query(db, "select as_of_date::varchar from marts.kpi_overview order by 1") == [
        ("2025-01-18",),
        ("2025-01-20",),
    ]
    earlier = overview(db, "2025-01-18")
    # as known on 2025-01-18: the eight feed interventions (the policy row is dated 01-20), and only
    # O001 (measured 01-18) and O004 (01-17) of the outcomes
    assert (earlier["interventions_total"], earlier["interventions_with_outcome"]) == (8, 2)
    assert earlier["pending_interventions"] == 6
    assert overview(db, "2025-01-20")["interventions_total"] == 9
