"""Opening the built DuckDB database for the policy, with clear errors instead of stack traces.

The policy opens the database once per command (read-only for ``--dry-run`` and ``review list``, read-write
otherwise) and closes it at the end. DuckDB allows one writer process at a time: a database that another
process holds (a running ``dbt build``, an open DuckDB CLI) raises :class:`DatabaseUnavailableError`, which the
CLI turns into exit code 3 with the message.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from journey.dbfile import explain_open_error

__all__ = ["DatabaseUnavailableError", "memory_settings", "open_db", "relation_exists", "require_file"]

DEFAULT_MEMORY_LIMIT = "8GB"  # as profiles.yml gives dbt


def memory_settings() -> dict[str, str]:
    """DuckDB's memory limit and spill folder for every process of a run, from the same environment variables
    profiles.yml reads: ``JOURNEY_MEMORY_LIMIT`` (default 8GB) and ``JOURNEY_TEMP_DIR`` (default: DuckDB's
    own, ``<database>.tmp``). Past the limit DuckDB spills to the folder instead of taking the machine."""
    settings = {"memory_limit": os.environ.get("JOURNEY_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)}
    temp = os.environ.get("JOURNEY_TEMP_DIR")
    if temp:
        settings["temp_directory"] = temp
    return settings


class DatabaseUnavailableError(RuntimeError):
    """The database file is missing, not a DuckDB database, locked by another process, or not built."""


def require_file(path: str | Path) -> Path:
    """The database file at ``path``; DatabaseUnavailableError when there is none (nothing is created)."""
    db = Path(path)
    if not db.is_file():
        raise DatabaseUnavailableError(f"{db}: no such database file; build it first (`journey run`)")
    return db


@contextmanager
def open_db(path: str | Path, *, read_only: bool) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to an existing database file, bounded by :func:`memory_settings`; closed on exit. Never
    creates a new file."""
    db = require_file(path)
    try:
        con = duckdb.connect(str(db), read_only=read_only, config=memory_settings())
    except duckdb.Error as exc:
        raise DatabaseUnavailableError(explain_open_error(db, exc)) from exc
    try:
        yield con
    finally:
        con.close()


def relation_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    """True when ``schema.name`` is a table or view in the connected database."""
    row = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchone()
    return bool(row and row[0])
