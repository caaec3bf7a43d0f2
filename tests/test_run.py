"""`journey run` end to end: publish, analysts reading meanwhile, failures leaving the serving database alone."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import duckdb
import pytest

from journey.run import EXIT_BAD_INPUT, EXIT_OK, RunOptions, execute
from tests.conftest import SAMPLE_DIR, query

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
    kwargs.setdefault("target_path", tmp_path / "target")
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


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, Path]:
    """One full run of the sample into a serving database (module scope: several tests read it)."""
    folder = tmp_path_factory.mktemp("run")
    db = folder / "serving" / "journey.duckdb"
    exit_code, summary = run(folder, db)
    assert exit_code == EXIT_OK, summary
    return db, summary, folder


def test_full_run_publishes_the_sample(published: tuple[Path, dict, Path]) -> None:
    db, summary, _ = published
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


def test_each_data_test_runs_once_per_run(published: tuple[Path, dict, Path]) -> None:
    """The tests of the nodes downstream of the policy run in the build after the policy (on the tables it
    rebuilt), not also in the first build: every data test of the project runs exactly once."""
    _, summary, folder = published
    manifest = json.loads((folder / "target" / "manifest.json").read_text())
    data_tests = [
        node for node in manifest["nodes"].values() if node["resource_type"] == "test"
    ]  # unit tests are in manifest["unit_tests"]; a scheduled run leaves them to CI
    nodes = summary["row_counts"]["dbt_nodes"]
    first, downstream = nodes["dbt build"], nodes["downstream models"]
    assert first["test"] + downstream["test"] == len(data_tests)
    assert downstream["test"] > 0 and first["test"] > 0
    assert "unit_test" not in first and "unit_test" not in downstream


def test_bad_feed_leaves_the_serving_database_unchanged(published, tmp_path: Path, sample_copy) -> None:
    db, _, _ = published
    before = digest(db)
    feeds = sample_copy("broken")
    (feeds / "signals.json").write_text('[{"signal_id": "S1", ')
    exit_code, summary = run(tmp_path, db, feeds)
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


def test_run_while_an_analyst_holds_a_read_only_connection(published, tmp_path: Path) -> None:
    db, _, _ = published
    analyst = subprocess.Popen(
        [sys.executable, "-c", ANALYST, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert analyst.stdout is not None and analyst.stdin is not None
        ready = analyst.stdout.readline().split()
        assert ready[0] == "ready"
        runs_before = int(ready[1])
        exit_code, summary = run(tmp_path, db)
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


def test_identical_runs_give_identical_marts(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "journey.duckdb", tmp_path / "b" / "journey.duckdb"
    assert run(tmp_path / "one", first)[0] == EXIT_OK
    assert run(tmp_path / "two", second)[0] == EXIT_OK
    assert mart_contents(first) == mart_contents(second)


def test_run_settings_of_one_run_do_not_leak_into_the_next(tmp_path: Path, sample_copy) -> None:
    """journey run hands dbt its settings as environment variables so that dbt's partial parsing can reuse the
    last parse (journey/dbt_session.py): a second run with another folder and no date must still read its own
    folder and find its own date, with the same target path (the saved parse) as the first."""
    db = tmp_path / "serving" / "journey.duckdb"
    target = tmp_path / "target"
    exit_code, summary = run(tmp_path / "one", db, as_of="2025-01-18", target_path=target)
    assert exit_code == EXIT_OK, summary
    assert query(db, "select as_of_date::varchar, is_as_of_date_given from intermediate.int_as_of_date") == [
        ("2025-01-18", True)
    ]
    feeds = sample_copy("changed")
    customers = json.loads((feeds / "customers.json").read_text())
    customers[0]["account_value"] = 123456.0
    (feeds / "customers.json").write_text(json.dumps(customers))
    exit_code, summary = run(tmp_path / "two", db, feeds, target_path=target)
    assert exit_code == EXIT_OK, summary
    assert query(db, "select as_of_date::varchar, is_as_of_date_given from intermediate.int_as_of_date") == [
        ("2025-01-20", False)
    ]
    assert query(
        db,
        f"select account_value from staging.stg_customers where customer_id = '{customers[0]['customer_id']}'",
    ) == [(123456.0,)]
    assert query(db, "select distinct loaded_from like '%/changed/%' from staging.stg_customers") == [(True,)]


def test_failure_classification_reads_the_error_not_the_hook_name() -> None:
    from journey.project import DbtResult
    from journey.run import EXIT_MACHINERY, classify_dbt_failure

    hook_line = "Running 1 on-run-start hook\n1 of 1 START hook: customer_journey.on-run-start.0\n"
    machinery = DbtResult(1, hook_line + "Not implemented Error: Cannot switch temporary directory\n")
    assert classify_dbt_failure(machinery) == EXIT_MACHINERY
    truncated = DbtResult(1, hook_line + "Feed 'signals' file x/signals.json is truncated or malformed\n")
    assert classify_dbt_failure(truncated) == EXIT_BAD_INPUT
