"""Command-line glue for ``journey policy`` and ``journey review`` (wired in ``journey/cli.py``).

    journey policy [--db DB] [--as-of YYYY-MM-DD] [--dry-run] [--force] [--dq-summary PATH] [--export PATH]
                   [--config PATH] [--run-id ID]
    journey policy explain DECISION_ID [--json] [--db DB]
    journey review list   [--db DB]
    journey review approve ID [--by NAME] [--reason TEXT] [--db DB]
    journey review reject  ID --reason TEXT [--by NAME] [--db DB]

Exit codes (journey/exit_codes.py): 0 ok; 2 bad usage (bad date, bad config, unknown or not-pending intervention
id, a decision id not in the log); 3 the database cannot be used (missing, corrupt, locked by another process, not built, no reference seeds);
5 a `journey run` is building this database (the review or the policy's write would be lost when it publishes,
so nothing is written; `--wait SECONDS` waits for it) -- a one-line message on stderr, no stack trace.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import duckdb

from journey.dbfile import explain_open_error
from journey.exit_codes import ExitCode
from journey.publish import RunLockedError, Workspace, exclusive_run
from policy.db import DatabaseUnavailableError, open_db, require_file
from policy.dq_gate import DEFAULT_DQ_SUMMARY
from policy.explain import UnknownDecisionError, explain, render_text
from policy.inputs import MissingMartsError
from policy.review import ReviewError, list_pending, review
from policy.run import PolicyOutcome, PolicyRequest, PolicyUsageError
from policy.run import run_policy as _run

__all__ = ["add_policy_arguments", "add_review_arguments", "run_explain", "run_policy", "run_review"]

EXIT_OK = ExitCode.OK
EXIT_USAGE = ExitCode.USAGE
EXIT_DATABASE = ExitCode.BAD_INPUT
EXIT_LOCKED = ExitCode.LOCKED
_SHOW_INTERVENTIONS = 50  # listed on the terminal; all of them go to --export


def _default_db() -> Path:
    return Path(os.environ.get("JOURNEY_DB", "journey.duckdb"))


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", type=Path, default=_default_db(), help="DuckDB file (default: $JOURNEY_DB or journey.duckdb)"
    )


def _add_wait(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for a running `journey run` to finish with the database (default: refuse at once)",
    )


def add_policy_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``journey policy``."""
    _add_db(parser)
    _add_wait(parser)
    parser.add_argument(
        "--as-of",
        default=None,
        help="business date YYYY-MM-DD; must equal the date the marts were built for (default: that date)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="decide and print what would be written; write nothing"
    )
    parser.add_argument(
        "--force", action="store_true", help="act even though the last data-quality run had errors (logged)"
    )
    parser.add_argument(
        "--dq-summary",
        type=Path,
        default=DEFAULT_DQ_SUMMARY,
        help=f"data-quality summary to gate on (default: {DEFAULT_DQ_SUMMARY}); missing = gate not checked",
    )
    parser.add_argument(
        "--export",
        type=Path,
        default=None,
        metavar="PATH",
        help="also write the day's policy interventions as JSON in the interventions feed's schema",
    )
    parser.add_argument(
        "--config", type=Path, default=None, help="policy config file (default: policy/policy.yml)"
    )
    parser.add_argument("--run-id", default=None, help="run id to stamp on written rows (default: generated)")
    parser.add_argument(
        "--batch-rows",
        type=_positive_int,
        default=PolicyRequest.batch_rows,
        metavar="N",
        help=f"customers decided and written at a time; bounds memory (default: {PolicyRequest.batch_rows:,})",
    )
    sub = parser.add_subparsers(dest="policy_command", metavar="{explain}")
    explaining = sub.add_parser(
        "explain", help="show one decision's inputs, config, policy version, decision and reason (read-only)"
    )
    explaining.add_argument("decision_id", metavar="DECISION_ID", help="decision id, e.g. D3f2a...")
    explaining.add_argument("--json", action="store_true", help="print the record as JSON")
    explaining.add_argument(
        "--db", type=Path, default=argparse.SUPPRESS, help="DuckDB file (default: that of `journey policy`)"
    )


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def add_review_arguments(parser: argparse.ArgumentParser) -> None:
    """Subcommands of ``journey review``: list, approve ID, reject ID --reason."""
    sub = parser.add_subparsers(dest="review_command", required=True)
    listing = sub.add_parser("list", help="interventions awaiting approval, highest value at risk first")
    _add_db(listing)
    for name, help_text in (("approve", "approve a pending intervention"), ("reject", "reject one")):
        command = sub.add_parser(name, help=help_text)
        command.add_argument("intervention_id", metavar="ID", help="intervention id, e.g. P3f2a...")
        command.add_argument(
            "--by",
            default=os.environ.get("USER") or os.environ.get("USERNAME"),
            help="who reviews (default: $USER)",
        )
        command.add_argument(
            "--reason", required=name == "reject", default=None, help="why (required for reject)"
        )
        _add_db(command)
        _add_wait(command)


def _fail(code: int, message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def _print_outcome(outcome: PolicyOutcome) -> None:
    head = "DRY RUN (nothing written)" if outcome.dry_run else f"run {outcome.run_id}"
    print(f"journey policy: {head}")
    print(
        f"  as_of_date {outcome.as_of_date}, policy {outcome.policy_version} (config {outcome.config_hash[:12]})"
    )
    print(f"  {outcome.gate.note}")
    print(f"  customers evaluated: {outcome.customers:,}")
    print("  decisions:")
    for name, n in outcome.decisions.items():
        print(f"    {name:<18}{n:>12,}")
    print("  approval (act decisions):")
    for name, n in outcome.approvals.items():
        print(f"    {name:<18}{n:>12,}")
    verb = "would write" if outcome.dry_run else "wrote"
    print(
        f"  {verb}: {outcome.interventions_written:,} new interventions, "
        f"{outcome.decision_log_written:,} new decision-log rows"
        + (
            ""
            if outcome.dry_run or outcome.decision_log_written
            else " (a rerun with the same inputs adds none)"
        )
    )
    for row in outcome.new_interventions[:_SHOW_INTERVENTIONS]:
        print(
            f"    {row['intervention_id']}  {row['customer_id']:<12} {row['recommended_action']:<28} "
            f"{row['approval_status']:<13} {row['reason']}"
        )
    shown = min(len(outcome.new_interventions), _SHOW_INTERVENTIONS)
    if outcome.interventions_written > shown:
        print(f"    ... and {outcome.interventions_written - shown:,} more")
    if outcome.export_path is not None:
        print(f"  exported the day's interventions to {outcome.export_path}")
    timings = ", ".join(f"{name} {seconds:.2f}s" for name, seconds in outcome.timings_s.items())
    print(f"  timings: {timings}")


def run_explain(args: argparse.Namespace) -> int:
    """``journey policy explain DECISION_ID``: returns the exit code."""
    try:
        with open_db(args.db, read_only=True) as con:
            explanation = explain(con, args.decision_id)
    except UnknownDecisionError as exc:
        return _fail(EXIT_USAGE, str(exc))
    except DatabaseUnavailableError as exc:
        return _fail(EXIT_DATABASE, str(exc))
    except duckdb.Error as exc:
        return _fail(EXIT_DATABASE, explain_open_error(args.db, exc))
    print(json.dumps(explanation.as_json(), indent=2) if args.json else render_text(explanation))
    return EXIT_OK


def run_policy(args: argparse.Namespace) -> int:
    """``journey policy``: returns the exit code."""
    if getattr(args, "policy_command", None) == "explain":
        return run_explain(args)
    request = PolicyRequest(
        db=args.db,
        as_of=args.as_of,
        dq_summary=args.dq_summary,
        force=args.force,
        run_id=args.run_id,
        export=args.export,
        dry_run=args.dry_run,
        config_path=args.config,
        batch_rows=args.batch_rows,
    )
    try:
        if args.dry_run:
            outcome = _run(request)
        else:  # it writes the serving database: never while a run builds the copy that will replace it
            require_file(args.db)
            with exclusive_run(Workspace(args.db), holder="journey policy", wait_s=args.wait):
                outcome = _run(request)
    except PolicyUsageError as exc:
        return _fail(EXIT_USAGE, str(exc))
    except (DatabaseUnavailableError, MissingMartsError) as exc:
        return _fail(EXIT_DATABASE, str(exc))
    except RunLockedError as exc:
        return _fail(EXIT_LOCKED, f"nothing was written: {exc}; run it when that has finished")
    except duckdb.Error as exc:
        return _fail(EXIT_DATABASE, explain_open_error(args.db, exc))
    _print_outcome(outcome)
    if outcome.gate.blocks:
        print(
            "  the data-quality gate stopped the policy: every customer is skipped_bad_data "
            "(fix the data, or rerun with --force to act anyway)"
        )
    return EXIT_OK


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def run_review(args: argparse.Namespace) -> int:
    """``journey review list|approve|reject``: returns the exit code."""
    command = args.review_command
    try:
        if command == "list":
            with open_db(args.db, read_only=True) as con:
                items = list_pending(con)
            if not items:
                print("no interventions awaiting approval")
                return EXIT_OK
            print(f"{len(items)} intervention(s) awaiting approval, highest value at risk first:")
            print(
                f"  {'intervention_id':<18}{'customer':<12}{'value':>12}{'risk':>7} {'band':<9}"
                f"{'at risk':>12}  {'action':<28}{'generated':<12}"
            )
            for item in items:
                risk = "-" if item.risk_score is None else f"{item.risk_score:.2f}"
                print(
                    f"  {item.intervention_id:<18}{item.customer_id:<12}{_money(item.account_value):>12}"
                    f"{risk:>7} {item.risk_band or '-':<9}{_money(item.value_at_risk):>12}  "
                    f"{item.recommended_action:<28}{item.generated_at!s:<12}"
                )
                print(f"      {item.reason}")
            return EXIT_OK
        holder = f"journey review {command} {args.intervention_id} by {args.by}"
        require_file(args.db)  # before the lock: no lock folder beside a database that is not there
        with (
            exclusive_run(Workspace(args.db), holder=holder, wait_s=args.wait),
            open_db(args.db, read_only=False) as con,
        ):
            row = review(
                con,
                args.intervention_id,
                approve=command == "approve",
                reviewed_by=args.by,
                reason=args.reason,
            )
    except ReviewError as exc:
        return _fail(EXIT_USAGE, str(exc))
    except DatabaseUnavailableError as exc:
        return _fail(EXIT_DATABASE, str(exc))
    except RunLockedError as exc:
        return _fail(
            EXIT_LOCKED,
            f"the review was NOT recorded: {exc}; repeat it when that has finished (or pass --wait SECONDS)",
        )
    except duckdb.Error as exc:
        return _fail(EXIT_DATABASE, explain_open_error(args.db, exc))
    print(
        f"{row['intervention_id']} ({row['customer_id']}, {row['recommended_action']}): {row['approval_status']} "
        f"by {row['reviewed_by']} at {row['reviewed_at']:%Y-%m-%d %H:%M:%S} UTC"
        + (f" -- {row['review_reason']}" if row["review_reason"] else "")
    )
    return EXIT_OK
