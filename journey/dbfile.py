"""What is wrong with a DuckDB file, in one sentence: locked, corrupt, not a database, missing.

Every command that opens a database it did not create (`journey dq`, `journey policy`, `journey review`, the
serving database at the start of `journey run`) turns DuckDB's error into one of these sentences, so the person
on call reads what to do instead of a checksum.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

_LOCKED = ("could not set lock", "conflicting lock", "different configuration")
_CORRUPT = ("corrupt database", "checksum", "not a valid duckdb database", "invalid database", "magic bytes")


def explain_open_error(path: Path, exc: BaseException) -> str:
    """The sentence for a failure to open (or read) ``path``; DuckDB's first line in brackets."""
    text = str(exc)
    first = text.splitlines()[0] if text else type(exc).__name__
    lowered = text.lower()
    if any(sign in lowered for sign in _CORRUPT):
        reason = (
            "it is corrupt or not a DuckDB database file; restore it from a backup, or move it away and let "
            "`journey run` build a new one"
        )
    elif any(sign in lowered for sign in _LOCKED):
        reason = (
            "it is locked by another process writing to it (a dbt build, a `journey` command or an open DuckDB "
            "session); try again when that process has finished"
        )
    else:
        reason = "DuckDB cannot open it"
    return f"{path}: {reason} ({first})"


class DatabaseFileError(RuntimeError):
    """The file exists but cannot be read as a DuckDB database."""


def check_readable(path: Path) -> None:
    """Open ``path`` read-only and read its catalog; raise DatabaseFileError with the sentence when it fails."""
    try:
        with duckdb.connect(str(path), read_only=True) as connection:
            connection.execute("select count(*) from duckdb_tables()").fetchone()
    except duckdb.Error as exc:
        raise DatabaseFileError(explain_open_error(path, exc)) from exc
