"""Run the suites against a DuckDB file and write the reports: ``run_suites``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import string
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb

from expectations import ge_compat, gx_build
from expectations.config import POLICY_PARAMS, DqConfig, DqConfigError, Severity, load_checked_config
from expectations.extract import outcome_from_result
from expectations.reports import DOCS_DIR, write_reports, write_unreadable_reports
from expectations.results import (
    DatabaseUnreadableError,
    DqResult,
    ExpectationOutcome,
    Status,
    SuiteRun,
)
from expectations.suites import SUITES, ExpectationSpec, SuiteSpec
from journey.dbfile import explain_open_error


def list_tables(db_path: Path) -> frozenset[str]:
    """Lowercase ``schema.table`` names in the file, opened read-only; raises DatabaseUnreadableError."""
    if not db_path.exists():
        raise DatabaseUnreadableError(f"{db_path}: no such database file")
    if not db_path.is_file():
        raise DatabaseUnreadableError(f"{db_path}: not a file")
    try:
        connection = duckdb.connect(str(db_path), read_only=True)
    except duckdb.Error as exc:
        raise DatabaseUnreadableError(explain_open_error(db_path, exc)) from exc
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


def _missing_params(spec: ExpectationSpec, params: Mapping[str, Any]) -> list[str]:
    if spec.kind != "rows":
        return []
    template = string.Template(str(spec.kwargs.get("query", "")))
    return [name for name in template.get_identifiers() if name not in params]


def _format_reason(missing: Sequence[str], unset: Sequence[str]) -> str | None:
    reasons = []
    if missing:
        reasons.append(f"table{'s' if len(missing) > 1 else ''} not built yet: {', '.join(missing)}")
    if unset:
        found = " (policy/policy.yml not found)" if any(name in POLICY_PARAMS for name in unset) else ""
        reasons.append(f"not configured: {', '.join(unset)}{found}")
    return "; ".join(reasons) or None


def skip_reasons(
    specs: Sequence[ExpectationSpec], tables: frozenset[str], params: Mapping[str, Any]
) -> tuple[dict[str, str], str | None]:
    """Why each spec cannot run (tables not built yet, parameters not configured): id -> reason, and
    one reason for them all (every missing table and parameter, in order), or None when all can run."""
    reasons: dict[str, str] = {}
    all_missing: dict[str, None] = {}
    all_unset: dict[str, None] = {}
    for spec in specs:
        missing = [table for table in spec.tables if table.lower() not in tables]
        unset = _missing_params(spec, params)
        reason = _format_reason(missing, unset)
        if reason is not None:
            reasons[spec.id] = reason
            all_missing.update(dict.fromkeys(missing))
            all_unset.update(dict.fromkeys(unset))
    return reasons, _format_reason(list(all_missing), list(all_unset))


def _skipped_outcome(
    suite: SuiteSpec, spec: ExpectationSpec, reason: str, config: DqConfig
) -> ExpectationOutcome:
    return ExpectationOutcome(
        suite=suite.name,
        expectation_id=spec.id,
        severity=config.severity_of(spec.id),
        table=spec.table,
        kind=spec.kind,
        description=f"skipped: {reason}",
        status=Status.SKIPPED,
        informational=suite.informational,
    )


def _failed_to_run(
    suite: SuiteSpec, spec: ExpectationSpec, severity: Severity, message: str
) -> ExpectationOutcome:
    """An expectation Great Expectations could not evaluate: an exception, which fails the run."""
    return ExpectationOutcome(
        suite=suite.name,
        expectation_id=spec.id,
        severity=severity,
        table=spec.table,
        kind=spec.kind,
        description=spec.text,
        status=Status.EXCEPTION,
        exception=message,
        informational=suite.informational,
    )


def _run_suite(
    session: gx_build.GxSession, suite: SuiteSpec, skipped: Mapping[str, str], config: DqConfig
) -> SuiteRun:
    """Run the suite's expectations that are not in ``skipped`` (id -> reason); those get a skipped outcome."""
    started = time.perf_counter()
    by_id: dict[str, ExpectationOutcome] = {
        spec.id: _skipped_outcome(suite, spec, skipped[spec.id], config)
        for spec in suite.expectations
        if spec.id in skipped
    }
    limit = config.max_offending_keys
    runnable = dataclasses.replace(
        suite, expectations=tuple(spec for spec in suite.expectations if spec.id not in skipped)
    )
    for group in gx_build.plan_groups(runnable):
        severities = {spec.id: config.severity_of(spec.id) for spec in group.specs}
        expectations = [
            gx_build.build_expectation(spec, config.params, severities[spec.id].value) for spec in group.specs
        ]
        specs = {spec.id: spec for spec in group.specs}
        try:
            results = session.validate(group, expectations, limit)
        except ge_compat.GeCompatError:
            raise
        except Exception as exc:  # e.g. a table GE cannot read (a view over a missing table)
            message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            for spec in group.specs:
                by_id[spec.id] = _failed_to_run(suite, spec, severities[spec.id], message)
            continue
        for result in results:
            spec_id = gx_build.spec_id_of(result)
            if spec_id not in specs:
                raise RuntimeError(
                    f"Great Expectations returned a result for an unknown expectation: {spec_id}"
                )
            outcome = outcome_from_result(suite.name, specs[spec_id], severities[spec_id], result, limit)
            outcome.informational = suite.informational
            by_id[spec_id] = outcome
    missing = [spec.id for spec in suite.expectations if spec.id not in by_id]
    if missing:
        raise RuntimeError(f"Great Expectations returned no result for: {', '.join(missing)}")
    outcomes = [by_id[spec.id] for spec in suite.expectations]
    return SuiteRun(
        name=suite.name,
        description=suite.description,
        outcomes=outcomes,
        seconds=time.perf_counter() - started,
        informational=suite.informational,
    )


def run_suites(
    db_path: Path,
    out_dir: Path,
    suites: Sequence[str | SuiteSpec] | None = None,
    config: DqConfig | None = None,
) -> DqResult:
    """Run ``suites`` (names or specs; default all) on ``db_path`` and write the reports under ``out_dir``.

    Expectations whose tables do not exist yet (or whose parameters are not configured) are skipped
    with a note; a suite with none left is reported as skipped. The database is only ever opened
    read-only and is released before this returns (also on failure). Raises DatabaseUnreadableError
    (after writing a minimal summary and JUnit file) when the file cannot be opened or read, and
    DqConfigError when severity.yml and the declared suites disagree.
    """
    started = time.perf_counter()
    started_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    db_path, out_dir = Path(db_path).absolute(), Path(out_dir).absolute()  # GE stores need absolute paths
    if config is None:
        config = load_checked_config()
    selected = _select(suites)
    out_dir.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    try:
        tables = list_tables(db_path)
    except DatabaseUnreadableError as exc:
        write_unreadable_reports(out_dir, db_path, str(exc), started_at)
        raise
    timings["preflight_s"] = time.perf_counter() - started

    runnable: list[tuple[SuiteSpec, dict[str, str]]] = []
    runs: dict[str, SuiteRun] = {}
    for suite in selected:
        skipped, suite_reason = skip_reasons(suite.expectations, tables, config.params)
        if len(skipped) == len(suite.expectations):
            runs[suite.name] = SuiteRun(
                name=suite.name,
                description=suite.description,
                outcomes=[
                    _skipped_outcome(suite, spec, skipped[spec.id], config) for spec in suite.expectations
                ],
                skipped_reason=suite_reason,
                informational=suite.informational,
            )
        else:
            runnable.append((suite, skipped))

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
            for suite, skipped in runnable:
                runs[suite.name] = _run_suite(session, suite, skipped, config)
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
