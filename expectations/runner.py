"""Run the suites against a DuckDB file and write the reports: ``run_suites``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import string
import time
from collections.abc import Callable, Mapping, Sequence
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


class DqRun:
    """One data-quality run with one set of reports, in one phase or more.

    ``journey run`` runs it in two: before the policy, the checks whose tables do not depend on the policy's
    write-back (the gate reads that summary); after the models downstream of the policy are built, the rest. Each
    expectation runs once. ``run(now)`` runs the expectations not run yet for which ``now(spec)`` is true (all
    when ``now`` is None); the others are reported as skipped with ``later`` as the reason until a later phase
    runs them. Every phase rewrites dq_summary.json and the JUnit file with everything found so far; the final
    phase also builds the Data Docs (from every phase's validations: one Great Expectations context is kept,
    its read-only connection released between phases so that dbt and the policy can write).

    Expectations whose tables do not exist (or whose parameters are not configured) are skipped with a note; a
    suite with none left is reported as skipped. Raises DatabaseUnreadableError (after writing a minimal summary
    and JUnit file) when the file cannot be opened or read, and DqConfigError when severity.yml and the
    declared suites disagree.
    """

    def __init__(
        self,
        db_path: Path,
        out_dir: Path,
        suites: Sequence[str | SuiteSpec] | None = None,
        config: DqConfig | None = None,
    ) -> None:
        self._started = time.perf_counter()
        self.started_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        # GE stores need absolute paths
        self.db_path, self.out_dir = Path(db_path).absolute(), Path(out_dir).absolute()
        self.config = config if config is not None else load_checked_config()
        self.selected = _select(suites)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.out_dir / DOCS_DIR, ignore_errors=True)  # one run per folder: no stale pages
        self._outcomes: dict[str, ExpectationOutcome] = {}
        self._suite_reasons: dict[str, str] = {}  # suites skipped whole, and why
        self._seconds: dict[str, float] = {}
        self._timings: dict[str, float] = {}
        self._session: gx_build.GxSession | None = None
        self._external: list[SuiteRun] = []

    def add_suite(self, suite: SuiteRun) -> None:
        """A suite evaluated elsewhere (dbt's source freshness): reported with the others from the next phase
        on, listed after them."""
        self._external.append(suite)

    def run(
        self,
        now: Callable[[ExpectationSpec], bool] | None = None,
        *,
        later: str = "runs in a later phase",
        final: bool = True,
    ) -> DqResult:
        phase_started = time.perf_counter()
        try:
            tables = list_tables(self.db_path)
        except DatabaseUnreadableError as exc:
            self.close()
            write_unreadable_reports(self.out_dir, self.db_path, str(exc), self.started_at)
            raise
        self._add_timing("preflight_s", time.perf_counter() - phase_started)
        try:
            for suite in self.selected:
                specs = [
                    spec
                    for spec in suite.expectations
                    if spec.id not in self._outcomes and (now is None or now(spec))
                ]
                if specs:
                    self._run_specs(suite, specs, tables)
            result = self._result(later)
            if final:
                docs_started = time.perf_counter()
                if self._session is not None:
                    result.data_docs_index = self._session.build_docs()
                    self._add_timing("data_docs_s", time.perf_counter() - docs_started)
                    self._timings.update(self._session.timings)
                result.timings = self._timings_now()
        finally:
            if final:
                self.close()
            elif self._session is not None:
                self._session.release()  # the policy and dbt write between the phases
        write_reports(result)
        return result

    def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.close()

    def _run_specs(self, suite: SuiteSpec, specs: list[ExpectationSpec], tables: frozenset[str]) -> None:
        skipped, suite_reason = skip_reasons(specs, tables, self.config.params)
        for spec in specs:
            if spec.id in skipped:
                self._outcomes[spec.id] = _skipped_outcome(suite, spec, skipped[spec.id], self.config)
        runnable = [spec for spec in specs if spec.id not in skipped]
        if not runnable:
            if len(specs) == len(suite.expectations) and suite_reason is not None:
                self._suite_reasons[suite.name] = suite_reason
            return
        if self._session is None:
            try:
                self._session = gx_build.GxSession(self.db_path, self.out_dir / DOCS_DIR).open()
            except DatabaseUnreadableError as exc:  # e.g. a writer took the lock after the preflight
                write_unreadable_reports(self.out_dir, self.db_path, str(exc), self.started_at)
                raise
        else:
            self._session.reconnect()
        ran = _run_suite(
            self._session, dataclasses.replace(suite, expectations=tuple(runnable)), {}, self.config
        )
        self._seconds[suite.name] = self._seconds.get(suite.name, 0.0) + ran.seconds
        for outcome in ran.outcomes:
            self._outcomes[outcome.expectation_id] = outcome

    def _result(self, later: str) -> DqResult:
        runs = []
        for suite in self.selected:
            outcomes = [
                self._outcomes.get(spec.id) or _skipped_outcome(suite, spec, later, self.config)
                for spec in suite.expectations
            ]
            reason = self._suite_reasons.get(suite.name)
            if reason is None and all(outcome.status is Status.SKIPPED for outcome in outcomes):
                reason = later if not any(spec.id in self._outcomes for spec in suite.expectations) else None
            runs.append(
                SuiteRun(
                    name=suite.name,
                    description=suite.description,
                    outcomes=outcomes,
                    seconds=self._seconds.get(suite.name, 0.0),
                    skipped_reason=reason,
                    informational=suite.informational,
                )
            )
        return DqResult(
            db_path=self.db_path,
            out_dir=self.out_dir,
            suites=[*runs, *self._external],
            timings=self._timings_now(),
            started_at=self.started_at,
            ge_version=ge_compat.installed_ge_version(),
        )

    def _add_timing(self, name: str, seconds: float) -> None:
        self._timings[name] = self._timings.get(name, 0.0) + seconds

    def _timings_now(self) -> dict[str, float]:
        timings = dict(self._timings)
        if self._session is not None:
            timings.update(self._session.timings)
        timings["total_s"] = time.perf_counter() - self._started
        return timings


def run_suites(
    db_path: Path,
    out_dir: Path,
    suites: Sequence[str | SuiteSpec] | None = None,
    config: DqConfig | None = None,
) -> DqResult:
    """Run ``suites`` (names or specs; default all) on ``db_path`` in one phase and write the reports under
    ``out_dir`` (see DqRun). The database is only ever opened read-only and is released before this returns
    (also on failure)."""
    return DqRun(db_path, out_dir, suites, config).run()
