"""The `journey` command: one entry point for the whole pipeline.

journey run        dbt build -> data quality -> policy -> downstream models -> report -> publish
journey build      dbt build only (extra arguments go to dbt)
journey dq         the Great Expectations suites on a built database
journey policy     decide interventions and write them back
journey review     list, approve or reject interventions awaiting a person
journey generate   synthetic feeds of any size
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from journey.crash import EXIT_INTERRUPTED, report_crash
from journey.project import DEFAULT_DB, DEFAULT_INPUT_DIR, run_dbt

DEFAULT_OUT = Path("out")


def _add_inputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", type=Path, default=DEFAULT_DB, help="DuckDB file (default: $JOURNEY_DB or journey.duckdb)"
    )
    parser.add_argument(
        "--input-dir", type=Path, default=DEFAULT_INPUT_DIR, help="folder with the five JSON feeds"
    )
    parser.add_argument(
        "--as-of",
        type=iso_date,
        default=None,
        help="business date YYYY-MM-DD (default: latest date in the inputs)",
    )


def iso_date(text: str) -> str:
    """A business date as typed (YYYY-MM-DD), checked before any stage runs."""
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def cmd_run(args: argparse.Namespace) -> int:
    from journey.run import RunOptions, execute, print_summary

    options = RunOptions(
        db=args.db,
        input_dir=args.input_dir,
        out=args.out,
        as_of=args.as_of,
        quiet=args.quiet or args.json,
        force=args.force,
        skip_policy=args.skip_policy,
        policy_config=args.policy_config,
        load_mode=args.load_mode,
    )
    exit_code, summary = execute(options)
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    elif not args.quiet:
        print_summary(summary)
    return exit_code


def cmd_build(args: argparse.Namespace) -> int:
    # dbt runs in this process, as in `journey run` (journey/dbt_session.py); `--` ends journey's own options
    dbt_args = args.dbt_args[1:] if args.dbt_args[:1] == ["--"] else args.dbt_args
    # a new database in a folder that does not exist yet: create the folder, as `journey run` does (else DuckDB
    # fails inside dbt-duckdb with a traceback)
    args.db.parent.mkdir(parents=True, exist_ok=True)
    return run_dbt(["build", *dbt_args], db=args.db, input_dir=args.input_dir, as_of=args.as_of).returncode


def cmd_dq(args: argparse.Namespace) -> int:
    from expectations.cli import run

    return run(args)


def cmd_generate(args: argparse.Namespace) -> int:
    from journey.generate import run

    return run(args)


def cmd_bench(args: argparse.Namespace) -> int:
    from journey.bench import run

    return run(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="journey", description="Customer Journey Orchestrator")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="the whole loop on a folder of feeds, published atomically")
    _add_inputs(run)
    run.add_argument("--out", type=Path, default=DEFAULT_OUT, help="reports folder; one sub-folder per run")
    run.add_argument("--quiet", action="store_true", help="print nothing but errors")
    run.add_argument("--json", action="store_true", help="print only a JSON summary (for jobs)")
    run.add_argument("--force", action="store_true", help="let the policy act despite data-quality errors")
    run.add_argument("--skip-policy", action="store_true", help="stop after data quality (no write-back)")
    run.add_argument(
        "--policy-config", type=Path, default=None, help="policy config file (default: policy/policy.yml)"
    )
    run.add_argument(
        "--load-mode",
        choices=("full", "append"),
        default="full",
        help="full: rebuild staging from the files in --input-dir (default); append: add them to what earlier"
        " runs loaded into --db (daily increments: one folder per day)",
    )
    run.set_defaults(func=cmd_run)

    build = sub.add_parser("build", help="dbt build only (extra arguments go to dbt)")
    _add_inputs(build)
    build.add_argument(
        "dbt_args", nargs=argparse.REMAINDER, help="extra dbt arguments after --, e.g. -- -s staging"
    )
    build.set_defaults(func=cmd_build)

    from expectations.cli import add_arguments as add_dq_arguments

    dq = sub.add_parser("dq", help="run the data-quality suites on a built database")
    add_dq_arguments(dq)
    dq.set_defaults(func=cmd_dq)

    from journey.generate import add_arguments as add_generate_arguments

    generate = sub.add_parser("generate", help="write synthetic feeds of any size")
    add_generate_arguments(generate)
    generate.set_defaults(func=cmd_generate)

    from journey.bench import add_arguments as add_bench_arguments

    bench = sub.add_parser("bench", help="time the whole pipeline at several sizes against the DuckDB floor")
    add_bench_arguments(bench)
    bench.set_defaults(func=cmd_bench)

    _add_policy_commands(sub)
    return parser


def _add_policy_commands(sub: argparse._SubParsersAction) -> None:
    from policy.cli import add_policy_arguments, add_review_arguments, run_policy, run_review

    policy = sub.add_parser("policy", help="decide interventions from the risk mart and write them back")
    add_policy_arguments(policy)
    policy.set_defaults(func=run_policy)

    review = sub.add_parser("review", help="human review of interventions awaiting approval")
    add_review_arguments(review)
    review.set_defaults(func=run_review)


def absolute_paths(args: argparse.Namespace) -> argparse.Namespace:
    """Every path option, given or defaulted, as an absolute path against the current folder.

    The commands hand paths to libraries that need absolute ones (Great Expectations' file stores, dbt, which
    runs in the project folder); resolving them here, once, means every command accepts what a person types."""
    for name, value in vars(args).items():
        if isinstance(value, Path):
            setattr(args, name, value.expanduser().absolute())
    return args


def main(argv: list[str] | None = None) -> int:
    args = absolute_paths(build_parser().parse_args(argv))
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print(f"journey {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # the last line of defence: one line, the detail in a file, never a traceback
        return report_crash(args.command, exc)


if __name__ == "__main__":
    sys.exit(main())
