"""`journey run`: dbt build -> data quality -> policy -> models downstream of the policy -> report -> publish.

Each stage has the working database to itself: dbt runs in this process with the project parsed once per run
(journey/dbt_session.py) and releases the database after each command; Great Expectations and the policy open
and close their own connections. Exit codes (for schedulers):

    0  ok: published
    1  data-quality errors: reports written, policy acted on no one, NOT published
    2  usage error (bad arguments)
    3  bad input: a feed is missing, malformed or truncated; NOT published
    4  machinery failure (a dbt model or test failed, a stage crashed); NOT published
    5  another run holds the lock on this serving database

On any non-zero code the serving database is exactly as the last successful run left it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from journey.checks import (
    FRESHNESS_SUITE,
    CheckResult,
    RunChecks,
    freshness_suite,
    from_dbt_nodes,
    from_dq,
    write_check_history,
)
from journey.crash import save_traceback
from journey.dbfile import DatabaseFileError, check_readable
from journey.dbt_session import DbtSession
from journey.exit_codes import ExitCode
from journey.project import PROJECT_DIR, DbtResult
from journey.publish import RunLockedError, Workspace, discard, exclusive_run, prepare_working_copy, publish
from journey.runrecord import RunRecord, append_to_ledger, describe_inputs, new_run_id, write_ops_runs

EXIT_OK = ExitCode.OK
EXIT_DQ_ERRORS = ExitCode.DQ_ERRORS
EXIT_USAGE = ExitCode.USAGE
EXIT_BAD_INPUT = ExitCode.BAD_INPUT
EXIT_MACHINERY = ExitCode.MACHINERY
EXIT_LOCKED = ExitCode.LOCKED

# How long a run waits for the serving database's lock before it gives up with exit 5 (a review holds it for
# milliseconds, another run for minutes); JOURNEY_LOCK_WAIT_S overrides it.
LOCK_WAIT_S = 10.0

# dbt selects everything downstream of the policy's tables with this selector.
POLICY_DOWNSTREAM = "source:policy+"


class StageFailed(Exception):
    """A stage failed; carries the exit code the run ends with."""

    def __init__(self, exit_code: int, message: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class RunOptions:
    db: Path
    input_dir: Path
    out: Path
    as_of: str | None = None
    quiet: bool = False
    force: bool = False
    skip_policy: bool = False
    policy_config: Path | None = None  # default: policy/policy.yml
    target_path: Path | None = None
    # 'full': rebuild staging from the files in input_dir; 'append': add them to what earlier runs loaded
    load_mode: str = "full"
    # the dbt project folder: this repository, or a copy of it (e.g. with other reference CSVs)
    project_dir: Path = PROJECT_DIR


@dataclass
class RunContext:
    options: RunOptions
    workspace: Workspace
    record: RunRecord
    out_dir: Path
    summary: dict[str, Any] = field(default_factory=dict)
    dbt: DbtSession | None = None
    dq: Any = None  # expectations.runner.DqRun, imported with Great Expectations by the dq stage
    # every check result of the run so far (dbt data tests and source freshness, expectations): ops.check_history
    checks: list[CheckResult] = field(default_factory=list)
    freshness: Any = None  # expectations.results.SuiteRun: dbt's source freshness, for the dq reports
    checks_recorded: bool = False  # this run's line is in the check ledger

    @property
    def working(self) -> Path:
        return self.workspace.working

    def say(self, text: str) -> None:
        if not self.options.quiet:
            print(text, flush=True)


def classify_dbt_failure(result: DbtResult) -> int:
    """A feed that is missing, malformed or truncated is bad input (check_feeds's messages all start with
    "Feed '"; DuckDB's own JSON errors); anything else is machinery. (The words "on-run-start" are not a sign:
    dbt's log names the hook on every run, so a DuckDB failure deep in a 10M build was once called bad input.)"""
    text = "\n".join(result.failures) or result.output
    # a model that refuses its config names the file (assert_true, macros/cross_db/types.sql)
    if "Config seeds/" in text:
        return EXIT_USAGE
    signs = ("Malformed JSON", "No files found that match", "Feed '")
    return EXIT_BAD_INPUT if any(sign in text for sign in signs) else EXIT_MACHINERY


def dbt_failure_lines(result: DbtResult, limit: int = 25) -> str:
    keep = [
        line.rstrip()
        for line in result.output.splitlines()
        if any(
            word in line for word in ("Error", "error", "Feed '", "FAIL", "Failure", "missing", "Malformed")
        )
    ]
    return "\n".join(keep[-limit:]) or result.output[-2000:]


def dbt_stage(ctx: RunContext, args: list[str], label: str) -> None:
    if ctx.dbt is None:
        ctx.dbt = DbtSession(
            db=ctx.working,
            input_dir=ctx.options.input_dir,
            as_of=ctx.options.as_of,
            target_path=ctx.options.target_path,
            load_mode=ctx.options.load_mode,
            # a malformed feed fails its staging model, and the working copy is discarded: no parse ahead
            check_feed_syntax=False,
            project_dir=ctx.options.project_dir,
        )
    result = ctx.dbt.invoke(args)
    ctx.record.row_counts.setdefault("dbt_nodes", {})[label] = result.executed
    ctx.checks.extend(from_dbt_nodes(result.nodes))  # a failed build's test results are history too
    done = [line.strip() for line in result.output.splitlines() if "Done. PASS=" in line]
    if done:
        ctx.say(f"      {done[-1].split('Done. ')[-1]}")
    if not result.ok:
        failures = result.failures or (dbt_failure_lines(result),)
        more = (
            f" (and {len(failures) - 1} more: {PROJECT_DIR / 'logs' / 'dbt.log'})"
            if len(failures) > 1
            else ""
        )
        raise StageFailed(classify_dbt_failure(result), failures[0] + more)


# dbt unit tests check the models' logic, not the day's data: CI runs them (make test), a scheduled run does not.
PRODUCTION_EXCLUDE = ["--exclude", "test_type:unit"]


def build_stage(ctx: RunContext) -> None:
    """Everything that does not depend on the policy's write-back (everything, with --skip-policy): the
    models downstream of the policy are built once, after it (downstream_stage)."""
    exclude = [*PRODUCTION_EXCLUDE] if ctx.options.skip_policy else [*PRODUCTION_EXCLUDE, POLICY_DOWNSTREAM]
    dbt_stage(ctx, ["build", *exclude], "dbt build")
    with duckdb.connect(str(ctx.working), read_only=True) as connection:
        accounting = connection.sql(
            "select source, input_records, staged_records, rejected_records, collapsed_duplicates "
            "from quality.feed_accounting order by source"
        ).fetchall()
        as_of_date = connection.sql("select as_of_date::varchar from intermediate.int_as_of_date").fetchone()[
            0
        ]
        customers = connection.sql("select count(*) from marts.customer_risk_scores").fetchone()[0]
        bands = dict(
            connection.sql("select risk_band, count(*) from marts.customer_risk_scores group by 1").fetchall()
        )
    ctx.record.as_of_date = as_of_date
    ctx.record.row_counts["feeds"] = {
        source: {"input": total, "staged": staged, "rejected": rejected, "collapsed_duplicates": collapsed}
        for source, total, staged, rejected, collapsed in accounting
    }
    ctx.record.row_counts["customers_scored"] = customers
    ctx.record.row_counts["risk_bands"] = bands
    rejected = sum(row[3] for row in accounting)
    ctx.say(
        f"      as_of_date {as_of_date}: {customers:,} customers scored, {rejected:,} input records rejected"
    )
    freshness_check(ctx)


def freshness_check(ctx: RunContext) -> None:
    """dbt source freshness on the feeds, against as_of_date (macros/freshness.sql): each result goes to the
    check history and, as the suite 'freshness', to the data-quality reports. A stale feed is a finding, not a
    failure of the machinery: only a freshness query that could not run stops the run."""
    assert ctx.dbt is not None
    result = ctx.dbt.invoke(["source", "freshness"])
    sources = [node for node in result.nodes if node.resource_type == "source"]
    ctx.checks.extend(from_dbt_nodes(sources))
    broken = [node for node in sources if node.status == "runtime error"]
    if broken or (not result.ok and not sources):
        detail = broken[0].message if broken else (result.failures or (dbt_failure_lines(result),))[0]
        raise StageFailed(EXIT_MACHINERY, f"dbt source freshness failed: {detail}")
    ctx.freshness = freshness_suite(sources)
    stale = [node.relation for node in sources if node.status != "pass"]
    ctx.say(
        f"      source freshness: {len(sources) - len(stale)} of {len(sources)} feeds fresh"
        + (f" (stale: {', '.join(str(name) for name in stale)})" if stale else "")
    )


# Why an expectation that reads what the policy writes is not in the summary the gate reads.
AFTER_POLICY = "runs after the policy (it reads tables built from the policy's write-back)"


def dq_stage(ctx: RunContext) -> None:
    """Data quality before the policy: the expectations whose tables do not depend on the policy's write-back
    (all of them with --skip-policy). The policy's gate reads the summary this writes."""
    from expectations.config import load_checked_config
    from expectations.runner import DqRun

    # the guardrails check the thresholds of the policy that runs (--policy-config, else policy/policy.yml)
    ctx.dq = DqRun(ctx.working, ctx.out_dir / "dq", config=load_checked_config(ctx.options.policy_config))
    if ctx.freshness is not None:
        ctx.dq.add_suite(ctx.freshness)
    if ctx.options.skip_policy:
        _dq_phase(ctx, None, final=True)
        return
    assert ctx.dbt is not None  # the build stage ran
    written_by_policy = ctx.dbt.relations_downstream_of("policy")
    _dq_phase(
        ctx, lambda spec: not written_by_policy.intersection(t.lower() for t in spec.tables), final=False
    )


def dq_after_policy_stage(ctx: RunContext) -> None:
    """The rest of the expectations, on the tables the policy wrote and the models built from them; the reports
    then hold every expectation once. An error here fails the run (exit 1, not published) like one before the
    policy, and the interventions export of the run is withdrawn: the working copy the policy wrote is
    discarded."""
    _dq_phase(ctx, None, final=True)
    if ctx.summary.get("dq_exit_code"):
        export = ctx.out_dir / "policy_interventions.json"
        if export.exists():
            export.unlink()
            ctx.say(
                f"      {export.name} withdrawn: data-quality errors after the policy, nothing is published"
            )


def _dq_phase(ctx: RunContext, now: Callable[[Any], bool] | None, *, final: bool) -> None:
    from expectations.reports import terminal_summary
    from expectations.results import DatabaseUnreadableError

    assert ctx.dq is not None
    try:
        result = ctx.dq.run(now, later=AFTER_POLICY, final=final)
    except DatabaseUnreadableError as exc:
        raise StageFailed(EXIT_MACHINERY, f"data quality could not read the working database: {exc}") from exc
    totals = json.loads((ctx.out_dir / "dq" / "dq_summary.json").read_text())["totals"]
    ctx.record.row_counts["data_quality"] = totals
    ctx.summary["dq_exit_code"] = result.exit_code
    if final:  # every expectation has run once: the history gets each result (freshness is dbt's, recorded)
        ctx.checks.extend(from_dq(result, skip_suites=(FRESHNESS_SUITE,)))
    if not ctx.options.quiet:
        shown = ctx.summary.setdefault("dq_shown", set())  # the second phase prints only what is new
        for line in terminal_summary(result).splitlines():
            if line.startswith(("ERROR", "WARNING", "INFO", "EXCEPTION")) and line not in shown:
                shown.add(line)
                print(f"      {line}")


def policy_stage(ctx: RunContext) -> None:
    from policy.run import PolicyRequest, run_policy

    outcome = run_policy(
        PolicyRequest(
            db=ctx.working,
            as_of=ctx.record.as_of_date,
            dq_summary=ctx.out_dir / "dq" / "dq_summary.json",
            force=ctx.options.force,
            run_id=ctx.record.run_id,
            export=ctx.out_dir / "policy_interventions.json",
            config_path=ctx.options.policy_config,
        )
    )
    ctx.record.row_counts["policy"] = outcome.counts
    ctx.say(f"      {outcome.headline}")


def downstream_stage(ctx: RunContext) -> None:
    """The models downstream of the policy's tables and their tests, built once, after the policy wrote."""
    dbt_stage(ctx, ["build", "--select", POLICY_DOWNSTREAM, *PRODUCTION_EXCLUDE], "downstream models")


def history_stage(ctx: RunContext) -> None:
    """This run's check results into the ledger beside the serving database, then ops.check_history rebuilt from
    it in the working copy (the report reads it; it is published with the rest)."""
    record_checks(ctx)
    rows = write_check_history(ctx.working, ctx.workspace.check_ledger)
    ctx.record.row_counts["check_history"] = {"this_run": len(ctx.checks), "rows": rows}
    failing = sum(1 for check in ctx.checks if check.status not in ("pass", "skipped"))
    ctx.say(
        f"      {len(ctx.checks)} check results recorded ({failing} not passing); ops.check_history: {rows} rows"
    )


def record_checks(ctx: RunContext) -> None:
    """Append this run's results to the check ledger once (failed runs too: they reach ops.check_history with the
    next run that publishes)."""
    if ctx.checks_recorded or not ctx.checks:
        return
    run = RunChecks(
        run_id=ctx.record.run_id,
        as_of_date=ctx.record.as_of_date or ctx.options.as_of,
        recorded_at=datetime.now(UTC).isoformat(),
        checks=ctx.checks,
    )
    append_to_ledger(ctx.workspace.check_ledger, run)
    ctx.checks_recorded = True


def report_stage(ctx: RunContext) -> None:
    from journey.report import render_report

    path = render_report(
        ctx.working,
        ctx.out_dir,
        dq_summary=ctx.out_dir / "dq" / "dq_summary.json",
        run_info={
            "run_id": ctx.record.run_id,
            "as_of_date": ctx.record.as_of_date,
            "status": "data-quality errors" if ctx.summary.get("dq_exit_code") else "ok",
            "stage_timings": ctx.record.stage_timings,
            "input_dir": ctx.record.input_dir,
        },
    )
    ctx.summary["report"] = str(path)
    ctx.say(f"      {path}")


Stage = tuple[str, Callable[[RunContext], None]]


def stages(options: RunOptions) -> list[Stage]:
    chosen: list[Stage] = [("dbt build", build_stage), ("data quality", dq_stage)]
    if not options.skip_policy:
        chosen += [
            ("policy", policy_stage),
            ("downstream models", downstream_stage),
            ("data quality after the policy", dq_after_policy_stage),
        ]
    chosen += [("check history", history_stage), ("report", report_stage)]
    return chosen


def execute(options: RunOptions) -> tuple[int, dict[str, Any]]:
    """Run every stage; publish only when all of them succeeded and data quality found no error."""
    started = datetime.now(UTC)
    run_id = new_run_id(started)
    workspace = Workspace(options.db.resolve())
    out_dir = options.out.resolve() / run_id
    record = RunRecord(
        run_id=run_id, started_at=started.isoformat(), input_dir=str(options.input_dir.resolve())
    )
    ctx = RunContext(options=options, workspace=workspace, record=record, out_dir=out_dir)
    try:
        # a review or `journey policy` holds the lock for milliseconds: wait for it; a run holds it for minutes
        with exclusive_run(
            workspace,
            holder=f"journey run {run_id}",
            wait_s=float(os.environ.get("JOURNEY_LOCK_WAIT_S", LOCK_WAIT_S)),
        ):
            exit_code = _execute_locked(ctx)
    except RunLockedError as exc:
        print(f"journey run: {exc}", file=sys.stderr)
        record.status, record.exit_code, record.message = "locked", EXIT_LOCKED, str(exc)
        record.finished_at = datetime.now(UTC).isoformat()
        append_to_ledger(workspace.ledger, record)  # the attempt is in ops.runs after the next publish
        return EXIT_LOCKED, _summary(ctx)
    return exit_code, _summary(ctx)


def preflight(options: RunOptions, workspace: Workspace) -> None:
    """What can be checked before any stage runs: every config file, the input folder, the serving database.

    A bad config is a usage error (exit 2), a missing input folder or an unreadable serving database bad input
    (exit 3): both are found in a second, not after the dbt build."""
    from journey.config_check import ConfigProblem, check_configs

    try:
        check_configs(policy=not options.skip_policy, policy_config=options.policy_config)
    except ConfigProblem as exc:
        raise StageFailed(EXIT_USAGE, str(exc)) from exc
    if not options.input_dir.is_dir():
        raise StageFailed(
            EXIT_BAD_INPUT, f"input folder {options.input_dir} does not exist or is not a folder"
        )
    if workspace.serving.exists():
        try:
            check_readable(workspace.serving)
        except DatabaseFileError as exc:
            raise StageFailed(EXIT_BAD_INPUT, f"the serving database cannot be read: {exc}") from exc


def _execute_locked(ctx: RunContext) -> int:
    options = ctx.options
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    ctx.say(f"journey run {ctx.record.run_id}: {options.input_dir} -> {ctx.workspace.serving}")
    exit_code = EXIT_OK
    plan = stages(options)
    name = "preflight"
    try:
        preflight(options, ctx.workspace)
        name = "working copy"
        ctx.record.inputs = describe_inputs(options.input_dir)
        began = time.perf_counter()
        prepare_working_copy(ctx.workspace)
        ctx.record.stage_timings[name] = round(time.perf_counter() - began, 3)
        if any(stage is dq_stage for _, stage in plan):
            from expectations.gx_build import prewarm

            prewarm()  # Great Expectations' import overlaps the dbt build instead of following it
        for number, (name, stage) in enumerate(plan, start=1):
            ctx.say(f"[{number}/{len(plan)}] {name}")
            began = time.perf_counter()
            try:
                stage(ctx)
            finally:
                ctx.record.stage_timings[name] = round(time.perf_counter() - began, 3)
            ctx.say(f"      done in {ctx.record.stage_timings[name]:.1f}s")
        if ctx.summary.get("dq_exit_code"):
            exit_code = EXIT_DQ_ERRORS
            ctx.record.message = "data-quality errors: not published (see the dq report)"
    except StageFailed as exc:
        exit_code = exc.exit_code
        ctx.record.message = str(exc)
        print(f"journey run: {name} failed: {exc}", file=sys.stderr)
    except OSError as exc:  # a full disk, a folder that cannot be written: the machine, not the data
        exit_code = EXIT_MACHINERY
        ctx.record.message = f"{name}: {describe_os_error(exc)}"
        print(f"journey run: {name} failed: {describe_os_error(exc)}", file=sys.stderr)
    except Exception as exc:  # a crash in our own code: one line, the traceback in the run folder
        exit_code = EXIT_MACHINERY
        log = save_traceback(exc, ctx.out_dir / "crash.log")
        ctx.record.message = f"{name} crashed: {type(exc).__name__}: {exc}"
        print(f"journey run: {name} crashed: {type(exc).__name__}: {exc} (traceback: {log})", file=sys.stderr)

    ctx.record.exit_code = exit_code
    ctx.record.status = {
        EXIT_OK: "ok",
        EXIT_DQ_ERRORS: "dq_errors",
        EXIT_BAD_INPUT: "bad_input",
        EXIT_USAGE: "bad_config",
    }.get(exit_code, "failed")
    ctx.record.finished_at = datetime.now(UTC).isoformat()
    if exit_code == EXIT_OK:
        try:
            began = time.perf_counter()
            ctx.record.published = True  # as ops.runs will say once the file is in place
            write_ops_runs(ctx.working, ctx.workspace.ledger, ctx.record)
            publish(ctx.workspace)
            ctx.record.stage_timings["publish"] = round(time.perf_counter() - began, 3)
            ctx.say(f"published {ctx.workspace.serving} in {ctx.record.stage_timings['publish']:.1f}s")
        except (OSError, duckdb.Error) as exc:
            exit_code = ctx.record.exit_code = EXIT_MACHINERY
            ctx.record.status, ctx.record.published = "failed", False
            ctx.record.message = f"publish: {describe_os_error(exc) if isinstance(exc, OSError) else exc}"
            print(f"journey run: {ctx.record.message}", file=sys.stderr)
    if not ctx.record.published:
        discard(ctx.workspace)
        ctx.say(f"not published: {ctx.workspace.serving} is unchanged")
    for write in (
        lambda: record_checks(ctx),
        lambda: append_to_ledger(ctx.workspace.ledger, ctx.record),
        lambda: _write_run_json(ctx),
    ):
        try:
            write()
        except OSError as exc:
            print(f"journey run: could not record the run: {describe_os_error(exc)}", file=sys.stderr)
    return exit_code


def _write_run_json(ctx: RunContext) -> None:
    (ctx.out_dir / "run.json").write_text(ctx.record.to_json() + "\n")


def describe_os_error(exc: OSError) -> str:
    """``No space left on device: /data/.journey-work/journey.duckdb`` rather than a traceback."""
    where = f": {exc.filename}" if exc.filename else ""
    return f"{exc.strerror or exc}{where}"


def _summary(ctx: RunContext) -> dict[str, Any]:
    record = ctx.record
    return {
        "run_id": record.run_id,
        "status": record.status,
        "exit_code": record.exit_code,
        "as_of_date": record.as_of_date,
        "serving_db": str(ctx.workspace.serving),
        "published": record.published,
        "out_dir": str(ctx.out_dir),
        "report": ctx.summary.get("report"),
        "stage_timings": record.stage_timings,
        "row_counts": record.row_counts,
        "message": record.message,
    }


def print_summary(summary: dict[str, Any]) -> None:
    counts = summary.get("row_counts", {})
    print()
    print(f"run {summary['run_id']}: {summary['status']} (exit {summary['exit_code']})")
    if "customers_scored" in counts:
        bands = ", ".join(f"{band} {n:,}" for band, n in sorted(counts.get("risk_bands", {}).items()))
        print(f"  customers scored: {counts['customers_scored']:,} ({bands})")
    if "policy" in counts:
        decisions = ", ".join(
            f"{name} {n:,}" for name, n in sorted(counts["policy"].get("decisions", {}).items())
        )
        print(f"  policy decisions: {decisions}")
    if "data_quality" in counts:
        totals = counts["data_quality"]
        print(
            "  data quality: "
            + ", ".join(f"{totals.get(key, 0)} {key}" for key in ("errors", "warnings", "informational"))
        )
    timings = ", ".join(
        f"{name} {seconds:.1f}s" for name, seconds in summary.get("stage_timings", {}).items()
    )
    print(f"  stages: {timings}")
    print(f"  database: {summary['serving_db']} ({'published' if summary['published'] else 'NOT published'})")
    print(f"  reports: {summary['out_dir']}")
    if summary.get("message"):
        print(f"  note: {summary['message'].splitlines()[0]}")
