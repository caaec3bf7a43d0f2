"""The `journey` command: one entry point for the whole pipeline."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import duckdb

from journey.project import DEFAULT_DB, DEFAULT_INPUT_DIR, run_dbt


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", type=Path, default=DEFAULT_DB, help="DuckDB file (default: $JOURNEY_DB or journey.duckdb)"
    )
    parser.add_argument(
        "--input-dir", type=Path, default=DEFAULT_INPUT_DIR, help="folder with the five JSON feeds"
    )
    parser.add_argument(
        "--as-of", default=None, help="business date YYYY-MM-DD (default: latest date in the inputs)"
    )


def feed_accounting(db: Path) -> list[tuple]:
    """Rows of quality.feed_accounting, read through a short-lived read-only connection."""
    with duckdb.connect(str(db), read_only=True) as connection:
        return connection.sql(
            "select source, input_records, staged_records, rejected_records, collapsed_duplicates "
            "from quality.feed_accounting order by source"
        ).fetchall()


def cmd_run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    result = run_dbt(["build"], db=args.db, input_dir=args.input_dir, as_of=args.as_of)
    if not result.ok:
        print(
            f"journey run: dbt build failed (exit {result.returncode}); see the messages above.",
            file=sys.stderr,
        )
        return 2
    print(
        f"\nBuilt {args.db.resolve()} from {args.input_dir.resolve()} in {time.perf_counter() - started:.1f}s"
    )
    print(f"{'feed':<20}{'input':>10}{'staged':>10}{'rejected':>10}{'dup':>8}")
    for source, total, staged, rejected, collapsed in feed_accounting(args.db):
        print(f"{source:<20}{total:>10}{staged:>10}{rejected:>10}{collapsed:>8}")
    print(
        f"\nQuery it: duckdb -readonly {args.db}   (or python: duckdb.connect('{args.db}', read_only=True))"
    )
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    return run_dbt(
        ["build", *args.dbt_args], db=args.db, input_dir=args.input_dir, as_of=args.as_of
    ).returncode


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="journey", description="Customer Journey Orchestrator")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="build the whole pipeline on a folder of feeds")
    _add_common(run)
    run.set_defaults(func=cmd_run)

    build = sub.add_parser("build", help="dbt build only (extra arguments go to dbt)")
    _add_common(build)
    build.add_argument("dbt_args", nargs=argparse.REMAINDER, help="extra dbt arguments, e.g. -s staging")
    build.set_defaults(func=cmd_build)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
