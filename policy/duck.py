"""Run SQL projections over Arrow tables in a throw-away in-memory DuckDB (no files, no shared state).

The decision core uses it for the two things Arrow's compute kernels do slowly or not at all on millions of
rows: standard hashes (md5) and assembling long text from many optional parts (``concat_ws`` skips nulls).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb
import pyarrow as pa

__all__ = ["connection", "query_arrow"]


@contextmanager
def connection() -> Iterator[duckdb.DuckDBPyConnection]:
    """A private in-memory DuckDB connection, closed on exit (one per decide() call)."""
    con = duckdb.connect(":memory:")
    try:
        con.execute("set preserve_insertion_order = true")
        yield con
    finally:
        con.close()


def query_arrow(
    sql: str,
    table: pa.Table,
    params: dict[str, Any] | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> pa.Table:
    """Run ``sql`` (which reads the view ``input_rows``) over ``table``; one output row per input row, in order.

    The query must be a plain projection of ``input_rows`` (no filter, join or aggregate): DuckDB keeps the
    insertion order for it (``preserve_insertion_order``), and the row count is checked. Without ``con`` a
    private connection is opened and closed.
    """
    if con is None:
        with connection() as own:
            return query_arrow(sql, table, params, own)
    con.register("input_rows", table)
    try:
        result = con.execute(sql, params or {}).to_arrow_table()
    finally:
        con.unregister("input_rows")
    if result.num_rows != table.num_rows:  # pragma: no cover - guards the projection-only contract
        raise RuntimeError(f"query returned {result.num_rows} rows for {table.num_rows} input rows")
    return result
