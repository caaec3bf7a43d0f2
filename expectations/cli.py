"""``journey dq``: arguments and exit codes (0 ok or warnings only, 1 any error, 2 config, 3 db unreadable)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from expectations.config import DqConfigError
from expectations.ge_compat import GeCompatError
from expectations.reports import terminal_summary
from expectations.results import EXIT_DB_UNREADABLE, EXIT_USAGE, DatabaseUnreadableError
from expectations.suites import SUITES

DEFAULT_OUT = Path("out/dq")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        type=Path,
        default=Path(os.environ.get("JOURNEY_DB", "journey.duckdb")),
        help="DuckDB file to check, opened read-only (default: $JOURNEY_DB or journey.duckdb)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"folder for Data Docs, dq_summary.json and dq_junit.xml (default: {DEFAULT_OUT})",
    )
    parser.add_argument(
        "--suite",
        action="append",
        choices=sorted(SUITES),
        dest="suites",
        help="run only this suite (repeatable; default: all)",
    )


def run(args: argparse.Namespace) -> int:
    from expectations.runner import run_suites

    try:
        result = run_suites(args.db, args.out, getattr(args, "suites", None))
    except DatabaseUnreadableError as exc:
        print(
            f"journey dq: cannot read the database: {exc}; reports saying so: {args.out / 'dq_summary.json'},"
            f" {args.out / 'dq_junit.xml'}",
            file=sys.stderr,
        )
        return EXIT_DB_UNREADABLE
    except (DqConfigError, GeCompatError) as exc:
        print(f"journey dq: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(terminal_summary(result))
    return result.exit_code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="journey dq", description="Run the data-quality suites.")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
