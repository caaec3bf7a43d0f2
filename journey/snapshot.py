"""Table snapshots of a built database, to show that a change left every table's rows identical.

``python -m journey.snapshot DB --out snapshot.json`` writes, for every table and view of the project's
schemas, its row count, its columns (name and type) and a sha256 digest of its rows in sorted order.
``python -m journey.snapshot --compare A.json B.json`` lists the tables that differ (exit status 1 if any).

The digest leaves out what depends on the run rather than on the data, so that two builds of the same inputs
from different folders, at different times, compare equal:

- columns holding run metadata (``loaded_at``, ``run_id``, ``decided_at``, timings, ...) are left out;
- ``loaded_from`` (an absolute file path) is reduced to the file's name;
- floating-point values are rounded to 9 decimals (DuckDB's parallel sums differ in the last bit between
  identical runs), also inside JSON columns and JSON documents kept as text.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any
from uuid import UUID

import duckdb

SCHEMAS = ("staging", "intermediate", "marts", "quality", "reference", "policy", "ops")
FLOAT_DECIMALS = 9

# Run metadata, left out of every table's digest: wall-clock times, run ids, measured durations.
EXCLUDED_COLUMNS = frozenset(
    {
        "loaded_at",
        "run_id",
        "decided_at",
        "started_at",
        "finished_at",
        "reviewed_at",
        "evaluation_latency_ms",
        "dq_gate_note",  # names the run's output folder
        # percentiles of the measured latency above (kpi marts)
        "p50_evaluation_latency_ms",
        "p95_evaluation_latency_ms",
    }
)
# Run metadata in one table only (schema.table.column): absolute paths and timings of the run record.
EXCLUDED_TABLE_COLUMNS = frozenset(
    {
        "ops.runs.input_dir",
        "ops.runs.inputs",
        "ops.runs.stage_timings",
    }
)
# Absolute file paths, reduced to the file's name.
BASENAME_COLUMNS = frozenset({"loaded_from"})


@dataclass(frozen=True)
class Column:
    name: str
    type: str


def canonical(value: Any) -> Any:
    """A JSON-serialisable form of a DuckDB value, with floats rounded to FLOAT_DECIMALS."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return repr(value)
        rounded = round(value, FLOAT_DECIMALS)
        return 0.0 if rounded == 0 else rounded  # -0.0 and 0.0 are the same value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, Mapping):
        return {str(key): canonical(item) for key, item in value.items()}
    if isinstance(value, Sequence):
        return [canonical(item) for item in value]
    return str(value)


def _looks_like_json_text(value: Any, column: Column) -> bool:
    """A JSON document kept as text (the decision log's inputs): its floats are rounded like any other."""
    if column.type != "VARCHAR" or not isinstance(value, str) or not value.startswith(("{", "[")):
        return False
    try:
        json.loads(value)
    except ValueError:
        return False
    return True


def canonical_cell(value: Any, column: Column) -> Any:
    if value is not None and column.name in BASENAME_COLUMNS:
        return PurePosixPath(str(value)).name
    if value is not None and (column.type == "JSON" or _looks_like_json_text(value, column)):
        return canonical(json.loads(value))
    return canonical(value)


def relations(connection: duckdb.DuckDBPyConnection, schemas: Sequence[str]) -> list[tuple[str, str]]:
    placeholders = ", ".join("?" for _ in schemas)
    return connection.execute(
        "select table_schema, table_name from information_schema.tables "
        f"where table_schema in ({placeholders}) order by table_schema, table_name",
        list(schemas),
    ).fetchall()


def columns_of(connection: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[Column]:
    rows = connection.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table],
    ).fetchall()
    return [Column(name, data_type) for name, data_type in rows]


def is_digested(qualified_table: str, column: Column, extra_excluded: frozenset[str] = frozenset()) -> bool:
    """False for run metadata: a column of EXCLUDED_COLUMNS or EXCLUDED_TABLE_COLUMNS, or named in
    `extra_excluded` (by column name or as schema.table.column)."""
    qualified_column = f"{qualified_table}.{column.name}"
    return not (
        column.name in EXCLUDED_COLUMNS
        or qualified_column in EXCLUDED_TABLE_COLUMNS
        or column.name in extra_excluded
        or qualified_column in extra_excluded
    )


def describe_table(
    connection: duckdb.DuckDBPyConnection,
    schema: str,
    table: str,
    extra_excluded: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    qualified = f"{schema}.{table}"
    columns = columns_of(connection, schema, table)
    digested = [column for column in columns if is_digested(qualified, column, extra_excluded)]
    select_list = ", ".join(f'"{column.name}"' for column in digested) or "1"
    rows = connection.execute(f'select {select_list} from "{schema}"."{table}"').fetchall()
    lines = sorted(
        json.dumps(
            [canonical_cell(value, column) for value, column in zip(row, digested, strict=True)],
            sort_keys=True,
            separators=(",", ":"),
        )
        for row in rows
    )
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode())
        digest.update(b"\n")
    return {
        "rows": len(rows),
        "columns": [[column.name, column.type] for column in columns],
        "excluded": [column.name for column in columns if column not in digested],
        "digest": digest.hexdigest(),
    }


def snapshot(
    db: Path, schemas: Sequence[str] = SCHEMAS, extra_excluded: frozenset[str] = frozenset()
) -> dict[str, dict[str, Any]]:
    """Every table and view of `schemas` in the DuckDB file `db` (opened read-only)."""
    with duckdb.connect(str(db), read_only=True) as connection:
        return {
            f"{schema}.{table}": describe_table(connection, schema, table, extra_excluded)
            for schema, table in relations(connection, schemas)
        }


def compare(before: Mapping[str, Mapping[str, Any]], after: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """One line per table that is missing on one side or whose columns, row count or digest differ."""
    differences: list[str] = []
    for name in sorted(before.keys() | after.keys()):
        if name not in after:
            differences.append(f"{name}: only in the first snapshot")
            continue
        if name not in before:
            differences.append(f"{name}: only in the second snapshot")
            continue
        old, new = before[name], after[name]
        if old["columns"] != new["columns"]:
            differences.append(f"{name}: columns differ: {old['columns']} != {new['columns']}")
        if old["rows"] != new["rows"]:
            differences.append(f"{name}: row count differs: {old['rows']} != {new['rows']}")
        elif old["digest"] != new["digest"]:
            differences.append(f"{name}: rows differ (digest)")
    return differences


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m journey.snapshot", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("db", nargs="?", type=Path, help="DuckDB file to snapshot")
    parser.add_argument("--out", type=Path, help="write the snapshot here (default: standard output)")
    parser.add_argument(
        "--compare", nargs=2, type=Path, metavar=("A", "B"), help="compare two snapshot files instead"
    )
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="COLUMN",
        help="also leave this column out of the digests (a name, or schema.table.column); repeatable",
    )
    args = parser.parse_args(argv)
    if args.compare:
        first, second = (json.loads(path.read_text()) for path in args.compare)
        differences = compare(first, second)
        for line in differences:
            print(line)
        print(f"{len(first.keys() & second.keys())} tables compared, {len(differences)} differences")
        return 1 if differences else 0
    if args.db is None:
        parser.error("a database file (or --compare A B) is required")
    document = json.dumps(snapshot(args.db, extra_excluded=frozenset(args.exclude)), indent=1, sort_keys=True)
    document += "\n"
    if args.out:
        args.out.write_text(document)
    else:
        sys.stdout.write(document)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
