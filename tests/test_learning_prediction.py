"""The prediction marts of issue 19: marts.signal_effectiveness and marts.risk_score_backtest (with
intermediate.int_adverse_events, the events both are measured against: seeds/ref_adverse_events.csv).

On the ten-customer sample both marts exist and say why they cannot conclude: no signal has a complete 30-day
follow-up yet ('insufficient data') and the one scored date's window is open ('follow-up incomplete'). Over a
generated multi-day set, built day by day with load_mode 'append' (as the daily runs do) by a copy of the project
whose event window is 2 days, the backtest measures exactly the dates whose window has closed, each on the day it
closed, with the AUC a direct computation gives, and equals a --full-refresh rebuild. Real dbt, real DuckDB.
"""

from __future__ import annotations

import csv
import math
from datetime import date, timedelta
from pathlib import Path

import pytest

from journey.dbt_session import DbtSession
from journey.generate import generate
from journey.project import PROJECT_DIR, DbtResult
from tests.conftest import SAMPLE_DIR, copy_db, query
from tests.test_constraints import project_copy
from tests.test_incremental import NO_TESTS

SEEDS = PROJECT_DIR / "seeds"


def learning_parameter(name: str) -> str:
    with (SEEDS / "ref_learning_parameters.csv").open(encoding="utf-8") as handle:
        return next(row["value"] for row in csv.DictReader(handle) if row["parameter"] == name)


def csv_column(seed: str, column: str) -> list[str]:
    with (SEEDS / f"{seed}.csv").open(encoding="utf-8") as handle:
        return [row[column] for row in csv.DictReader(handle)]


# ------------------------------------------------------------------------------------------------ the sample


def test_sample_adverse_events_are_the_feeds_own(sample_db: Path) -> None:
    """C005 and C008 entered support (journey log); C002's outcome no_response is of the failure class; no
    outcome recorded a rise of churn risk. Orphans and the risk score play no part."""
    assert query(sample_db, "select * from intermediate.int_adverse_events order by all") == [
        ("C002", "failed_outcome", date(2025, 1, 20), "outcomes", "O002"),
        ("C005", "entered_support", date(2025, 1, 8), "journey_state_log", "C005|2025-01-08"),
        ("C008", "entered_support", date(2025, 1, 10), "journey_state_log", "C008|2025-01-10"),
    ]


def test_sample_signal_effectiveness_says_insufficient_data(sample_db: Path) -> None:
    window = int(learning_parameter("event_window_days"))
    rows = query(
        sample_db,
        "select signal_type, source, signals, signals_awaiting_follow_up, precision, lift, events_total,"
        " events_preceded, recall, triggered_interventions, triggered_with_outcome, triggered_successes,"
        " triggered_success_rate, effectiveness_rank, status, conclusion, as_of_date"
        " from marts.signal_effectiveness order by signal_type, source",
    )
    # every known type x source is a row, with or without signals
    types, sources = csv_column("ref_signal_types", "signal_type"), csv_column("ref_signal_sources", "source")
    assert [(row[0], row[1]) for row in rows] == sorted((t, s) for t in types for s in sources)
    by_group = {(row[0], row[1]): row for row in rows}
    # the sample's latest signal is from 2025-01-16, as_of_date 2025-01-20: no window has closed
    assert window > 4
    assert {row[2] for row in rows} == {0}
    assert {row[4] for row in rows} == {None} and {row[5] for row in rows} == {None}
    assert {row[13] for row in rows} == {None}
    assert {row[14] for row in rows} == {"insufficient data"}
    assert {row[16] for row in rows} == {date(2025, 1, 20)}
    assert sum(row[3] for row in rows) == 11  # the 12 signals less the orphan S009
    assert {row[6] for row in rows} == {3}
    # C002's low_product_usage signal (01-13) precedes its failed outcome (01-20): 1 of the 3 events
    assert by_group["low_product_usage", "automated"][7:9] == (1, pytest.approx(1 / 3))
    assert sum(row[7] for row in rows) == 1
    # I001 (S001, S002) was resolved; I002 (S003) got no response; I005 (S006, S007) is pending
    assert by_group["support_ticket_spike", "automated"][9:13] == (1, 1, 1, 1.0)
    assert by_group["low_product_usage", "automated"][9:13] == (1, 1, 0, 0.0)
    assert by_group["failed_onboarding_step", "automated"][9:13] == (1, 0, 0, None)
    assert by_group["usage_drop", "manual"][9:13] == (0, 0, 0, None)
    assert by_group["support_ticket_spike", "automated"][15] == (
        f"insufficient data: 0 signals with a complete {window}-day follow-up"
        f" ({learning_parameter('min_signals_for_ranking')} needed to rank); 1 more still within their window"
    )


def test_sample_backtest_says_follow_up_incomplete(sample_db: Path) -> None:
    window = int(learning_parameter("event_window_days"))
    end = date(2025, 1, 20) + timedelta(days=window)
    rows = query(
        sample_db,
        "select scored_date, grouping_name, grouping_value, follow_up_end_date, is_follow_up_complete, customers,"
        " customers_with_event, event_rate, lift, auc, previous_scored_date, score_drift_psi, status, conclusion"
        " from marts.risk_score_backtest",
    )
    assert rows == [
        (
            date(2025, 1, 20), "all", "all", end, False, 10, None, None, None, None, None, None,
            "follow-up incomplete",
            f"follow-up incomplete: scored on 2025-01-20, its {window}-day window closes on {end.isoformat()}",
        )
    ]  # fmt: skip
    mean = query(sample_db, "select avg(risk_score) from marts.customer_risk_scores")[0][0]
    assert query(sample_db, "select mean_risk_score from marts.risk_score_backtest")[0][0] == pytest.approx(
        mean
    )


def test_the_marts_are_built_after_the_policy(dbt_target: Path, tmp_path: Path) -> None:
    """`journey run` builds source:policy+ after the policy: the adverse events read the outcomes, which hold
    the policy's interventions, so both marts are there (and not in the build before the policy)."""
    session = DbtSession(db=tmp_path / "ls.duckdb", input_dir=SAMPLE_DIR, target_path=dbt_target, echo=False)
    result = session.invoke(["ls", "-s", "source:policy+", "--resource-type", "model", "--output", "name"])
    assert result.ok, result.output[-2000:]
    listed = set(result.output.split())
    assert {"int_adverse_events", "signal_effectiveness", "risk_score_backtest"} <= listed


# ------------------------------------------------------------------------------ a generated multi-day set

WINDOW = 2  # days of follow-up in the project copy
DAYS = 3  # daily folders after day_000: scored dates 01-20 .. 01-23; on the last day 01-20 and 01-21 are measured
CUSTOMERS = 2_000
BACKTEST_ONLY = ["--select", "+risk_score_backtest", *NO_TESTS]
BOTH_MARTS = ["--select", "+risk_score_backtest", "+signal_effectiveness", *NO_TESTS]


def short_window_project(folder: Path) -> Path:
    """A copy of the project whose ref_learning_parameters.csv says event_window_days = WINDOW."""
    project = project_copy(folder)
    parameters = project / "seeds" / "ref_learning_parameters.csv"
    text = parameters.read_text(encoding="utf-8")
    line = next(line for line in text.splitlines() if line.startswith("event_window_days,"))
    parameters.write_text(text.replace(line, f"event_window_days,{WINDOW}," + line.split(",", 2)[2]), "utf-8")
    return project


def build(project: Path, target: Path, db: Path, input_dir: Path, args: list[str]) -> DbtResult:
    session = DbtSession(
        db=db, input_dir=input_dir, target_path=target, load_mode="append", echo=False, project_dir=project
    )
    result = session.invoke(["build", *args])
    assert result.ok, result.output[-4000:]
    return result


class Daily:
    def __init__(self, folder: Path, project: Path, target: Path, db: Path, first: date) -> None:
        self.folder, self.project, self.target, self.db, self.first = folder, project, target, db, first

    @property
    def last(self) -> date:
        return self.first + timedelta(days=DAYS)


@pytest.fixture(scope="module")
def daily(tmp_path_factory: pytest.TempPathFactory) -> Daily:
    folder = tmp_path_factory.mktemp("prediction")
    manifest = generate(folder / "feeds", CUSTOMERS, seed=8, days=DAYS)
    project = short_window_project(folder / "project")
    target, db = folder / "target", folder / "daily.duckdb"
    for day in range(DAYS + 1):
        build(
            project,
            target,
            db,
            folder / "feeds" / f"day_{day:03d}",
            BOTH_MARTS if day == DAYS else BACKTEST_ONLY,
        )
    return Daily(folder, project, target, db, date.fromisoformat(manifest["as_of_date"]))


def auc_by_ranks(scores_and_events: list[tuple[float, bool]]) -> float:
    """Mann-Whitney AUC: the probability that a customer with an event outscores one without, a tie one half."""
    with_event = [score for score, event in scores_and_events if event]
    without = [score for score, event in scores_and_events if not event]
    wins = sum((a > b) + 0.5 * (a == b) for a in with_event for b in without)
    return wins / (len(with_event) * len(without))


def test_backtest_measures_each_date_when_its_window_closes(daily: Daily) -> None:
    rows = query(
        daily.db,
        "select scored_date, status, is_follow_up_complete, follow_up_end_date, as_of_date, customers,"
        " customers_with_event, auc, previous_scored_date"
        " from marts.risk_score_backtest where grouping_name = 'all' order by scored_date",
    )
    dates = [daily.first + timedelta(days=day) for day in range(DAYS + 1)]
    assert [row[0] for row in rows] == dates
    minimum = int(learning_parameter("min_events_for_backtest"))
    for scored, status, complete, end, computed_on, customers, with_event, auc, previous in rows:
        assert end == scored + timedelta(days=WINDOW)
        assert previous == (None if scored == daily.first else scored - timedelta(days=1))
        if end <= daily.last:
            # measured on the day its window closed, and kept since
            assert complete and computed_on == end, (scored, computed_on)
            assert status == "measured" and min(with_event, customers - with_event) >= minimum, (
                scored,
                status,
            )
            assert 0 < auc < 1  # its value: test_backtest_values_match_a_direct_computation
        else:
            # its own day's run wrote its one row, and no later run needed to
            assert (status, complete, with_event, auc, computed_on) == (
                "follow-up incomplete", False, None, None, scored
            )  # fmt: skip
    assert sum(row[1] == "measured" for row in rows) == DAYS + 1 - WINDOW
    assert query(daily.db, "select distinct event_window_days from marts.risk_score_backtest") == [(WINDOW,)]


def test_backtest_values_match_a_direct_computation(daily: Daily) -> None:
    """customers_with_event and the AUC of every measured date, recomputed here from the risk history and the
    adverse events: a customer has an event when one falls in (scored_date, scored_date + window]."""
    labelled = query(
        daily.db,
        f"""
        select history.as_of_date, history.risk_score, exists (
            select 1 from intermediate.int_adverse_events as events
            where events.customer_id = history.customer_id
                and events.event_date > history.as_of_date
                and events.event_date <= history.as_of_date + {WINDOW}
        )
        from marts.customer_risk_history as history
        where history.as_of_date + {WINDOW} <= date '{daily.last}'
        """,
    )
    measured = dict(
        (row[0], row[1:])
        for row in query(
            daily.db,
            "select scored_date, customers, customers_with_event, auc, lift from marts.risk_score_backtest"
            " where grouping_name = 'all' and status = 'measured'",
        )
    )
    assert len(measured) == DAYS + 1 - WINDOW
    for scored, (customers, with_event, auc, lift) in measured.items():
        pairs = [(score, event) for day, score, event in labelled if day == scored]
        assert customers == len(pairs) and with_event == sum(event for _, event in pairs)
        assert auc == pytest.approx(auc_by_ranks(pairs), abs=1e-12)
        assert lift == pytest.approx(1.0)
    bins = query(
        daily.db,
        "select scored_date, sum(customers), sum(customers_with_event), count(*), min(grouping_order),"
        " max(grouping_order) from marts.risk_score_backtest where grouping_name = 'score_bin' group by all",
    )
    score_bins = int(learning_parameter("score_bins"))
    for scored, customers, with_event, count, lowest, highest in bins:
        assert (customers, with_event) == measured[scored][:2]
        assert lowest == 1 and highest <= score_bins and count <= score_bins
    bands = query(
        daily.db,
        "select scored_date, count(*), sum(customers) from marts.risk_score_backtest"
        " where grouping_name = 'risk_band' group by all",
    )
    assert {row[0]: row[1:] for row in bands} == {
        scored: (len(csv_column("ref_risk_bands", "risk_band")), values[0])
        for scored, values in measured.items()
    }


def test_backtest_incremental_equals_full_refresh(daily: Daily, tmp_path: Path) -> None:
    """A --full-refresh recomputes every date on the last day: the same rows as the daily increments, but for
    as_of_date (which run computed a row)."""
    full = copy_db(daily.db, tmp_path / "full")
    last_day = daily.folder / "feeds" / f"day_{DAYS:03d}"
    build(daily.project, daily.target, full, last_day, ["--select", "risk_score_backtest", "--full-refresh"])
    columns = "* exclude (as_of_date)"
    ordered = (
        f"select {columns} from marts.risk_score_backtest order by scored_date, grouping_name, grouping_order"
    )
    incremental_rows, full_rows = query(daily.db, ordered), query(full, ordered)
    assert len(incremental_rows) == len(full_rows) > DAYS + 1
    for left, right in zip(incremental_rows, full_rows, strict=True):
        assert all(
            math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) if isinstance(a, float) else a == b
            for a, b in zip(left, right, strict=True)
        ), (left, right)
    assert query(full, "select distinct as_of_date from marts.risk_score_backtest") == [(daily.last,)]


def test_signal_effectiveness_on_the_generated_set(daily: Daily) -> None:
    """Precision against an EXISTS query written here; the base rate is the same measure over every signal;
    ranks go by lift among the rows with enough signals."""
    followed = query(
        daily.db,
        f"""
        select signals.signal_type, signals.source, count(*), count(*) filter (where exists (
            select 1 from intermediate.int_adverse_events as events
            where events.customer_id = signals.customer_id
                and events.event_date > signals.detected_at
                and events.event_date <= signals.detected_at + {WINDOW}
        ))
        from intermediate.int_signals__checked as signals
        where not signals.is_orphan and signals.detected_at + {WINDOW} <= date '{daily.last}'
        group by all
        """,
    )
    rows = {
        (row[0], row[1]): row[2:]
        for row in query(
            daily.db,
            "select signal_type, source, signals, signals_followed_by_event, precision, base_rate, lift,"
            " effectiveness_rank, status from marts.signal_effectiveness",
        )
    }
    base_rate = sum(row[3] for row in followed) / sum(row[2] for row in followed)
    minimum = int(learning_parameter("min_signals_for_ranking"))
    for signal_type, source, signals, with_event in followed:
        count, count_followed, precision, base, lift, rank, status = rows[signal_type, source]
        assert (count, count_followed) == (signals, with_event)
        assert precision == pytest.approx(with_event / signals) and base == pytest.approx(base_rate)
        assert lift == pytest.approx(precision / base_rate)
        assert status == ("measured" if signals >= minimum else "insufficient data")
        assert (rank is None) == (signals < minimum)
    ranked = sorted((row[5], row[4]) for row in rows.values() if row[5] is not None)
    assert len(ranked) >= 3 and ranked[0][0] == 1
    assert [lift for _, lift in ranked] == sorted((lift for _, lift in ranked), reverse=True)
