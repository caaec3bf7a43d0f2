"""Run the suites against a DuckDB file and write the reports: ``run_suites``."""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

import duckdb

from expectations import ge_compat, gx_build
from expectations.config import DqConfig, DqConfigError, load_config
from expectations.extract import outcome_from_result
from expectations.reports import DOCS_DIR, write_reports, write_unreadable_reports
from expectations.results import (
    DatabaseUnreadableError,
    DqResult,
    ExpectationOutcome,
    Status,
    SuiteRun,
)
from expectations.suites import SUITES, SuiteSpec, declared_ids


def list_tables(db_path: Path) -> frozenset[str]:
    """Lowercase ``schema.table`` names in the file, opened read-only; raises DatabaseUnreadableError."""
    if not db_path.exists():
        raise DatabaseUnreadableError(f"{db_path}: no such database file")
    if not db_path.is_file():
        raise DatabaseUnreadableError(f"{db_path}: not a file")
    try:
        connection = duckdb.connect(str(db_path), read_only=True)
    except duckdb.Error as exc:
        text = str(exc)
        if "lock" in text.lower() or "different configuration" in text:
            reason = (
                "it is locked by a process writing to it; run `journey dq` once that process has finished"
            )
        elif "not a valid DuckDB database" in text or "database file" in text.lower():
            reason = "it is not a DuckDB database file"
        else:
            reason = "DuckDB cannot open it"
        raise DatabaseUnreadableError(f"{db_path}: {reason} ({text.splitlines()[0]})") from exc
    try:
        rows = connection.execute("select table_schema, table_name from information_schema.tables").fetchall()
    except duckdb.Error as exc:
        raise DatabaseUnreadableError(f"{db_path}: cannot list its tables ({exc})") from exc
    finally:
        connection.close()
    return frozenset(f"{schema}.{table}".lower() for schema, table in rows)


def _select(suites: Sequence[str | SuiteSpec] | None) -> list[SuiteSpec]:
    if suites is None:
        return list(SUITES.values())
    selected: list[SuiteSpec] = []
    for item in suites:
        if isinstance(item, SuiteSpec):
            selected.append(item)
        elif item in SUITES:
            selected.append(SUITES[item])
        else:
            raise DqConfigError(f"unknown suite {item!r}; known: {', '.join(SUITES)}")
    return selected


def _skipped(suite: SuiteSpec, missing: Sequence[str], config: DqConfig) -> SuiteRun:
    reason = f"table{'s' if len(missing) > 1 else ''} not built yet: {', '.join(missing)}"
    outcomes = [
        ExpectationOutcome(
            suite=suite.name,
            expectation_id=spec.id,
            severity=config.severity_of(spec.id),
            table=spec.table,
            kind=spec.kind,
            description=f"suite {suite.name} skipped: {reason}",
            status=Status.SKIPPED,
        )
        for spec in suite.expectations
    ]
    return SuiteRun(name=suite.name, description=suite.description, outcomes=outcomes, skipped_reason=reason)


def _run_suite(session: gx_build.GxSession, suite: SuiteSpec, config: DqConfig) -> SuiteRun:
    started = time.perf_counter()
    by_id: dict[str, ExpectationOutcome] = {}
    limit = config.max_offending_keys
    for group in gx_build.plan_groups(suite):
        severities = {spec.id: config.severity_of(spec.id) for spec in group.specs}
        expectations = [
            gx_build.build_expectation(spec, config.params, severities[spec.id].value) for spec in group.specs
        ]
        specs = {spec.id: spec for spec in group.specs}
        for result in session.validate(group, expectations, limit):
            spec_id = gx_build.spec_id_of(result)
            if spec_id not in specs:
                raise RuntimeError(
                    f"Great Expectations returned a result for an unknown expectation: {spec_id}"
                )
            by_id[spec_id] = outcome_from_result(
                suite.name, specs[spec_id], severities[spec_id], result, limit
            )
    missing = [spec.id for spec in suite.expectations if spec.id not in by_id]
    if missing:
        raise RuntimeError(f"Great Expectations returned no result for: {', '.join(missing)}")
    outcomes = [by_id[spec.id] for spec in suite.expectations]
    return SuiteRun(
        name=suite.name,
        description=suite.description,
        outcomes=outcomes,
        seconds=time.perf_counter() - started,
    )


def run_suites(
    db_path: Path,
    out_dir: Path,
    suites: Sequence[str | SuiteSpec] | None = None,
    config: DqConfig | None = None,
) -> DqResult:
    """Run ``suites`` (names or specs; default all) on ``db_path`` and write the reports under ``out_dir``.

    Suites whose tables do not exist yet are skipped with a note. The database is only ever opened
    read-only and is released before this returns (also on failure). Raises DatabaseUnreadableError
    (after writing a minimal summary and JUnit file) when the file cannot be opened or read, and
    DqConfigError when severity.yml and the declared suites disagree.
    """
    started = time.perf_counter()
    started_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    db_path, out_dir = Path(db_path), Path(out_dir)
    if config is None:
        config = load_config()
        config.check_covers(declared_ids())
    selected = _select(suites)
    out_dir.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    try:
        tables = list_tables(db_path)
    except DatabaseUnreadableError as exc:
        write_unreadable_reports(out_dir, db_path, str(exc), started_at)
        raise
    timings["preflight_s"] = time.perf_counter() - started

    runnable: list[SuiteSpec] = []
    runs: dict[str, SuiteRun] = {}
    for suite in selected:
        missing = [table for table in suite.tables if table.lower() not in tables]
        if missing:
            runs[suite.name] = _skipped(suite, missing, config)
        else:
            runnable.append(suite)

    docs_index: Path | None = None
    if runnable:
        docs_dir = out_dir / DOCS_DIR
        shutil.rmtree(docs_dir, ignore_errors=True)  # one run per folder: no stale pages from earlier runs
        try:
            session = gx_build.GxSession(db_path, docs_dir).open()
        except DatabaseUnreadableError as exc:  # e.g. a writer took the lock after the preflight
            write_unreadable_reports(out_dir, db_path, str(exc), started_at)
            raise
        with session:
            for suite in runnable:
                runs[suite.name] = _run_suite(session, suite, config)
            docs_started = time.perf_counter()
            docs_index = session.build_docs()
            timings["data_docs_s"] = time.perf_counter() - docs_started
        timings.update(session.timings)
    timings["total_s"] = time.perf_counter() - started
    result = DqResult(
        db_path=db_path,
        out_dir=out_dir,
        suites=[runs[suite.name] for suite in selected],
        timings=timings,
        started_at=started_at,
        ge_version=ge_compat.installed_ge_version(),
        data_docs_index=docs_index,
    )
    write_reports(result)
    return result
