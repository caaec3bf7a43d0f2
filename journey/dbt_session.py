"""dbt inside this process: the one way this project runs dbt (`journey run`, `journey build`, the tests).

Each `dbt` process would pay its start-up (imports, adapter registration: ~2 s) and a parse of the project: a
full parse (~5-10 s on this project) whenever the --vars differ from the last parse, which they would on every
scheduled run (a new input folder or date). Here dbt runs through its documented programmatic entry point,
`dbtRunner`, in this process; the run settings (input folder, as_of_date, load mode, file pattern) go to dbt
as the environment variables that macros/run_settings.sql reads, so that dbt's partial parsing (the target
folder's partial_parse.msgpack) re-parses only the files that read a changed setting. A session parses the
project once and hands the parsed manifest to every later command (same settings, same files): `journey run`
calls dbt twice (the build, then the models downstream of the policy).

``extra_vars`` (dbt ``--vars``) still work and win over the environment variables (run_settings.sql), but a
change of --vars makes dbt parse the whole project again: keep them for what has no environment variable (e.g.
``feed_blob_limit_bytes``) and give such sessions their own target folder, so that the next session's partial
parse is not thrown away. The parse gets the command's own --vars, --target and --profile too.

Output: dbt's own terminal log is switched off; every event's message is collected instead (``DbtResult``'s
``output`` holds the lines dbt would have printed, and ``echo`` prints them as they come), so failures are
classified and shown as before.

The DuckDB database is released after every command: dbt-duckdb keeps its database open in a class-level
environment, which would otherwise hold the working file while the next stage (data quality, the policy) opens
it, and keep it open while the run publishes it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from journey.project import PROJECT_DIR, DbtResult, NodeOutcome

__all__ = ["DbtSession"]

# The message levels dbt prints to the terminal at its default log level.
_SHOWN_LEVELS = frozenset({"info", "warn", "error"})
# Options of a command that change what the parse produces: the session's parse gets them too.
_PARSE_OPTIONS = frozenset({"--vars", "--target", "-t", "--profile"})


class DbtSession:
    """Run dbt commands in-process against one database with one set of settings; parse once, reuse the
    manifest."""

    def __init__(
        self,
        *,
        db: Path,
        input_dir: Path,
        as_of: str | None = None,
        target_path: Path | None = None,
        load_mode: str | None = None,
        feed_file_pattern: str | None = None,
        extra_vars: dict[str, Any] | None = None,
        echo: bool = False,
        check_feed_syntax: bool = True,
        project_dir: Path = PROJECT_DIR,
    ) -> None:
        # Run settings go in as environment variables, not --vars (see macros/run_settings.sql): an empty
        # value means "not set", so a variable left in the caller's environment cannot leak into the run.
        self._env = {
            "JOURNEY_DB": str(db.resolve()),
            "JOURNEY_INPUT_DIR": str(input_dir.resolve()),
            "JOURNEY_AS_OF_DATE": as_of or "",
            "JOURNEY_LOAD_MODE": load_mode or "",
            "JOURNEY_FEED_FILE_PATTERN": feed_file_pattern or "",
            "JOURNEY_CHECK_FEED_SYNTAX": "" if check_feed_syntax else "false",
            "DBT_PROFILES_DIR": str(project_dir),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
        self._common = [] if target_path is None else ["--target-path", str(target_path)]
        self._vars = [] if not extra_vars else ["--vars", json.dumps(extra_vars)]
        self._echo = echo
        self._project_dir = project_dir
        self._manifest: Any = None

    def invoke(self, args: list[str]) -> DbtResult:
        """Run one dbt command (e.g. ``["build", "--select", "..."]``); the first call parses the project."""
        lines: list[str] = []
        command = [*args, *self._vars]
        with _environment(self._env), contextlib.chdir(self._project_dir):
            try:
                if self._manifest is None and args[:1] == ["parse"]:
                    # `parse` itself: dbt parses and writes manifest.json (a preloaded manifest is never written)
                    parsed = self._run(command, lines)
                    if parsed.success and parsed.result is not None:
                        self._manifest = parsed.result
                    return self._result(parsed, lines)
                if self._manifest is None:
                    # no manifest.json from the parse: the command writes it (with what it compiled)
                    parsed = self._run(["parse", "--no-write-json", *_parse_options(command)], lines)
                    if not parsed.success or parsed.result is None:
                        return self._result(parsed, lines)
                    self._manifest = parsed.result
                return self._result(self._run(command, lines), lines)
            finally:
                _release_duckdb()

    def relations_downstream_of(self, source_name: str) -> frozenset[str]:
        """``schema.table`` (lowercase) of the source's own tables and of every model built from them, directly
        or not, from the parsed manifest (empty before the first command)."""
        manifest = self._manifest
        if manifest is None:
            return frozenset()
        sources = [node for node in manifest.sources.values() if node.source_name == source_name]
        reached = {node.unique_id for node in sources}
        relations = {f"{node.schema}.{node.identifier}".lower() for node in sources}
        models = [node for node in manifest.nodes.values() if node.resource_type == "model"]
        grown = True
        while grown:  # a few passes over ~60 models: the graph is shallow
            grown = False
            for node in models:
                if node.unique_id not in reached and reached.intersection(node.depends_on.nodes):
                    reached.add(node.unique_id)
                    relations.add(f"{node.schema}.{node.alias}".lower())
                    grown = True
        return frozenset(relations)

    def _run(self, args: list[str], lines: list[str]) -> Any:
        from dbt.cli.main import dbtRunner

        def collect(event: Any) -> None:
            if event.info.level in _SHOWN_LEVELS and event.info.msg:
                lines.append(event.info.msg)
                if self._echo:
                    print(event.info.msg, flush=True)

        runner = dbtRunner(manifest=self._manifest, callbacks=[collect])
        # Nothing on the terminal (the run prints its own summary); logs/dbt.log gets dbt's usual debug log.
        return runner.invoke([*args, *self._common, "--log-level", "none", "--log-level-file", "debug"])

    def _result(self, outcome: Any, lines: list[str]) -> DbtResult:
        if outcome.exception is not None:
            lines.append(f"{type(outcome.exception).__name__}: {outcome.exception}")
            if self._echo:
                print(lines[-1], flush=True)
        executed: dict[str, int] = {}
        failures: list[str] = []
        nodes: list[NodeOutcome] = []
        for node_result in getattr(outcome.result, "results", None) or []:
            kind = node_result.node.unique_id.split(".")[0]
            executed[kind] = executed.get(kind, 0) + 1
            nodes.append(self._node_outcome(kind, node_result))
            if str(node_result.status) in _FAILED:
                node = node_result.node
                text = failure_text(node_result.message)
                if kind == "model" and "constraint failed" in text.lower():
                    text = constraint_text(text, node.schema, node.alias)
                failures.append(f"{kind} {node.name} ({node.original_file_path}): {text}")
        if outcome.exception is not None:
            failures.append(failure_text(str(outcome.exception)))
        # the dbt command's exit codes: 0 ok, 1 a node or test failed, 2 an error (usage, compilation, ...)
        returncode = 0 if outcome.success else 2 if outcome.exception is not None else 1
        return DbtResult(returncode, "\n".join(lines) + "\n", executed, tuple(failures), tuple(nodes))

    def _node_outcome(self, kind: str, node_result: Any) -> NodeOutcome:
        """A node's result as plain values: its status, time, failing rows, severity and the relation it is
        about (a test's: the model or source it tests, looked up in the parsed manifest)."""
        node = node_result.node
        config = getattr(node, "config", None)
        if kind == "test":
            relation = self._relation_of(getattr(node, "attached_node", None) or _first(node))
        else:
            relation = _relation_name(node)
        age = getattr(node_result, "age", None)
        return NodeOutcome(
            unique_id=node.unique_id,
            resource_type=kind,
            name=node.name,
            status=str(node_result.status),
            seconds=round(float(getattr(node_result, "execution_time", 0.0) or 0.0), 3),
            failures=getattr(node_result, "failures", None),
            severity=_freshness_severity(node) if kind == "source" else _test_severity(config),
            relation=relation,
            message=failure_text(node_result.message) if getattr(node_result, "message", None) else None,
            age_s=float(age) if age is not None else None,
        )

    def _relation_of(self, unique_id: str | None) -> str | None:
        manifest = self._manifest
        if manifest is None or unique_id is None:
            return None
        node = manifest.nodes.get(unique_id) or manifest.sources.get(unique_id)
        return None if node is None else _relation_name(node)


def _relation_name(node: Any) -> str | None:
    """``source.table`` of a source, ``schema.alias`` of a model, seed or snapshot; None otherwise."""
    kind = node.unique_id.split(".")[0]
    if kind == "source":
        return f"{node.source_name}.{node.name}"
    if kind in ("model", "seed", "snapshot"):
        return f"{node.schema}.{node.alias}"
    return None


def _test_severity(config: Any) -> str | None:
    return str(getattr(config, "severity", "") or "").lower() or None


def _freshness_severity(node: Any) -> str:
    """A source's freshness check fails the run only when it has an error_after threshold."""
    freshness = getattr(node, "freshness", None)
    error_after = getattr(freshness, "error_after", None)
    return "error" if getattr(error_after, "count", None) else "warn"


def _first(node: Any) -> str | None:
    """The first model or source a test depends on (a test without an attached node, e.g. a singular test)."""
    depends = getattr(getattr(node, "depends_on", None), "nodes", None) or []
    return next((item for item in depends if item.split(".")[0] in ("model", "source", "seed")), None)


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


def constraint_text(text: str, schema: str, alias: str) -> str:
    """DuckDB's message for a violated contract constraint, naming the table as analysts know it: dbt writes the
    new table as ``<alias>__dbt_tmp`` and renames it, so DuckDB names the temporary table."""
    text = re.sub(rf"\b{re.escape(alias)}__dbt_tmp\b", f"{schema}.{alias}", text)
    return f"{text} (an enforced contract constraint: the table was not replaced)"


def _parse_options(args: list[str]) -> list[str]:
    """The options of `args` that change the parse (--vars, --target, --profile), as `--name value` pairs."""
    kept: list[str] = []
    for index, arg in enumerate(args):
        name = arg.split("=", 1)[0]
        if name not in _PARSE_OPTIONS:
            continue
        if "=" in arg:
            kept.append(arg)
        elif index + 1 < len(args):
            kept += [arg, args[index + 1]]
    return kept


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
