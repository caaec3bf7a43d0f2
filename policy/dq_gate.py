"""The data-quality gate: does the last data-quality run allow the policy to act?

It reads the ``dq_summary.json`` written by ``journey dq`` (``expectations/reports.py``; default
``out/dq/dq_summary.json``). Blocking findings are the ones that fail a DQ run: a failed expectation of
severity ``error``, or any expectation that could not be evaluated (status ``exception``). A summary whose
run could not read the database (status ``database_unreadable``), or a summary file that is not valid JSON,
blocks too (fail closed: the policy cannot know the data is fine).

Outcomes (``GateResult.status``, logged in ``policy.decision_log.dq_gate``):

- ``passed``  -- a summary exists and has no blocking finding: the policy acts normally;
- ``missing`` -- no summary file: the policy says so on the terminal and proceeds (the data-quality step has not
  run, e.g. a policy run straight after ``dbt build``; ``journey run`` always runs it first);
- ``blocked`` -- blocking findings: every customer is ``skipped_bad_data``, the reason names the expectations;
- ``forced``  -- blocking findings but ``--force``: the policy acts, and every log row records that the gate
  was forced and over what.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_DQ_SUMMARY", "GateResult", "blocking_findings", "check_gate"]

DEFAULT_DQ_SUMMARY = Path("out") / "dq" / "dq_summary.json"
_SHOWN = 8  # expectation ids named in the reason before "and N more"


@dataclass(frozen=True)
class GateResult:
    status: str  # passed | missing | blocked | forced
    note: str  # one line for the terminal and the decision log
    failed: tuple[str, ...] = field(default=())
    detail: str = ""  # what failed, without the "data-quality gate:" prefix

    @property
    def blocks(self) -> bool:
        return self.status == "blocked"

    @property
    def reason(self) -> str:
        """The text decide() puts after 'skipped_bad_data: data-quality gate: ' in a reason."""
        return self.detail or self.note


def blocking_findings(summary: dict[str, Any]) -> list[str]:
    """Expectation ids that fail a data-quality run (error severity, or not evaluable), in report order."""
    found: list[str] = []
    for failure in summary.get("failures") or []:
        if not isinstance(failure, dict):
            continue
        status = failure.get("status")
        if status == "exception" or (status == "failed" and failure.get("severity") == "error"):
            name = str(failure.get("expectation_id") or "unnamed expectation")
            if failure.get("suite"):
                name = f"{failure['suite']}.{name}" if "." not in name else name
            found.append(name)
    if summary.get("status") == "database_unreadable":
        found.append(
            f"database_unreadable ({summary.get('error') or 'the DQ run could not read the database'})"
        )
    elif summary.get("status") == "errors" and not found:
        found.append("status errors (no failure listed)")
    return found


def _named(failed: list[str]) -> str:
    shown = ", ".join(failed[:_SHOWN])
    more = f" and {len(failed) - _SHOWN} more" if len(failed) > _SHOWN else ""
    return f"{shown}{more}"


def check_gate(path: str | Path | None, *, force: bool = False) -> GateResult:
    """Read the summary at ``path`` (default :data:`DEFAULT_DQ_SUMMARY`) and decide the gate."""
    summary_path = Path(path) if path is not None else DEFAULT_DQ_SUMMARY
    if not summary_path.is_file():
        return GateResult(
            "missing",
            f"no data-quality summary at {summary_path}: the gate was not checked (run `journey dq` first to "
            "enable it); acting on the marts as they are",
        )
    started = ""
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8-sig"))
        if not isinstance(summary, dict):
            raise ValueError("not a JSON object")
        failed = blocking_findings(summary)
        if summary.get("started_at"):
            started = f" (run started {summary['started_at']})"
    except (OSError, ValueError) as exc:
        failed = [f"unreadable summary ({exc})"]
    if not failed:
        return GateResult("passed", f"data-quality gate passed: no error-severity failure in {summary_path}")
    detail = f"error-severity data-quality failure(s) in {summary_path}{started}: {_named(failed)}"
    if force:
        return GateResult(
            "forced", f"data-quality gate FORCED (--force) despite {detail}", tuple(failed), detail
        )
    return GateResult("blocked", f"data-quality gate: {detail}", tuple(failed), detail)
