"""Write a run's reports: ``dq_summary.json``, ``dq_junit.xml`` and the terminal summary."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from expectations.config import Severity
from expectations.results import (
    EXIT_DB_UNREADABLE,
    DqResult,
    ExpectationOutcome,
    Status,
    SuiteRun,
)

SUMMARY_FILE = "dq_summary.json"
JUNIT_FILE = "dq_junit.xml"
DOCS_DIR = "data_docs"
TERMINAL_KEYS = 5  # offending keys per finding on the terminal (the JSON and JUnit list up to 20)


def overall_status(result: DqResult) -> str:
    if result.errors:
        return "errors"
    return "warnings" if result.warnings else "passed"


def _outcome_json(outcome: ExpectationOutcome) -> dict[str, Any]:
    return {
        "suite": outcome.suite,
        "expectation_id": outcome.expectation_id,
        "severity": outcome.severity.value,
        "status": outcome.status.value,
        "table": outcome.table,
        "kind": outcome.kind,
        "description": outcome.description,
        "unexpected_count": outcome.unexpected_count,
        "offending_keys": outcome.offending_keys,
        "offending_rows": outcome.offending_labels,
        "offending_keys_truncated": outcome.keys_truncated,
        "observed": outcome.observed,
        "exception": outcome.exception,
        "informational": outcome.informational,
    }


def _partial_note(suite: SuiteRun) -> str | None:
    """For a suite that ran with some expectations skipped: which, and why."""
    skipped = [o for o in suite.outcomes if o.status is Status.SKIPPED]
    if not skipped:
        return None
    return "; ".join(f"{o.expectation_id} {o.description}" for o in skipped)


def summary_dict(result: DqResult) -> dict[str, Any]:
    outcomes = result.outcomes
    ran = [o for o in outcomes if o.status is not Status.SKIPPED]
    failed = [o for o in outcomes if o.status in (Status.FAILED, Status.EXCEPTION)]
    by_severity = {
        severity.value: sum(1 for o in failed if o.severity is severity and o.status is Status.FAILED)
        for severity in Severity
    }
    return {
        "status": overall_status(result),
        "exit_code": result.exit_code,
        "database": str(result.db_path),
        "started_at": result.started_at,
        "great_expectations_version": result.ge_version,
        "totals": {
            "expectations": len(outcomes),
            "evaluated": len(ran),
            "passed": sum(1 for o in outcomes if o.status is Status.PASSED),
            "failed": sum(1 for o in outcomes if o.status is Status.FAILED),
            "exceptions": sum(1 for o in outcomes if o.status is Status.EXCEPTION),
            "skipped": sum(1 for o in outcomes if o.status is Status.SKIPPED),
            "failed_by_severity": by_severity,
            "errors": len(result.errors),
            "warnings": len(result.warnings),
            "informational": len(result.notices),
        },
        "timings_s": {name: round(seconds, 3) for name, seconds in result.timings.items()},
        "suites": [
            {
                "name": suite.name,
                "description": suite.description,
                "status": "skipped" if suite.skipped else "ran",
                "informational": suite.informational,
                "note": suite.skipped_reason or _partial_note(suite),
                "expectations": len(suite.outcomes),
                "passed": sum(1 for o in suite.outcomes if o.status is Status.PASSED),
                "failed": sum(1 for o in suite.outcomes if o.status in (Status.FAILED, Status.EXCEPTION)),
                "skipped": sum(1 for o in suite.outcomes if o.status is Status.SKIPPED),
                "seconds": round(suite.seconds, 3),
            }
            for suite in result.suites
        ],
        "failures": [_outcome_json(o) for o in failed],
        "reports": {
            "summary": SUMMARY_FILE,
            "junit": JUNIT_FILE,
            "data_docs": (
                str(result.data_docs_index.relative_to(result.out_dir)) if result.data_docs_index else None
            ),
        },
    }


def describe(outcome: ExpectationOutcome) -> str:
    """One line naming the finding, e.g. ``WARNING orphan_signals: 1 row (S009 → customer C999)``."""
    tag = "ERROR" if outcome.is_error else "INFO" if outcome.is_notice else "WARNING"
    if outcome.status is Status.EXCEPTION:
        return f"{tag:<7} {outcome.expectation_id}: not evaluated on {outcome.table}: {outcome.exception}"
    count = outcome.unexpected_count
    if outcome.kind == "columns":
        what = f"missing column(s) in {outcome.table}"
    elif outcome.kind == "freshness":  # dbt's source freshness (journey/checks.py freshness_suite)
        what = outcome.description
    elif count is None:
        what = f"observed {outcome.observed!r} on {outcome.table}"
    else:
        what = f"{count} row{'' if count == 1 else 's'}"
    listed = outcome.offending_labels or outcome.offending_keys
    shown = listed[:TERMINAL_KEYS]
    more = ", …" if shown and (outcome.keys_truncated or len(listed) > len(shown)) else ""
    details = f" ({', '.join(shown)}{more})" if shown else ""
    return f"{tag:<7} {outcome.expectation_id}: {what}{details}"


def terminal_summary(result: DqResult) -> str:
    lines = [f"journey dq: {result.db_path}"]
    for suite in result.suites:
        if suite.skipped:
            lines.append(f"  suite {suite.name}: SKIPPED ({suite.skipped_reason})")
            continue
        failed = sum(1 for o in suite.outcomes if o.status in (Status.FAILED, Status.EXCEPTION))
        skipped = sum(1 for o in suite.outcomes if o.status is Status.SKIPPED)
        ran = len(suite.outcomes) - skipped
        tail = f", {skipped} skipped" if skipped else ""
        kind = " (informational)" if suite.informational else ""
        lines.append(
            f"  suite {suite.name}{kind}: {len(suite.outcomes)} expectations, "
            f"{ran - failed} passed, {failed} failed{tail} ({suite.seconds:.2f} s)"
        )
    findings = result.errors + result.warnings
    lines.extend(describe(o) for o in findings)
    if result.notices:
        lines.append("Informational (operational flags, not data defects; they never fail the run):")
        lines.extend(describe(o) for o in result.notices)
    errors, warnings, notices = len(result.errors), len(result.warnings), len(result.notices)
    lines.append(
        f"{errors} error{'' if errors == 1 else 's'}, {warnings} warning{'' if warnings == 1 else 's'}"
        f", {notices} informational"
        f" in {result.timings.get('total_s', 0.0):.1f} s — exit {result.exit_code}"
    )
    docs = f", {result.data_docs_index}" if result.data_docs_index else ""
    lines.append(f"reports: {result.out_dir / SUMMARY_FILE}, {result.out_dir / JUNIT_FILE}{docs}")
    return "\n".join(lines)


def _testcase(parent: ET.Element, outcome: ExpectationOutcome, seconds: float) -> None:
    case = ET.SubElement(
        parent,
        "testcase",
        classname=f"dq.{outcome.suite}.{outcome.table}",
        name=outcome.expectation_id,
        time=f"{seconds:.3f}",
    )
    properties = ET.SubElement(case, "properties")
    for name, value in (
        ("severity", outcome.severity.value),
        ("status", outcome.status.value),
        ("unexpected_count", "" if outcome.unexpected_count is None else str(outcome.unexpected_count)),
        ("informational", "true" if outcome.informational else "false"),
    ):
        ET.SubElement(properties, "property", name=name, value=value)
    line = describe(outcome)
    body = "\n".join([line, *(f"  {label}" for label in outcome.offending_labels or outcome.offending_keys)])
    if outcome.status is Status.SKIPPED:
        ET.SubElement(case, "skipped", message=outcome.description or "skipped")
    elif outcome.status is Status.EXCEPTION:
        ET.SubElement(case, "error", message=line, type="exception").text = body
    elif outcome.is_error:
        ET.SubElement(case, "failure", message=line, type="error-severity").text = body
    elif outcome.is_warning or outcome.is_notice:
        # Warnings (and informational flags) must not fail CI: a passing testcase that says what it found.
        ET.SubElement(case, "system-out").text = body


def _suite_counts(outcomes: Iterable[ExpectationOutcome]) -> dict[str, str]:
    items = list(outcomes)
    return {
        "tests": str(len(items)),
        "failures": str(sum(1 for o in items if o.is_error and o.status is Status.FAILED)),
        "errors": str(sum(1 for o in items if o.status is Status.EXCEPTION)),
        "skipped": str(sum(1 for o in items if o.status is Status.SKIPPED)),
    }


def junit_tree(result: DqResult) -> ET.ElementTree:
    root = ET.Element(
        "testsuites",
        name="journey-dq",
        time=f"{result.timings.get('total_s', 0.0):.3f}",
        **_suite_counts(result.outcomes),
    )
    for suite in result.suites:
        element = ET.SubElement(
            root,
            "testsuite",
            name=f"dq.{suite.name}",
            time=f"{suite.seconds:.3f}",
            **_suite_counts(suite.outcomes),
        )
        per_case = suite.seconds / len(suite.outcomes) if suite.outcomes else 0.0
        for outcome in suite.outcomes:
            _testcase(element, outcome, per_case)
    ET.indent(root)
    return ET.ElementTree(root)


def write_reports(result: DqResult) -> None:
    result.out_dir.mkdir(parents=True, exist_ok=True)
    (result.out_dir / SUMMARY_FILE).write_text(
        json.dumps(summary_dict(result), indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )
    junit_tree(result).write(result.out_dir / JUNIT_FILE, encoding="utf-8", xml_declaration=True)


def write_unreadable_reports(out_dir: Path, db_path: Path, message: str, started_at: str) -> None:
    """Reports for a run that could not read the database, so CI still has something to show."""
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = {
        "status": "database_unreadable",
        "exit_code": EXIT_DB_UNREADABLE,
        "database": str(db_path),
        "started_at": started_at,
        "error": message,
        "failures": [],
    }
    (out_dir / SUMMARY_FILE).write_text(
        json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    root = ET.Element("testsuites", name="journey-dq", tests="1", failures="0", errors="1", skipped="0")
    suite = ET.SubElement(
        root, "testsuite", name="dq.database", tests="1", failures="0", errors="1", skipped="0"
    )
    case = ET.SubElement(suite, "testcase", classname="dq.database", name="database_readable", time="0")
    ET.SubElement(case, "error", message=message, type="database_unreadable").text = message
    ET.indent(root)
    ET.ElementTree(root).write(out_dir / JUNIT_FILE, encoding="utf-8", xml_declaration=True)
