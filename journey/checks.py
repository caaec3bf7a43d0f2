"""The check history: every dbt data test, source freshness and expectation result of every `journey run`.

Each run's results are one line of a ledger beside the serving database (``<stem>.checks.jsonl``, written for
failed runs too, before anything is published), and ``ops.check_history`` is rebuilt from that ledger in the
working copy before the report: a failed run's results reach the table with the next run that publishes, as
``ops.runs`` does. One attempt per as_of_date is kept: a rerun of a day replaces that day's rows. dbt's results
come from its structured run results (journey.project.NodeOutcome), never from its log text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import yaml

from journey.project import PROJECT_DIR, NodeOutcome
from journey.runrecord import read_ledger

# ops.check_history's columns and types are declared once, in the ops source (SOURCES_FILE); the DDL and the
# insert are derived from that declaration. Its key: one row per check per kept run.
SOURCES_FILE = PROJECT_DIR / "models" / "staging" / "_ops__sources.yml"
KEY = ("run_id", "check_id")
TABLE = "ops.check_history"

# dbt's statuses in the history's words (pass, warn, fail, error, skipped): a test's are those words already
_TEST_STATUSES = frozenset({"pass", "warn", "fail", "error", "skipped"})
_FRESHNESS_STATUS = {"pass": "pass", "warn": "warn", "error": "fail", "runtime error": "error"}


@dataclass(frozen=True)
class CheckResult:
    check_id: str
    check_home: str  # dbt | great_expectations
    check_type: str  # data_test | source_freshness | expectation
    relation_name: str | None
    severity: str  # error | warning
    status: str  # pass | warn | fail | error | skipped
    failing_count: int | None = None
    duration_s: float | None = None
    message: str | None = None


@dataclass
class RunChecks:
    """One run's results: a line of the ledger."""

    run_id: str
    as_of_date: str | None
    recorded_at: str
    checks: list[CheckResult] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def from_dbt_nodes(nodes: Iterable[NodeOutcome]) -> list[CheckResult]:
    """The data tests and source freshness checks among the nodes a dbt command executed."""
    checks = []
    for node in nodes:
        if node.resource_type == "test":
            checks.append(
                CheckResult(
                    check_id=node.name,
                    check_home="dbt",
                    check_type="data_test",
                    relation_name=node.relation,
                    severity="warning" if node.severity == "warn" else "error",
                    status=node.status if node.status in _TEST_STATUSES else "error",
                    failing_count=node.failures,
                    duration_s=node.seconds,
                    message=node.message if node.status != "pass" else None,
                )
            )
        elif node.resource_type == "source":
            checks.append(
                CheckResult(
                    check_id=f"source_freshness_{node.relation}",
                    check_home="dbt",
                    check_type="source_freshness",
                    relation_name=node.relation,
                    severity="error" if node.severity == "error" else "warning",
                    status=_FRESHNESS_STATUS.get(node.status, "error"),
                    failing_count=age_days(node),
                    duration_s=node.seconds,
                    message=node.message or (None if node.status == "pass" else lag_text(node)),
                )
            )
    return checks


def age_days(node: NodeOutcome) -> int | None:
    """A source freshness result's age in whole days (the feeds' event dates are dates)."""
    return None if node.age_s is None else round(node.age_s / 86400)


def lag_text(node: NodeOutcome) -> str:
    days = age_days(node)
    return (
        "latest event "
        + ("" if days is None else f"{days} day{'s' if days != 1 else ''} ")
        + "before as_of_date"
    )


def from_dq(result: Any, skip_suites: Sequence[str] = ()) -> list[CheckResult]:
    """Every expectation of a data-quality run (expectations.results.DqResult); ``skip_suites`` are results
    recorded from elsewhere (the freshness suite the run adds to the reports is dbt's)."""
    from expectations.reports import describe
    from expectations.results import Status

    checks = []
    for outcome in result.outcomes:
        if outcome.suite in skip_suites:
            continue
        severity = outcome.severity.value
        status = {
            Status.PASSED: "pass",
            Status.FAILED: "fail" if severity == "error" else "warn",
            Status.EXCEPTION: "error",
            Status.SKIPPED: "skipped",
        }[outcome.status]
        checks.append(
            CheckResult(
                check_id=outcome.expectation_id,
                check_home="great_expectations",
                check_type="expectation",
                relation_name=outcome.table,
                severity=severity,
                status=status,
                failing_count=outcome.unexpected_count,
                message=describe(outcome) if status not in ("pass", "skipped") else None,
            )
        )
    return checks


def kept_attempts(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The latest attempt of each as_of_date (run ids are UTC start times: they sort in time), and every run
    that never learnt its date."""
    latest: dict[str, dict[str, Any]] = {}
    undated = []
    for run in runs:
        day = run.get("as_of_date")
        if day is None:
            undated.append(run)
        elif day not in latest or run["run_id"] > latest[day]["run_id"]:
            latest[day] = run
    return sorted([*latest.values(), *undated], key=lambda run: run["run_id"])


@cache
def declared_columns() -> tuple[tuple[str, str], ...]:
    """(name, type) of each column of ops.check_history, in the declared order (SOURCES_FILE)."""
    document = yaml.safe_load(SOURCES_FILE.read_text(encoding="utf-8"))
    (source,) = [item for item in document["sources"] if item["name"] == "ops"]
    (table,) = [item for item in source["tables"] if item["name"] == TABLE.split(".")[1]]
    return tuple((column["name"], str(column["data_type"])) for column in table["columns"])


def history_table(runs: list[dict[str, Any]]) -> pa.Table:
    """The rows of ops.check_history, as Arrow (types are cast to the declared ones on insert)."""
    rows: dict[str, list[Any]] = {name: [] for name, _ in declared_columns()}
    for run in kept_attempts(runs):
        # one row per check of a run (the table's key): a check recorded twice keeps its last result
        checks = {check["check_id"]: check for check in run.get("checks", [])}
        for check in checks.values():
            values = {**check, "run_id": run["run_id"], "as_of_date": run.get("as_of_date")}
            values["recorded_at"] = run.get("recorded_at")
            for name in rows:
                rows[name].append(values.get(name))
    return pa.table(rows)


def write_check_history(db: Path, ledger: Path) -> int:
    """Rebuild ops.check_history in ``db`` from the ledger, in one transaction; returns its row count."""
    table = history_table(read_ledger(ledger))
    columns = ", ".join(f"{name} {kind}" for name, kind in declared_columns())
    selected = ", ".join(f"cast({name} as {kind}) as {name}" for name, kind in declared_columns())
    with duckdb.connect(str(db)) as connection:
        connection.execute("begin")
        connection.execute("create schema if not exists ops")
        connection.execute(f"create or replace table {TABLE} ({columns}, primary key ({', '.join(KEY)}))")
        connection.register("check_rows", table)
        connection.execute(f"insert into {TABLE} select {selected} from check_rows")
        connection.execute("commit")
    return table.num_rows


FRESHNESS_SUITE = "freshness"


def freshness_suite(nodes: Iterable[NodeOutcome]) -> Any:
    """dbt's source freshness results as a suite of the data-quality reports (dq_summary.json, JUnit, the
    terminal), so a stale feed is reported where every other finding is: a warning, or an error (the run is not
    published) when the source has an error_after threshold and passed it. The check itself is dbt's: the
    history records it from dbt's results, not from this suite."""
    from expectations.config import Severity
    from expectations.results import ExpectationOutcome, Status, SuiteRun

    outcomes = []
    for node in nodes:
        if node.resource_type != "source":
            continue
        days = age_days(node)
        status = {"pass": Status.PASSED, "warn": Status.FAILED, "error": Status.FAILED}.get(
            node.status, Status.EXCEPTION
        )
        failed_hard = node.status == "error" or (status is Status.PASSED and node.severity == "error")
        outcomes.append(
            ExpectationOutcome(
                suite=FRESHNESS_SUITE,
                expectation_id=f"source_freshness_{node.relation}",
                severity=Severity.ERROR if failed_hard else Severity.WARNING,
                table=str(node.relation),
                kind="freshness",
                description=lag_text(node)
                + ("" if status is Status.PASSED else " (thresholds: models/staging/_feeds__sources.yml)"),
                status=status,
                unexpected_count=days if status is Status.FAILED else None,
                observed={"age_days": days},
                exception=node.message if status is Status.EXCEPTION else None,
            )
        )
    return SuiteRun(
        name=FRESHNESS_SUITE,
        description="How far each feed's latest event date lies behind as_of_date: dbt source freshness.",
        outcomes=outcomes,
        seconds=sum(node.seconds for node in nodes if node.resource_type == "source"),
    )
