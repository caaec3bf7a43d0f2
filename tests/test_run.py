"""`journey run` end to end: publish, analysts reading meanwhile, failures leaving the serving database alone.

Every run uses the session's dbt target (tests/conftest.py ``dbt_target``), as repeated scheduled runs use one
target folder. Three fresh runs are shared by the tests: ``published`` (the sample, read by most tests: a private
copy of the session's ``sample_run``) and ``two_more_runs`` (other settings, then the sample again: read by the
settings-leak and the identical-marts tests).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, NamedTuple

import duckdb
import pytest

from journey.run import EXIT_BAD_INPUT, EXIT_OK, RunOptions, execute
from tests.conftest import FEEDS, SAMPLE_DIR, SampleRun, copy_serving, load_sample, query

MARTS = (
    "journey_states",
    "journey_transitions",
    "customer_signals",
    "customer_risk_scores",
    "customer_risk_history",
    "customer_risk_changes",
    "intervention_outcomes",
    "kpi_overview",
    "kpi_by_segment",
    "kpi_by_action",
    "review_queue",
)


def run(tmp_path: Path, db: Path, input_dir: Path = SAMPLE_DIR, **kwargs: Any) -> tuple[int, dict]:
    options = RunOptions(db=db, input_dir=input_dir, out=tmp_path / "out", quiet=True, **kwargs)
    return execute(options)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _steady(value: Any) -> Any:
    """A float to 9 decimals: DuckDB sums doubles in parallel, so the last bit of a total can differ between two
    identical runs (a KPI total came out -0.8 in one run and -0.7999999999999999 in the next)."""
    return round(value, 9) if isinstance(value, float) else value


def mart_contents(db: Path) -> dict[str, list[tuple]]:
    """Every mart row, less the policy's measured evaluation latency: that is run metadata (how long the
    decision took), the one thing two identical runs do not share."""
    with duckdb.connect(str(db), read_only=True) as connection:
        return {
            mart: [
                tuple(_steady(value) for value in row)
                for row in connection.sql(
                    f"select columns(name -> name not like '%latency%') from marts.{mart} order by all"
                ).fetchall()
            ]
            for mart in MARTS
        }


class Published(NamedTuple):
    db: Path
    summary: dict
    folder: Path
    # every mart's rows right after the run (later tests run again on db)
    marts: dict[str, list[tuple]]


@pytest.fixture(scope="module")
def published(sample_run: SampleRun, tmp_path_factory: pytest.TempPathFactory) -> Published:
    """One full run of the sample into a fresh serving database: the session's ``sample_run`` (run once for
    every module that reads it, tests/conftest.py), in a private copy of its serving folder (later tests run
    again on it); the manifest it ran with is kept beside the run."""
    db = copy_serving(sample_run, tmp_path_factory.mktemp("run") / "serving")
    return Published(db, sample_run.summary, sample_run.folder, mart_contents(db))


def test_full_run_publishes_the_sample(published: Published) -> None:
    db, summary, _, _ = published
    assert summary["published"] and summary["status"] == "ok"
    assert summary["row_counts"]["customers_scored"] == 10
    assert summary["row_counts"]["data_quality"]["errors"] == 0
    assert set(summary["stage_timings"]) >= {
        "dbt build",
        "data quality",
        "policy",
        "downstream models",
        "report",
    }
    assert query(db, "select count(*) from marts.customer_risk_scores") == [(10,)]
    runs = query(
        db,
        "select status, published, as_of_date::varchar, json_extract(inputs, '$.signals.bytes') from ops.runs",
    )
    assert runs == [("ok", True, "2025-01-20", str((SAMPLE_DIR / "signals.json").stat().st_size))]
    out_dir = Path(summary["out_dir"])
    assert (out_dir / "report.html").exists()
    assert (out_dir / "dq" / "dq_summary.json").exists() and (out_dir / "dq" / "dq_junit.xml").exists()
    assert json.loads((out_dir / "run.json").read_text())["status"] == "ok"
    # the working copy is gone and nothing but the serving file (and its ledger) is left beside it
    assert not list((db.parent / ".journey-work").glob("*.duckdb"))


def test_each_model_and_data_test_runs_once_per_run(published: Published) -> None:
    """The build before the policy leaves out everything downstream of the policy's tables; the build after it
    builds exactly that: every model, seed and data test of the project runs exactly once per run."""
    _, summary, folder, _ = published
    manifest = json.loads((folder / "manifest.json").read_text())
    declared: dict[str, int] = {}
    # unit tests are in manifest["unit_tests"]: CI runs them, not a run
    for node in manifest["nodes"].values():
        if node["resource_type"] in ("model", "seed", "test"):
            declared[node["resource_type"]] = declared.get(node["resource_type"], 0) + 1
    nodes = summary["row_counts"]["dbt_nodes"]
    first, downstream = nodes["dbt build"], nodes["downstream models"]
    for kind, count in declared.items():
        assert first.get(kind, 0) + downstream.get(kind, 0) == count, kind
    assert downstream["model"] > 10 and downstream["test"] > 0 and first["model"] > 10
    assert "unit_test" not in first and "unit_test" not in downstream


def test_data_quality_runs_each_expectation_once_around_the_policy(published: Published) -> None:
    """The expectations on what the policy writes run after it (on the interventions it just made), the others
    before it; the reports hold every one of them, run."""
    from expectations.suites import declared_ids

    out_dir = Path(published.summary["out_dir"])
    summary = json.loads((out_dir / "dq" / "dq_summary.json").read_text())
    # every expectation, and dbt's source freshness of the four event feeds (the suite 'freshness', dbt's checks)
    freshness = next(suite for suite in summary["suites"] if suite["name"] == "freshness")
    assert freshness["expectations"] == 4
    assert summary["totals"]["expectations"] == summary["totals"]["evaluated"] == len(declared_ids()) + 4
    assert "data quality after the policy" in published.summary["stage_timings"]
    # the policy's intervention for C001 is new today and has no outcome yet: only a check after it sees it
    missing = next(f for f in summary["failures"] if f["expectation_id"] == "missing_outcomes")
    assert "P2f2c8d22b36a219c" in missing["offending_keys"]
    index = (out_dir / "dq" / "data_docs" / "index.html").read_text()
    assert "inputs.staging.stg_signals" in index and "policy.policy.interventions" in index


def test_bad_feed_leaves_the_serving_database_unchanged(
    published: Published, tmp_path: Path, sample_copy, dbt_target: Path
) -> None:
    db = published.db
    before = digest(db)
    feeds = sample_copy("broken")
    (feeds / "signals.json").write_text('[{"signal_id": "S1", ')
    exit_code, summary = run(tmp_path, db, feeds, target_path=dbt_target)
    assert exit_code == EXIT_BAD_INPUT
    assert not summary["published"] and summary["status"] == "bad_input"
    assert "signals.json" in summary["message"]
    assert digest(db) == before
    ledger = [json.loads(line) for line in (db.parent / "journey.runs.jsonl").read_text().splitlines()]
    assert [entry["status"] for entry in ledger][-1] == "bad_input"


ANALYST = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    before = con.sql("select count(*) from ops.runs").fetchone()[0]
    print("ready", before, flush=True)
    sys.stdin.readline()
    # the analyst's open connection still reads a complete database (the old file)
    print("after", con.sql("select count(*) from ops.runs").fetchone()[0],
          con.sql("select count(*) from marts.customer_risk_scores").fetchone()[0], flush=True)
    """
)


def test_run_while_an_analyst_holds_a_read_only_connection(
    published: Published, tmp_path: Path, dbt_target: Path
) -> None:
    db = published.db
    analyst = subprocess.Popen(
        [sys.executable, "-c", ANALYST, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert analyst.stdout is not None and analyst.stdin is not None
        ready = analyst.stdout.readline().split()
        assert ready[0] == "ready"
        runs_before = int(ready[1])
        exit_code, summary = run(tmp_path, db, target_path=dbt_target)
        assert exit_code == EXIT_OK, summary
        analyst.stdin.write("\n")
        analyst.stdin.flush()
        after = analyst.stdout.readline().split()
        assert after == ["after", str(runs_before), "10"]
    finally:
        analyst.kill()
        analyst.wait()
    # a new connection sees the new run, and every run before it, failed ones included (from the ledger)
    ledger = (db.parent / "journey.runs.jsonl").read_text().splitlines()
    assert query(db, "select count(*) from ops.runs") == [(len(ledger),)]
    assert len(ledger) > runs_before
    assert query(db, f"select status from ops.runs where run_id = '{summary['run_id']}'") == [("ok",)]
    # the check history survived the runs before (the bad feed's too): every attempt is in the check ledger, and
    # ops.check_history holds one attempt per date, this rerun of 2025-01-20 in place of the earlier ones
    attempts = [
        json.loads(line)
        for line in (db.parent / "journey.checks.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    same_day = [attempt["run_id"] for attempt in attempts if attempt["as_of_date"] == "2025-01-20"]
    assert len(same_day) >= 2 and same_day[-1] == summary["run_id"]
    kept = query(db, "select distinct run_id from ops.check_history where as_of_date = '2025-01-20'")
    assert kept == [(summary["run_id"],)]
    undated = {attempt["run_id"] for attempt in attempts if attempt["as_of_date"] is None}
    in_table = query(db, "select distinct run_id from ops.check_history where as_of_date is null")
    assert {run_id for (run_id,) in in_table} == undated  # a failed run's results reach it with this publish
    statuses = dict(
        query(db, "select check_id, status from ops.check_history where as_of_date = '2025-01-20'")
    )
    assert statuses["orphan_signals"] == "warn" and statuses["feed_accounting_balances"] == "pass"
    assert statuses["source_freshness_feeds.signals"] == "warn"  # the sample's signals end 4 days before


class TwoMoreRuns(NamedTuple):
    other: Path  # another folder (CHANGED_CUSTOMER's account value changed) and as_of 2025-01-18
    sample: Path  # then the sample with no date: the same inputs as `published`


CHANGED_CUSTOMER = load_sample("customers")[0]["customer_id"]


@pytest.fixture(scope="module")
def two_more_runs(
    published: Published, tmp_path_factory: pytest.TempPathFactory, dbt_target: Path
) -> TwoMoreRuns:
    """Two more fresh runs after ``published``, one after the other with the same target folder (the saved
    parse): first other settings, then the sample's. journey run hands dbt its settings as environment
    variables so that dbt's partial parsing can reuse the last parse (journey/dbt_session.py)."""
    folder = tmp_path_factory.mktemp("two_runs")
    feeds = folder / "changed"
    feeds.mkdir()
    for feed in FEEDS:
        shutil.copy(SAMPLE_DIR / f"{feed}.json", feeds / f"{feed}.json")
    customers = load_sample("customers")
    customers[0]["account_value"] = 123456.0
    (feeds / "customers.json").write_text(json.dumps(customers))
    other, sample = folder / "other" / "journey.duckdb", folder / "sample" / "journey.duckdb"
    exit_code, summary = run(folder / "one", other, feeds, as_of="2025-01-18", target_path=dbt_target)
    assert exit_code == EXIT_OK, summary
    exit_code, summary = run(folder / "two", sample, target_path=dbt_target)
    assert exit_code == EXIT_OK, summary
    return TwoMoreRuns(other, sample)


def test_identical_runs_give_identical_marts(published: Published, two_more_runs: TwoMoreRuns) -> None:
    """Two fresh runs of the same inputs (with another run between them) give the same marts."""
    assert mart_contents(two_more_runs.sample) == published.marts


def test_run_settings_of_one_run_do_not_leak_into_the_next(two_more_runs: TwoMoreRuns) -> None:
    """Each run reads its own folder and finds its own date, though the second reuses the first's parse: the
    first run's date and folder (environment variables for dbt) are not the second run's."""
    other, sample = two_more_runs
    assert query(
        other, "select as_of_date::varchar, is_as_of_date_given from intermediate.int_as_of_date"
    ) == [("2025-01-18", True)]
    assert query(
        other, f"select account_value from staging.stg_customers where customer_id = '{CHANGED_CUSTOMER}'"
    ) == [(123456.0,)]
    assert query(other, "select distinct loaded_from like '%/changed/%' from staging.stg_customers") == [
        (True,)
    ]

    assert query(
        sample, "select as_of_date::varchar, is_as_of_date_given from intermediate.int_as_of_date"
    ) == [("2025-01-20", False)]
    original = load_sample("customers")[0]["account_value"]
    assert query(
        sample, f"select account_value from staging.stg_customers where customer_id = '{CHANGED_CUSTOMER}'"
    ) == [(original,)]
    assert query(sample, "select distinct loaded_from from staging.stg_customers") == [
        (str(SAMPLE_DIR / "customers.json"),)
    ]


def test_failure_classification_reads_the_error_not_the_hook_name() -> None:
    from journey.project import DbtResult
    from journey.run import EXIT_MACHINERY, classify_dbt_failure

    hook_line = "Running 1 on-run-start hook\n1 of 1 START hook: customer_journey.on-run-start.0\n"
    machinery = DbtResult(1, hook_line + "Not implemented Error: Cannot switch temporary directory\n")
    assert classify_dbt_failure(machinery) == EXIT_MACHINERY
    truncated = DbtResult(1, hook_line + "Feed 'signals' file x/signals.json is truncated or malformed\n")
    assert classify_dbt_failure(truncated) == EXIT_BAD_INPUT
