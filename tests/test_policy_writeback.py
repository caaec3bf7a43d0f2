"""Integration tests of the policy write-back, DQ gate, CLI and review, on real dbt-built DuckDB files.

Each test copies the session's sample database (tests/conftest.py ``sample_db``) into its own tmp_path, keeping
the file name (DuckDB views name their catalog after the file), and runs the policy against the copy. The one
dbt build after the policy rebuilds what `journey run` rebuilds then: the models downstream of the policy.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from journey.run import POLICY_DOWNSTREAM
from policy.cli import EXIT_DATABASE, EXIT_USAGE, add_policy_arguments, add_review_arguments
from policy.cli import run_policy as cli_policy
from policy.cli import run_review as cli_review
from policy.config import DEFAULT_CONFIG_PATH, load_config
from policy.hashing import intervention_id_of
from policy.reference import load_reference_csv, load_reference_db
from policy.run import PolicyOutcome, PolicyRequest, run_policy
from policy.tables import policy_tables
from tests.conftest import copy_db, query

SAMPLE_AS_OF = "2025-01-20"


@pytest.fixture
def db(tmp_path: Path, sample_db: Path) -> Path:
    return copy_db(sample_db, tmp_path / "work")


@pytest.fixture
def eager_config(tmp_path: Path) -> Path:
    """The shipped policy with no cooldown and acting from the medium band, so the sample produces
    interventions (under the shipped config every high-risk sample customer had an intervention in the last
    14 days, so nobody is acted on)."""
    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    text = text.replace("cooldown_days: 14", "cooldown_days: 0").replace(
        "act_min_band: high", "act_min_band: medium"
    )
    path = tmp_path / "eager.yml"
    path.write_text(text, encoding="utf-8")
    return path


def run(db: Path, tmp_path: Path, **kwargs: object) -> PolicyOutcome:
    kwargs.setdefault("dq_summary", tmp_path / "no-dq-summary.json")
    return run_policy(PolicyRequest(db=db, **kwargs))  # type: ignore[arg-type]


def counts(db: Path) -> tuple[int, int]:
    (row,) = query(
        db, "select (select count(*) from policy.interventions), (select count(*) from policy.decision_log)"
    )
    return row


def table_rows(db: Path, table: str) -> list[tuple]:
    return query(db, f"select * from policy.{table} order by all")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="journey")
    sub = root.add_subparsers(dest="command", required=True)
    policy = sub.add_parser("policy")
    add_policy_arguments(policy)
    policy.set_defaults(func=cli_policy)
    review = sub.add_parser("review")
    add_review_arguments(review)
    review.set_defaults(func=cli_review)
    return root


def journey(*argv: str) -> int:
    args = parser().parse_args(list(argv))
    return int(args.func(args))


# --- decisions on the sample ---------------------------------------------------------------------------


def test_sample_policy_decisions_and_log(db: Path, tmp_path: Path) -> None:
    outcome = run(db, tmp_path)
    assert str(outcome.as_of_date) == SAMPLE_AS_OF  # default: the marts' as_of_date
    assert outcome.gate.status == "missing"
    assert outcome.customers == 10
    decisions = dict(query(db, "select customer_id, decision from policy.decision_log"))
    assert decisions["C003"] == "monitor"  # no signals, low risk: no action
    assert decisions["C004"] == "suppressed"  # open I008
    assert decisions["C006"] == "suppressed"  # open I005
    reasons = dict(query(db, "select customer_id, reason from policy.decision_log"))
    assert reasons["C004"].startswith("suppressed: 1 open intervention (no outcome yet)")
    assert reasons["C006"].startswith("suppressed: 1 open intervention (no outcome yet)")
    assert query(
        db, "select count(*) from policy.interventions where customer_id in ('C003', 'C004', 'C006')"
    ) == [(0,)]
    # triggered_by_signals: the active negative signals behind the risk (C006's S007 is positive)
    assert query(db, "select triggered_by_signals from policy.decision_log where customer_id = 'C006'") == [
        (["S006"],)
    ]
    # every evaluated customer has a log row with its inputs and the config that decided it
    config = load_config(reference=load_reference_csv())
    log = query(db, "select inputs, config_hash, policy_version, dq_gate from policy.decision_log")
    assert len(log) == 10
    for inputs, config_hash, version, gate in log:
        assert inputs["as_of_date"].isoformat() == SAMPLE_AS_OF
        assert (config_hash, version, gate) == (config.config_hash, config.policy_version, "missing")
    # schemas are exactly the declared ones
    for table, declared_table in policy_tables().items():
        declared = query(
            db,
            "select column_name from information_schema.columns "
            f"where table_schema = 'policy' and table_name = '{table}' order by ordinal_position",
        )
        assert [c for (c,) in declared] == list(declared_table.names)


def test_reference_values_come_from_the_database_and_match_the_seeds(db: Path) -> None:
    with duckdb.connect(str(db), read_only=True) as con:
        from_db = load_reference_db(con)
    from_csv = load_reference_csv()
    assert from_db.high_touch_actions == from_csv.high_touch_actions
    assert dict(from_db.unit_costs) == dict(from_csv.unit_costs)
    assert dict(from_db.source_weights) == dict(from_csv.source_weights) == {"automated": 1.0, "manual": 0.8}
    assert load_config(reference=from_db).config_hash == load_config(reference=from_csv).config_hash
    # a seeded value change changes the config hash stamped on decisions
    with duckdb.connect(str(db)) as con:
        con.execute(
            "update reference.ref_actions set unit_cost = 999 where recommended_action = 'proactive_outreach'"
        )
        changed = load_reference_db(con)
    assert load_config(reference=changed).config_hash != load_config(reference=from_csv).config_hash


def test_eager_policy_writes_interventions_and_a_rerun_writes_nothing_new(
    db: Path, tmp_path: Path, eager_config: Path
) -> None:
    first = run(db, tmp_path, config_path=eager_config, export=tmp_path / "export.json")
    assert first.decisions["act"] == 4
    assert first.approvals == {"pending": 3, "not_required": 1}
    assert (first.interventions_written, first.decision_log_written) == (4, 10)
    version = first.policy_version
    rows = query(
        db,
        "select customer_id, intervention_id, approval_status, generated_at::varchar, run_id "
        "from policy.interventions order by customer_id",
    )
    assert [r[0] for r in rows] == ["C001", "C002", "C005", "C009"]
    for customer, intervention_id, status, generated_at, run_id in rows:
        assert intervention_id == intervention_id_of(customer, first.as_of_date, version)
        assert generated_at == SAMPLE_AS_OF
        assert run_id == first.run_id
        assert status == ("not_required" if customer == "C002" else "pending")
    exported = json.loads((tmp_path / "export.json").read_text())
    assert sorted(r["intervention_id"] for r in exported) == sorted(r[1] for r in rows)
    assert set(exported[0]) == {
        "intervention_id", "customer_id", "journey_stage", "recommended_action", "confidence",
        "requires_human_approval", "triggered_by_signals", "evaluation_latency_ms", "generated_at",
    }  # fmt: skip

    before = (table_rows(db, "interventions"), table_rows(db, "decision_log"))
    again = run(db, tmp_path, config_path=eager_config)
    assert (again.interventions_written, again.decision_log_written) == (0, 0)
    assert again.decisions == first.decisions  # own interventions of the day are not history: same decisions
    assert (table_rows(db, "interventions"), table_rows(db, "decision_log")) == before
    dry = run(db, tmp_path, config_path=eager_config, dry_run=True)
    assert (dry.interventions_written, dry.decision_log_written) == (0, 0)


def test_dry_run_writes_nothing(db: Path, tmp_path: Path, eager_config: Path) -> None:
    outcome = run(db, tmp_path, config_path=eager_config, dry_run=True)
    assert (outcome.interventions_written, outcome.decision_log_written) == (4, 10)
    assert [row["customer_id"] for row in outcome.new_interventions] == ["C001", "C002", "C005", "C009"]
    assert query(db, "select count(*) from information_schema.schemata where schema_name = 'policy'") == [
        (0,)
    ]


def test_exception_between_the_inserts_leaves_both_tables_unchanged(
    db: Path, tmp_path: Path, eager_config: Path
) -> None:
    run(db, tmp_path)  # shipped config: creates the tables, 10 log rows, no interventions
    before = (table_rows(db, "interventions"), table_rows(db, "decision_log"))
    seen: list[int] = []

    def explode(con: duckdb.DuckDBPyConnection) -> None:
        seen.append(con.execute("select count(*) from policy.interventions").fetchone()[0])
        raise RuntimeError("injected failure between the two inserts")

    with pytest.raises(RuntimeError, match="injected failure"):
        run(db, tmp_path, config_path=eager_config, before_log_insert=explode)
    assert seen == [4]  # the interventions were inserted inside the transaction ...
    assert (table_rows(db, "interventions"), table_rows(db, "decision_log")) == before  # ... and rolled back

    # and on a database where the policy never ran, nothing is left behind either
    other = copy_db(db, tmp_path / "fresh")
    with duckdb.connect(str(other)) as con:
        con.execute("drop schema policy cascade")
    with pytest.raises(RuntimeError):
        run(other, tmp_path, config_path=eager_config, before_log_insert=explode)
    assert query(other, "select count(*) from information_schema.schemata where schema_name = 'policy'") == [
        (0,)
    ]


def test_batches_give_the_same_rows_as_one_batch(db: Path, tmp_path: Path, eager_config: Path) -> None:
    """The policy decides and writes in batches of customers (memory at 10M); 3 customers a batch on the
    sample (4 batches, the acted customers spread over them) writes exactly the rows one batch writes."""
    other = copy_db(db, tmp_path / "other")
    whole = run(db, tmp_path, config_path=eager_config, run_id="r1")
    batched = run(other, tmp_path, config_path=eager_config, run_id="r1", batch_rows=3, preview_limit=2)
    assert (batched.customers, batched.decisions, batched.approvals) == (
        whole.customers,
        whole.decisions,
        whole.approvals,
    )
    assert (batched.interventions_written, batched.decision_log_written) == (4, 10)
    assert [row["customer_id"] for row in batched.new_interventions] == ["C001", "C002"]  # preview_limit

    def rows(path: Path, table: str) -> list[tuple]:  # clock readings differ between the runs
        clock = "decided_at, evaluation_latency_ms" if table == "interventions" else "decided_at"
        return query(path, f"select * exclude ({clock}) from policy.{table} order by all")

    for table in ("interventions", "decision_log"):
        assert rows(other, table) == rows(db, table)


def test_failure_in_a_later_batch_writes_nothing(
    db: Path, tmp_path: Path, eager_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches are computed into temporary tables and written by one transaction at the end: a failure while
    deciding the third batch of 3 (fault injected into the real decide) leaves both tables as they were."""
    import policy.run

    run(db, tmp_path)  # shipped config: creates the tables, 10 log rows, no interventions
    before = (table_rows(db, "interventions"), table_rows(db, "decision_log"))
    calls: list[int] = []
    real_decide = policy.run.decide

    def decide_then_fail(*args: object, **kwargs: object) -> object:
        calls.append(len(calls) + 1)
        if len(calls) == 3:
            raise RuntimeError("injected failure in the third batch")
        return real_decide(*args, **kwargs)

    monkeypatch.setattr(policy.run, "decide", decide_then_fail)
    with pytest.raises(RuntimeError, match="third batch"):
        run(db, tmp_path, config_path=eager_config, batch_rows=3)
    assert calls == [1, 2, 3]  # two batches were decided and staged before the failure ...
    assert (table_rows(db, "interventions"), table_rows(db, "decision_log")) == before  # ... none written


# --- data-quality gate ---------------------------------------------------------------------------------


def write_summary(path: Path, failures: list[dict]) -> Path:
    """A dq_summary.json shaped like expectations/reports.py writes it (status as the runner derives it)."""
    errors = [f for f in failures if f["status"] == "exception" or f["severity"] == "error"]
    status = "errors" if errors else "warnings" if failures else "passed"
    summary = {"status": status, "started_at": "2025-01-20T06:00:00Z", "failures": failures}
    path.write_text(json.dumps(summary), encoding="utf-8")
    return path


ORPHAN_ERROR = {
    "suite": "orphans",
    "expectation_id": "orphan_signals",
    "severity": "error",
    "status": "failed",
    "unexpected_count": 1,
}


def test_error_in_dq_summary_stops_the_policy_and_force_overrides(
    db: Path, tmp_path: Path, eager_config: Path
) -> None:
    summary = write_summary(tmp_path / "dq_summary.json", [ORPHAN_ERROR])
    blocked = run(db, tmp_path, config_path=eager_config, dq_summary=summary)
    assert blocked.gate.status == "blocked"
    assert blocked.decisions["skipped_bad_data"] == 10
    assert blocked.interventions_written == 0
    reasons = {r for (r,) in query(db, "select distinct reason from policy.decision_log")}
    assert len(reasons) == 1
    (reason,) = reasons
    assert reason.startswith("skipped_bad_data: data-quality gate: error-severity data-quality failure(s)")
    assert "orphan_signals" in reason
    assert query(db, "select distinct dq_gate from policy.decision_log") == [("blocked",)]

    forced = run(db, tmp_path, config_path=eager_config, dq_summary=summary, force=True)
    assert forced.gate.status == "forced"
    assert forced.decisions["act"] == 4
    assert forced.interventions_written == 4
    assert forced.decision_log_written == 10  # the forced decisions are logged next to the blocked ones
    notes = query(db, "select distinct dq_gate_note from policy.decision_log where dq_gate = 'forced'")
    assert len(notes) == 1 and "FORCED" in notes[0][0] and "orphan_signals" in notes[0][0]


def test_warnings_and_passed_summaries_do_not_block(db: Path, tmp_path: Path) -> None:
    warning = {**ORPHAN_ERROR, "severity": "warning"}
    outcome = run(db, tmp_path, dq_summary=write_summary(tmp_path / "s.json", [warning]))
    assert outcome.gate.status == "passed"
    assert outcome.decisions["skipped_bad_data"] == 0
    not_evaluable = {**warning, "status": "exception"}
    outcome = run(db, tmp_path, dq_summary=write_summary(tmp_path / "s.json", [not_evaluable]), dry_run=True)
    assert outcome.gate.status == "blocked"
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    assert run(db, tmp_path, dq_summary=tmp_path / "broken.json", dry_run=True).gate.status == "blocked"


# --- CLI, exit codes, review ---------------------------------------------------------------------------


def test_cli_policy_prints_counts_and_exit_codes(
    db: Path, tmp_path: Path, eager_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing_summary = str(tmp_path / "none.json")
    assert journey("policy", "--db", str(db), "--dry-run", "--dq-summary", missing_summary) == 0
    out = capsys.readouterr().out
    assert "DRY RUN" in out and "no data-quality summary" in out and "suppressed" in out
    assert (
        journey("policy", "--db", str(db), "--config", str(eager_config), "--dq-summary", missing_summary)
        == 0
    )
    out = capsys.readouterr().out
    assert "wrote: 4 new interventions, 10 new decision-log rows" in out
    assert "C001" in out and "onboarding_specialist_call" in out

    assert journey("policy", "--db", str(db), "--as-of", "2025-02-01") == EXIT_USAGE
    assert "were built for 2025-01-20" in capsys.readouterr().err
    assert journey("policy", "--db", str(db), "--as-of", "yesterday") == EXIT_USAGE
    assert journey("policy", "--db", str(tmp_path / "nope.duckdb")) == EXIT_DATABASE
    assert "no such database file" in capsys.readouterr().err


def test_locked_database_is_a_clear_exit_3(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import duckdb, sys, time
            con = duckdb.connect({str(db)!r})
            print("locked", flush=True)
            time.sleep(60)
        """)],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        assert journey("policy", "--db", str(db)) == EXIT_DATABASE
        err = capsys.readouterr().err
        assert "locked by another process" in err and "Traceback" not in err
        assert journey("review", "list", "--db", str(db)) == EXIT_DATABASE
    finally:
        holder.kill()
        holder.wait()


def test_review_round_trip(
    db: Path, tmp_path: Path, eager_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert journey("review", "list", "--db", str(db)) == 0
    assert "no interventions awaiting approval" in capsys.readouterr().out
    run(db, tmp_path, config_path=eager_config)
    capsys.readouterr()
    assert journey("review", "list", "--db", str(db)) == 0
    listing = capsys.readouterr().out
    order = [line.split()[1] for line in listing.splitlines() if line.startswith("  P")]
    assert order == ["C009", "C005", "C001"]  # value at risk: 110,000 x 0.36 > 38,000 x 0.45 > 12,000 x 0.70

    ids = dict(query(db, "select customer_id, intervention_id from policy.interventions"))
    assert journey("review", "approve", ids["C009"], "--db", str(db), "--by", "ana") == 0
    assert "approved by ana" in capsys.readouterr().out
    assert (
        journey("review", "reject", ids["C005"], "--db", str(db), "--by", "ben", "--reason", "already called")
        == 0
    )
    row = query(
        db,
        "select approval_status, reviewed_by, reviewed_at is not null, review_reason from policy.interventions "
        f"where intervention_id = '{ids['C005']}'",
    )
    assert row == [("rejected", "ben", True, "already called")]
    assert query(
        db, f"select reviewed_by from policy.interventions where intervention_id = '{ids['C009']}'"
    ) == [("ana",)]

    assert (
        journey("review", "approve", ids["C009"], "--db", str(db), "--by", "ana") == EXIT_USAGE
    )  # not pending
    assert "not pending" in capsys.readouterr().err
    assert journey("review", "approve", "P-unknown", "--db", str(db), "--by", "ana") == EXIT_USAGE
    assert (
        journey("review", "approve", ids["C002"], "--db", str(db), "--by", "ana") == EXIT_USAGE
    )  # not_required
    with pytest.raises(SystemExit) as excinfo:
        journey("review", "reject", ids["C001"], "--db", str(db))  # --reason is required
    assert excinfo.value.code == 2
    capsys.readouterr()
    assert journey("review", "list", "--db", str(db)) == 0
    assert [line.split()[1] for line in capsys.readouterr().out.splitlines() if line.startswith("  P")] == [
        "C001"
    ]

    # a rejected intervention never happens: it leaves the suppression history, so it is not "open"
    outcome = run(db, tmp_path, config_path=eager_config, dry_run=True)
    assert outcome.interventions_written == 0


def test_after_a_rebuild_review_queue_and_intervention_outcomes_show_policy_rows(
    db: Path, tmp_path: Path, eager_config: Path, dbt_build: Callable[..., object]
) -> None:
    assert query(db, "select count(*) from marts.review_queue") == [(0,)]  # built before the policy ever ran
    first = run(db, tmp_path, config_path=eager_config)
    ids = dict(query(db, "select customer_id, intervention_id from policy.interventions"))
    assert journey("review", "approve", ids["C005"], "--db", str(db), "--by", "ana") == 0

    result = dbt_build(db, args=["--select", POLICY_DOWNSTREAM])
    assert result.ok, result.output[-4000:]  # type: ignore[attr-defined]
    queue = query(db, "select customer_id, review_rank from marts.review_queue order by review_rank")
    assert queue == [("C009", 1), ("C001", 2)]
    policy_rows = query(
        db,
        "select customer_id, approval_status, is_pending from marts.intervention_outcomes "
        "where origin = 'policy' order by customer_id",
    )
    assert policy_rows == [
        ("C001", "pending", True),
        ("C002", "not_required", True),
        ("C005", "approved", True),
        ("C009", "pending", True),
    ]
    # the rebuilt marts now contain the day's policy rows; a rerun still decides the same way, writes nothing
    again = run(db, tmp_path, config_path=eager_config)
    assert again.decisions == first.decisions
    assert (again.interventions_written, again.decision_log_written) == (0, 0)


def test_the_next_day_open_policy_interventions_suppress(
    db: Path, tmp_path: Path, eager_config: Path
) -> None:
    """Never two open interventions: yesterday's pending policy intervention blocks today's (another version
    stands in for another day: only same-day, same-version rows are left out of the history)."""
    run(db, tmp_path, config_path=eager_config)
    bumped = tmp_path / "bumped.yml"
    bumped.write_text(
        eager_config.read_text(encoding="utf-8").replace(
            'policy_version: "2026.11.2"', 'policy_version: "9.9"'
        ),
        encoding="utf-8",
    )
    outcome = run(db, tmp_path, config_path=bumped, dry_run=True)
    assert outcome.decisions["act"] == 0
    assert outcome.interventions_written == 0


def test_policy_runs_in_well_under_a_second_on_the_sample(db: Path, tmp_path: Path) -> None:
    started = time.perf_counter()
    outcome = run(db, tmp_path)
    elapsed = time.perf_counter() - started
    print(f"policy on the sample: {elapsed:.3f}s {outcome.timings_s}")
    assert elapsed < 5
