"""Build and run the Great Expectations objects for the declared suites, on a DuckDB file.

An ephemeral GE context is used on purpose: the suites are versioned as code (``suites.py``), so a
file-backed context would only add generated JSON and run artefacts inside the repository (and
write into the repo from every test). Data Docs are written under the run's output folder.

The DuckDB file is opened read-only through GE's SQL data source (duckdb-engine); the checks run
as SQL in DuckDB. ``GxSession`` always closes both SQLAlchemy engines the data source holds (the
execution engine's and the one it uses to inspect tables); until then DuckDB's file lock keeps any
writer (dbt) out.
"""

from __future__ import annotations

import contextlib
import string
import threading
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import exc as sa_exc

from expectations import ge_compat
from expectations.results import DatabaseUnreadableError
from expectations.suites import KINDS, TABLE_KINDS, ExpectationSpec, SuiteSpec

DATASOURCE_NAME = "journey_duckdb"
DOCS_SITE_NAME = "journey_dq"
SPEC_ID_META = "journey_expectation_id"


@dataclass(frozen=True)
class GxGroup:
    """One GE suite + validation definition: the specs of a suite on one table with one result format."""

    name: str
    table: str
    specs: tuple[ExpectationSpec, ...]
    returns_rows: bool

    def result_format(self, max_keys: int) -> dict[str, Any]:
        if self.returns_rows:
            # UnexpectedRowsExpectation only returns its rows with COMPLETE (GE caps them at 200).
            return {"result_format": "COMPLETE"}
        index_columns = list(
            dict.fromkeys(c for spec in self.specs if spec.kind not in TABLE_KINDS for c in spec.key)
        )
        result_format: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": max_keys}
        if index_columns:
            result_format["unexpected_index_column_names"] = index_columns
        return result_format


def plan_groups(suite: SuiteSpec) -> list[GxGroup]:
    grouped: dict[tuple[str, bool], list[ExpectationSpec]] = {}
    for spec in suite.expectations:
        grouped.setdefault((spec.table, spec.kind == "rows"), []).append(spec)
    return [
        GxGroup(
            name=f"{suite.name}.{table}" + (".rows" if returns_rows else ""),
            table=table,
            specs=tuple(specs),
            returns_rows=returns_rows,
        )
        for (table, returns_rows), specs in grouped.items()
    ]


def build_expectation(spec: ExpectationSpec, params: Mapping[str, Any], severity: str) -> Any:
    import great_expectations as gx

    class_name = KINDS.get(spec.kind, spec.kind)
    expectation_class = getattr(gx.expectations, class_name, None)
    if expectation_class is None:
        raise ValueError(f"{spec.id}: unknown expectation kind {spec.kind!r}")
    kwargs = dict(spec.kwargs)
    if spec.kind == "rows":
        query = string.Template(kwargs.pop("query")).substitute(params)
        kwargs["unexpected_rows_query"] = query
        if spec.description:
            kwargs["description"] = spec.description
    meta = {SPEC_ID_META: spec.id, "severity": severity}
    return expectation_class(**kwargs, meta=meta, notes=f"{spec.id} (severity: {severity})")


def prewarm() -> threading.Thread:
    """Import Great Expectations (3-5 s of module loading) in a background thread and return the thread.

    `journey run` calls this before its dbt build: while DuckDB works (and releases Python's lock), the import
    happens beside it, so the data-quality stage later finds the modules loaded. Importing twice is harmless;
    an import error here is ignored (the stage's own import reports it)."""

    def load() -> None:
        with contextlib.suppress(Exception):
            import great_expectations
            import great_expectations.expectations  # noqa: F401

    thread = threading.Thread(target=load, name="gx-prewarm", daemon=True)
    thread.start()
    return thread


class GxSession:
    """A GE context with one read-only SQL data source on the DuckDB file; a context manager."""

    def __init__(self, db_path: Path, docs_dir: Path) -> None:
        self.db_path = db_path
        self.docs_dir = docs_dir
        self.timings: dict[str, float] = {}
        self._context: Any = None
        self._datasource: Any = None
        self._connections = 0  # data sources opened on the file (one per phase of a DqRun)
        self._names: set[str] = set()  # GE suite / validation names used in the context

    def __enter__(self) -> GxSession:
        return self if self._datasource is not None else self.open()

    def open(self) -> GxSession:
        """Import GE, apply the compat patch, create the context and the read-only data source."""
        started = time.perf_counter()
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        self.timings["ge_import_s"] = time.perf_counter() - started
        ge_compat.apply()
        started = time.perf_counter()
        # In-memory stores and no default temporary docs site: the only site is ours, under out_dir.
        project_config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            progress_bars=ProgressBarsConfig(globally=False),
        )
        context = gx.get_context(project_config=project_config, mode="ephemeral")
        context.add_data_docs_site(
            site_name=DOCS_SITE_NAME,
            site_config={
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(self.docs_dir),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
        self._context = context
        self._connect()
        self.timings["ge_setup_s"] = time.perf_counter() - started
        return self

    def _connect(self) -> None:
        """A read-only SQL data source on the file (a new one after ``release``: the context, and so every
        validation result for the Data Docs, is kept)."""
        self._connections += 1
        name = DATASOURCE_NAME if self._connections == 1 else f"{DATASOURCE_NAME}_{self._connections}"
        try:
            self._datasource = self._context.data_sources.add_sql(
                name=name,
                connection_string=f"duckdb:///{self.db_path.resolve()}",
                kwargs={"connect_args": {"read_only": True}},
            )
        except Exception as exc:  # GE wraps driver errors in its own TestConnectionError
            self.close()
            raise DatabaseUnreadableError(
                f"{self.db_path}: Great Expectations cannot open it: {exc}"
            ) from exc
        try:
            self._check_rows_come_back()
        except BaseException:
            self.close()
            raise

    def release(self) -> None:
        """Let go of the DuckDB file (so a writer can open it) and keep the context; ``reconnect`` reads on."""
        self.close()

    def reconnect(self) -> None:
        if self._datasource is None and self._context is not None:
            self._connect()

    def _check_rows_come_back(self) -> None:
        """Runtime canary for the duckdb-engine bug: without rows every expectation would fail."""
        import sqlalchemy as sa

        rows = (
            self._datasource.get_execution_engine().execute_query(sa.text("select 42 as answer")).fetchall()
        )
        if [tuple(row) for row in rows] != [(42,)]:
            raise ge_compat.GeCompatError(
                f"Great Expectations' SQL engine returned {rows!r} for `select 42` on DuckDB: the "
                "expectations/ge_compat.py workaround is not working, so every expectation would fail."
            )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the DuckDB file: close the execution engine and dispose the inspection engine."""
        datasource, self._datasource = self._datasource, None
        if datasource is None:
            return
        try:
            datasource.get_execution_engine().close()
        finally:
            datasource.get_engine().dispose()

    def validate(self, group: GxGroup, expectations: list[Any], max_keys: int) -> list[dict[str, Any]]:
        """Run one group; returns each expectation's result as a JSON dict, in suite order."""
        import great_expectations as gx

        schema, _, table = group.table.rpartition(".")
        name = group.name
        while name in self._names:  # the same suite and table in two phases
            name += "+"
        self._names.add(name)
        with warnings.catch_warnings():
            # GE 1.24 deprecates schema_name on table assets, and SQLAlchemy cannot name DuckDB's
            # LIST type while reflecting columns; neither affects the checks.
            warnings.filterwarnings(
                "ignore", message=".*schema_name.*deprecated", category=DeprecationWarning
            )
            warnings.filterwarnings("ignore", message="Did not recognize type", category=sa_exc.SAWarning)
            asset = self._datasource.add_table_asset(name=name, table_name=table, schema_name=schema or None)
            batch_definition = asset.add_batch_definition_whole_table("whole_table")
            suite = self._context.suites.add(gx.ExpectationSuite(name=name))
            for expectation in expectations:
                suite.add_expectation(expectation)
            definition = self._context.validation_definitions.add(
                gx.ValidationDefinition(name=name, data=batch_definition, suite=suite)
            )
            run = definition.run(result_format=group.result_format(max_keys))
        return [result.to_json_dict() for result in run.results]

    def build_docs(self) -> Path:
        self._context.build_data_docs(site_names=[DOCS_SITE_NAME])
        return self.docs_dir / "index.html"


def spec_id_of(result: Mapping[str, Any]) -> str | None:
    meta = (result.get("expectation_config") or {}).get("meta") or {}
    value = meta.get(SPEC_ID_META)
    return str(value) if value is not None else None
