"""dbt inside this process, the project parsed once per run.

`journey run` calls dbt twice (the build, then the models downstream of the policy). Each `dbt` process pays
its start-up (imports, adapter registration: ~2 s) and a parse of the project: a full parse (~8-10 s on this
project) whenever the --vars differ from the last parse, which they do on every scheduled run (a new input
folder or date). Here the project is parsed once with dbt's documented programmatic entry point, `dbtRunner`,
and the parsed manifest is handed to every later command of the same run (same vars, same files).

Output: dbt's own terminal log is switched off; every event's message is collected instead (``DbtResult``'s
``output`` holds the lines dbt would have printed), so failures are classified and shown as before.

The DuckDB database is released after every command: dbt-duckdb keeps its database open in a class-level
environment, which would otherwise hold the working file while the next stage (data quality, the policy) opens
it, and keep it open while the run publishes it.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from journey.project import PROJECT_DIR, DbtResult

__all__ = ["DbtSession"]

# The message levels dbt prints to the terminal at its default log level.
_SHOWN_LEVELS = frozenset({"info", "warn", "error"})


class DbtSession:
    """Run dbt commands in-process against one database with one set of vars; parse once, reuse the manifest."""

    def __init__(
        self,
        *,
        db: Path,
        input_dir: Path,
        as_of: str | None = None,
        target_path: Path | None = None,
        load_mode: str | None = None,
        feed_file_pattern: str | None = None,
    ) -> None:
        # Run settings go in as environment variables, not --vars (see macros/run_settings.sql): an empty
        # value means "not set", so a variable left in the caller's environment cannot leak into the run.
        self._env = {
            "JOURNEY_DB": str(db.resolve()),
            "JOURNEY_INPUT_DIR": str(input_dir.resolve()),
            "JOURNEY_AS_OF_DATE": as_of or "",
            "JOURNEY_LOAD_MODE": load_mode or "",
            "JOURNEY_FEED_FILE_PATTERN": feed_file_pattern or "",
            "DBT_PROFILES_DIR": str(PROJECT_DIR),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
        self._common = [] if target_path is None else ["--target-path", str(target_path)]
        self._manifest: Any = None

    def invoke(self, args: list[str]) -> DbtResult:
        """Run one dbt command (e.g. ``["build", "--select", "..."]``); the first call parses the project."""
        lines: list[str] = []
        with _environment(self._env), contextlib.chdir(PROJECT_DIR):
            try:
                if self._manifest is None:
                    parsed = self._run(["parse"], lines)
                    if not parsed.success or parsed.result is None:
                        return _result(parsed, lines)
                    self._manifest = parsed.result
                return _result(self._run(args, lines), lines)
            finally:
                _release_duckdb()

    def _run(self, args: list[str], lines: list[str]) -> Any:
        from dbt.cli.main import dbtRunner

        def collect(event: Any) -> None:
            if event.info.level in _SHOWN_LEVELS and event.info.msg:
                lines.append(event.info.msg)

        runner = dbtRunner(manifest=self._manifest, callbacks=[collect])
        # Nothing on the terminal (the run prints its own summary); logs/dbt.log gets dbt's usual debug log.
        return runner.invoke([*args, *self._common, "--log-level", "none", "--log-level-file", "debug"])


def _result(outcome: Any, lines: list[str]) -> DbtResult:
    if outcome.exception is not None:
        lines.append(f"{type(outcome.exception).__name__}: {outcome.exception}")
    executed: dict[str, int] = {}
    failures: list[str] = []
    for node_result in getattr(outcome.result, "results", None) or []:
        kind = node_result.node.unique_id.split(".")[0]
        executed[kind] = executed.get(kind, 0) + 1
        if str(node_result.status) in _FAILED:
            node = node_result.node
            failures.append(
                f"{kind} {node.name} ({node.original_file_path}): {failure_text(node_result.message)}"
            )
    if outcome.exception is not None:
        failures.append(failure_text(str(outcome.exception)))
    return DbtResult(0 if outcome.success else 1, "\n".join(lines) + "\n", executed, tuple(failures))


# dbt's node statuses that fail a command (RunStatus.Error, TestStatus.Fail / Error)
_FAILED = frozenset({"error", "fail", "runtime error"})
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# dbt's headers above the message itself ("Runtime Error in model x (path)", "  > in macro ...")
_HEADERS = re.compile(r"^(?:(?:Runtime|Compilation|Database|Parsing) Error(?: in .*)?|> .*)$")


def failure_text(message: str | None) -> str:
    """The sentence of a dbt failure message: colour codes and dbt's headers and macro stack removed."""
    for line in _ANSI.sub("", message or "").splitlines():
        text = line.strip()
        if text and not _HEADERS.match(text):
            return text
    return _ANSI.sub("", message or "").strip() or "failed (no message)"


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of one command (profiles.yml reads JOURNEY_DB)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old


def _release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open between commands (see the module docstring)."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # pragma: no cover - another adapter
        return
    environment = DuckDBConnectionManager._ENV
    if environment is not None:
        environment.close()
        DuckDBConnectionManager._ENV = None
