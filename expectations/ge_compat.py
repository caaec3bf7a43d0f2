"""The one place that works around a Great Expectations + duckdb-engine incompatibility.

The bug: ``SqlAlchemyExecutionEngine.execute_query`` in great_expectations 1.24.1 runs the query
inside ``with self.get_connection() as connection:`` and returns the *unread* ``CursorResult``.
Leaving the block closes the SQLAlchemy connection, which rolls back the transaction that
duckdb-engine began (its ``do_begin`` issues a real ``BEGIN``). DuckDB keeps one pending result per
connection, so the ``ROLLBACK`` discards it, and GE's later ``fetchall()`` gets ``[]``. Every metric
then fails with an ``IndexError`` in ``resolve_metric_bundle`` that is visible only in
``exception_info``; the expectation reports ``success: false`` with an empty result.

Upstream: great_expectations issues #10738 and #11579 (closed; PR #11635 only turned the IndexError
into a clearer error), and PR #12084 (a native DuckDB execution engine, not released in 1.24.1).

No supported configuration avoids it: ``poolclass=StaticPool``, ``pool_reset_on_return=None``,
``read_only`` connect args and ``execution_options`` all still return empty results (the rollback
comes from the Connection's autobegun transaction, not from the pool), ``isolation_level=AUTOCOMMIT``
is not implemented by duckdb-engine, and GE only keeps a connection open for the dialects it
hard-codes (sqlite, mssql, bigquery, databricks).

The workaround: for the ``duckdb`` dialect only, read every row *before* the connection closes and
hand GE a fully buffered result (SQLAlchemy's public ``CursorResult.freeze()``). Other dialects
call the original method unchanged. It is applied only to the pinned version; any other version
raises :class:`GeCompatError` so that an upgrade is a conscious decision (re-run
``tests/test_expectations_runner.py``, which also detects when the bug is fixed upstream).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from importlib import metadata
from typing import Any

PINNED_GE_VERSION = "1.24.1"
_PATCH_MARKER = "_journey_duckdb_buffered"


class GeCompatError(RuntimeError):
    """The installed great_expectations is not the version this workaround was written for."""


def installed_ge_version() -> str:
    return metadata.version("great_expectations")


def _check_version(version: str) -> None:
    if version != PINNED_GE_VERSION:
        raise GeCompatError(
            f"expectations/ge_compat.py patches great_expectations {PINNED_GE_VERSION} for the "
            f"duckdb-engine empty-result bug (GE issues #10738, #11579), but {version} is installed. "
            "Check whether the upgrade fixed the bug (tests/test_expectations_runner.py::"
            "test_upstream_bug_still_present tells you), then update or remove the workaround and "
            "PINNED_GE_VERSION."
        )


def original_execute_query() -> Callable[..., Any]:
    """GE's own ``execute_query`` (unpatched), for the test that checks the bug still exists."""
    from great_expectations.execution_engine import SqlAlchemyExecutionEngine

    current = SqlAlchemyExecutionEngine.execute_query
    return getattr(current, "__wrapped__", current)


def is_patched() -> bool:
    from great_expectations.execution_engine import SqlAlchemyExecutionEngine

    return bool(getattr(SqlAlchemyExecutionEngine.execute_query, _PATCH_MARKER, False))


def apply() -> None:
    """Install the workaround (idempotent). Raises GeCompatError on an unexpected GE version."""
    _check_version(installed_ge_version())
    from great_expectations.execution_engine import SqlAlchemyExecutionEngine

    if is_patched():
        return
    original = SqlAlchemyExecutionEngine.execute_query

    @functools.wraps(original)
    def execute_query(self: Any, query: Any) -> Any:
        if self.engine.dialect.name != "duckdb":
            return original(self, query)
        with self.get_connection() as connection:
            result = self._execute_query_with_recovery(connection, query)
            if not result.returns_rows:
                return result
            # Read every row while the connection (and DuckDB's pending result) is still open.
            return result.freeze()()

    setattr(execute_query, _PATCH_MARKER, True)
    SqlAlchemyExecutionEngine.execute_query = execute_query  # type: ignore[method-assign]
