"""Turn one Great Expectations validation result (as a JSON dict) into an ExpectationOutcome.

Pure functions over ``ExpectationValidationResult.to_json_dict()`` so they can be read and tested
without running GE. Offending keys come from, in order: the rows an ``UnexpectedRowsExpectation``
returned, ``partial_unexpected_index_list`` (map expectations run with the table's key columns as
``unexpected_index_column_names``), ``partial_unexpected_list`` (values, or dicts for compound
columns), or the missing columns of a schema check.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from expectations.config import Severity
from expectations.results import ExpectationOutcome, Status
from expectations.suites import ExpectationSpec


def _fmt(value: Any) -> str:
    return "NULL" if value is None else str(value)


def _key_of(row: Mapping[str, Any], key: Iterable[str]) -> str:
    columns = [column for column in key if column in row]
    if not columns:
        return ", ".join(f"{name}={_fmt(value)}" for name, value in row.items())
    return "/".join(_fmt(row[column]) for column in columns)


def _dedupe(values: Iterable[str], limit: int) -> list[str]:
    return list(dict.fromkeys(values))[:limit]


def raised_exception(result: Mapping[str, Any]) -> str | None:
    """The exception GE swallowed into ``exception_info``, if any (flat or keyed by metric)."""
    info = result.get("exception_info") or {}
    candidates = [info] if "raised_exception" in info else list(info.values())
    for candidate in candidates:
        if isinstance(candidate, Mapping) and candidate.get("raised_exception"):
            message = candidate.get("exception_message") or "exception"
            return str(message).strip().splitlines()[0]
    return None


def _rows_keys(spec: ExpectationSpec, details: Mapping[str, Any], limit: int) -> tuple[list[str], list[str]]:
    rows = details.get("unexpected_rows") or []
    keys = _dedupe((_key_of(row, spec.key) for row in rows), limit)
    labels: list[str] = []
    for row in rows:
        try:
            label = (
                spec.label.format(**{k: _fmt(v) for k, v in row.items()})
                if spec.label
                else _key_of(row, spec.key)
            )
        except (KeyError, IndexError, ValueError):
            label = _key_of(row, spec.key)
        labels.append(label)
    return keys, _dedupe(labels, limit)


def _map_keys(spec: ExpectationSpec, result: Mapping[str, Any], limit: int) -> list[str]:
    index_list = result.get("partial_unexpected_index_list") or []
    if index_list and all(isinstance(item, Mapping) for item in index_list):
        return _dedupe((_key_of(item, spec.key) for item in index_list), limit)
    values = result.get("partial_unexpected_list") or []
    return _dedupe(
        (_key_of(value, spec.key) if isinstance(value, Mapping) else _fmt(value) for value in values), limit
    )


def outcome_from_result(
    suite: str, spec: ExpectationSpec, severity: Severity, result: Mapping[str, Any], limit: int
) -> ExpectationOutcome:
    outcome = ExpectationOutcome(
        suite=suite,
        expectation_id=spec.id,
        severity=severity,
        table=spec.table,
        kind=spec.kind,
        description=spec.text,
        status=Status.PASSED,
    )
    exception = raised_exception(result)
    if exception is not None:
        outcome.status = Status.EXCEPTION
        outcome.exception = exception
        return outcome
    body: Mapping[str, Any] = result.get("result") or {}
    success = bool(result.get("success"))
    outcome.status = Status.PASSED if success else Status.FAILED
    if spec.kind == "rows":
        outcome.unexpected_count = int(body.get("observed_value") or 0)
        if not success:
            details = body.get("details") or {}
            outcome.offending_keys, outcome.offending_labels = _rows_keys(spec, details, limit)
            returned = len(details.get("unexpected_rows") or [])
            outcome.keys_truncated = (
                outcome.unexpected_count > returned or len(outcome.offending_labels) >= limit
            )
    elif spec.kind == "columns":
        missing = list(((body.get("details") or {}).get("mismatched") or {}).get("missing") or [])
        outcome.unexpected_count = len(missing)
        outcome.offending_keys = missing[:limit]
        outcome.keys_truncated = len(missing) > limit
        outcome.observed = body.get("observed_value")
    elif "unexpected_count" in body:
        outcome.unexpected_count = int(body.get("unexpected_count") or 0)
        if not success:
            outcome.offending_keys = _map_keys(spec, body, limit)
            outcome.keys_truncated = outcome.unexpected_count > len(body.get("partial_unexpected_list") or [])
    else:
        outcome.observed = body.get("observed_value")
    if not success and outcome.unexpected_count is None and outcome.observed is None:
        # A failure GE did not explain is treated like an exception: never a silent pass or fail.
        outcome.status = Status.EXCEPTION
        outcome.exception = "expectation failed without a result (see Data Docs)"
    return outcome
