"""Data-quality history (issue 20): the volume and drift metrics of every run judged against the runs before them,
and the check history that keeps every result of every run.

One generated set (seed 7) is built day by day with load_mode 'append', as the daily runs do, by a copy of the
project whose min_history_runs is MIN_HISTORY (each judged day costs a build; the rule is the same at 7):

- day_000 .. day_001 and a day_002 with the three injected anomalies (a volume drop and a null burst in the
  signals, a segment shift in the new customers), built by dbt: recorded, but not judged (history 2 < 3);
- day_002 again without them (a rerun of the day: its metric rows are replaced, not appended);
- day_003 with the three anomalies by a published `journey run`: the anomaly check flags exactly them, in
  quality.dq_metric_anomalies, dq_summary.json, the JUnit file and ops.check_history.

Real dbt, DuckDB, Great Expectations and generator; the anomaly rule itself is also unit-tested in YAML
(models/quality/_quality__unit_tests.yml). That the check history survives a failed run and that a rerun of a day
replaces its rows is tested on the runs tests/test_run.py makes anyway (a bad feed, then the sample again).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from journey.checks import CheckResult, RunChecks, history_table, kept_attempts
from journey.dbt_session import DbtSession
from journey.exit_codes import ExitCode
from journey.generate import Injections, generate
from journey.run import RunOptions, execute
from tests.conftest import query
from tests.test_constraints import project_copy
from tests.test_incremental import NO_TESTS

CUSTOMERS = 3_000
SEED = 7
DAYS = 3
MIN_HISTORY = 3
FIRST = date(2025, 1, 20)  # generator_defaults.yml as_of_date: day_000
ANOMALIES = ("volume_drop", "null_burst", "segment_shift")
# what the injections must make the check flag: the signals' volume and journey_stage null share, and the
# customers' segment mix (the segment the shift moves customers into, and the segments it takes them from)
MUST_FLAG = {
    "feeds.signals records_delivered",
    "feeds.signals null_share journey_stage",
    "feeds.customers share segment=enterprise",
}
MAY_ALSO_FLAG_PREFIX = "feeds.customers share segment="
METRIC_BUILD = ["build", "--select", "+dq_metric_anomalies", *NO_TESTS]


def day(number: int) -> str:
    return (FIRST + timedelta(days=number)).isoformat()


def anomalies_on(folder: Path, on_day: int) -> Path:
    injections = Injections.from_yaml(list(ANOMALIES), {f"{name}.day": str(on_day) for name in ANOMALIES})
    generate(folder, CUSTOMERS, SEED, days=DAYS, injections=injections)
    return folder


def short_history_project(folder: Path) -> Path:
    project = project_copy(folder)
    parameters = project / "seeds" / "ref_dq_monitor_parameters.csv"
    text = parameters.read_text(encoding="utf-8")
    line = next(line for line in text.splitlines() if line.startswith("min_history_runs,"))
    parameters.write_text(
        text.replace(line, f"min_history_runs,{MIN_HISTORY}," + line.split(",", 2)[2]), "utf-8"
    )
    return project


@dataclass
class History:
    serving: Path
    judged_too_early: list[tuple[Any, ...]]
    injected_day2: dict[str, float]
    normal_day2: dict[str, float]
    day2_rows: int
    day1_rows: int
    last: tuple[int, dict[str, Any]]


def metric_values(db: Path, as_of: str) -> dict[str, float]:
    rows = query(db, f"select metric_key, metric_value from quality.dq_metrics where as_of_date = '{as_of}'")
    return dict(rows)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    folder = tmp_path_factory.mktemp("dq_history")
    project = short_history_project(folder / "project")
    normal = folder / "normal"
    generate(normal, CUSTOMERS, SEED, days=DAYS)
    early, late = anomalies_on(folder / "early", 2), anomalies_on(folder / "late", 3)
    serving = folder / "serving" / "journey.duckdb"
    serving.parent.mkdir(parents=True)
    target = folder / "target"

    def build(input_dir: Path, load_mode: str) -> None:
        session = DbtSession(
            db=serving, input_dir=input_dir, target_path=target, load_mode=load_mode, project_dir=project
        )
        result = session.invoke(METRIC_BUILD)
        assert result.ok, result.output[-3000:]

    def run(input_dir: Path) -> tuple[int, dict[str, Any]]:
        options = RunOptions(
            db=serving,
            input_dir=input_dir,
            out=folder / "out",
            quiet=True,
            skip_policy=True,
            load_mode="append",
            target_path=target,
            project_dir=project,
        )
        return execute(options)

    build(normal / "day_000", "full")
    build(normal / "day_001", "append")
    build(early / "day_002", "append")
    judged_too_early = query(
        serving, "select metric_key, baseline_runs, is_anomaly from quality.dq_metric_anomalies order by 1"
    )
    injected_day2 = metric_values(serving, day(2))
    build(normal / "day_002", "append")  # the rerun of the day, without the anomalies
    normal_day2 = metric_values(serving, day(2))
    count = "select count(*) from quality.dq_metrics where as_of_date = '{}'"
    day2_rows, day1_rows = (
        query(serving, count.format(day(2)))[0][0],
        query(serving, count.format(day(1)))[0][0],
    )
    last = run(late / "day_003")
    return History(serving, judged_too_early, injected_day2, normal_day2, day2_rows, day1_rows, last)


def test_anomalies_before_the_minimum_history_are_recorded_not_judged(history: History) -> None:
    # the injected day really was anomalous ...
    drop = (
        history.injected_day2["feeds.signals records_delivered"]
        / history.normal_day2["feeds.signals records_delivered"]
    )
    assert drop < 0.5
    assert history.injected_day2["feeds.signals null_share journey_stage"] >= 0.3
    assert history.normal_day2["feeds.signals null_share journey_stage"] == 0
    assert history.injected_day2["feeds.customers share segment=enterprise"] >= 0.8
    # ... but with 2 runs of history (< 3) nothing is judged
    assert history.judged_too_early, "no metric was measured"
    assert {runs for _, runs, _ in history.judged_too_early} == {2}
    assert not [key for key, _, flagged in history.judged_too_early if flagged]


def test_a_rerun_of_a_day_replaces_its_metrics(history: History) -> None:
    assert history.day2_rows == history.day1_rows  # replaced, not appended
    assert history.normal_day2 != history.injected_day2
    rows = query(
        history.serving,
        f"select metric_value from quality.dq_metrics where as_of_date = '{day(2)}' "
        "and metric_key = 'feeds.signals records_delivered'",
    )
    assert rows == [(history.normal_day2["feeds.signals records_delivered"],)]


def test_after_the_minimum_history_exactly_the_injected_anomalies_are_flagged(history: History) -> None:
    exit_code, summary = history.last
    assert exit_code == ExitCode.OK, summary["message"]
    flagged = {
        key
        for (key,) in query(
            history.serving, "select metric_key from quality.dq_metric_anomalies where is_anomaly order by 1"
        )
    }
    assert flagged >= MUST_FLAG, flagged
    assert all(key in MUST_FLAG or key.startswith(MAY_ALSO_FLAG_PREFIX) for key in flagged), flagged
    judged = query(
        history.serving, "select min(baseline_runs), max(baseline_runs) from quality.dq_metric_anomalies"
    )
    assert judged == [(MIN_HISTORY, MIN_HISTORY)]  # day_000 .. day_002 (the rerun of day_002 once)
    # the same findings in the reports, as a warning: the run published
    dq = Path(summary["out_dir"]) / "dq"
    report = json.loads((dq / "dq_summary.json").read_text())
    finding = next(item for item in report["failures"] if item["expectation_id"] == "metric_anomalies")
    assert finding["severity"] == "warning"
    assert set(finding["offending_keys"]) == flagged
    junit = ET.parse(dq / "dq_junit.xml").getroot()
    case = next(case for case in junit.iter("testcase") if case.get("name") == "metric_anomalies")
    assert "feeds.signals records_delivered" in ET.tostring(case, encoding="unicode")
    assert query(
        history.serving,
        f"select status, failing_count from ops.check_history where as_of_date = '{day(3)}' "
        "and check_id = 'metric_anomalies'",
    ) == [("warn", len(flagged))]


def test_the_check_history_keeps_every_kind_of_check_with_its_home(history: History) -> None:
    kinds = query(
        history.serving,
        f"select check_home, check_type, count(*) from ops.check_history where as_of_date = '{day(3)}' "
        "group by all order by all",
    )
    homes = {(home, kind) for home, kind, _ in kinds}
    assert homes == {("dbt", "data_test"), ("dbt", "source_freshness"), ("great_expectations", "expectation")}
    freshness = query(
        history.serving,
        f"select relation_name, status from ops.check_history where as_of_date = '{day(3)}' "
        "and check_type = 'source_freshness' order by 1",
    )
    # every event feed delivered events dated as_of_date: fresh
    assert freshness == [
        ("feeds.interventions", "pass"),
        ("feeds.journey_state_log", "pass"),
        ("feeds.outcomes", "pass"),
        ("feeds.signals", "pass"),
    ]


def test_kept_attempts_is_the_latest_run_of_each_date_and_every_undated_run() -> None:
    def run(run_id: str, as_of: str | None, status: str) -> dict[str, Any]:
        check = CheckResult("orphan_signals", "great_expectations", "expectation", "q.o", "warning", status)
        return json.loads(RunChecks(run_id, as_of, "2025-01-01T00:00:00", [check]).to_json())

    runs = [
        run("1", "2025-01-01", "warn"),
        run("3", "2025-01-01", "pass"),
        run("2", None, "error"),
        run("4", "2025-01-02", "warn"),
    ]
    assert [item["run_id"] for item in kept_attempts(runs)] == ["2", "3", "4"]
    table = history_table(runs)
    assert table.column("status").to_pylist() == ["error", "pass", "warn"]
