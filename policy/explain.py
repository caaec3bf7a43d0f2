"""``journey policy explain DECISION_ID``: the audit record of one decision, from the database alone.

For a decision_id (``D`` + 16 hex digits, deterministic from customer, as_of_date and policy version) it shows the
latest ``policy.decision_log`` row of that decision (a rerun with changed inputs appends a newer one; the number
of rows is shown): the decision and its reason, the typed inputs it was decided from, the policy version and the
config (``policy.configs`` by config_hash). A row logged before ``policy.configs`` existed shows its config_hash
with ``config: null`` and a note.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import duckdb

from policy.db import relation_exists
from policy.tables import SCHEMA

__all__ = ["Explanation", "UnknownDecisionError", "explain", "render_text"]


class UnknownDecisionError(LookupError):
    """No decision-log row has this decision_id (exit code 2, usage)."""


@dataclass(frozen=True)
class Explanation:
    decision: dict[str, Any]
    inputs: dict[str, Any]
    config: dict[str, Any] | None
    log_rows: int

    def as_json(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "inputs": self.inputs,
            "config": self.config,
            "log_rows": self.log_rows,
        }


_DECISION_COLUMNS = (
    "decision_id", "customer_id", "as_of_date", "decision", "would_be_decision", "recommended_action",
    "confidence", "requires_human_approval", "approval_reasons", "triggered_by_signals", "reason",
    "intervention_id", "is_holdout", "policy_version", "config_hash", "inputs_hash", "decision_log_id",
    "dq_gate", "dq_gate_note", "run_id", "decided_at",
)  # fmt: skip


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def explain(con: duckdb.DuckDBPyConnection, decision_id: str) -> Explanation:
    """The audit record of ``decision_id``; raises :class:`UnknownDecisionError` when it is not in the log."""
    if not relation_exists(con, SCHEMA, "decision_log"):
        raise UnknownDecisionError(f"no decision {decision_id!r}: the policy has never run on this database")
    cursor = con.execute(
        f"""
        select {", ".join(_DECISION_COLUMNS)}, inputs, count(*) over () as log_rows
        from {SCHEMA}.decision_log
        where decision_id = ?
        order by decided_at desc, decision_log_id desc
        limit 1
        """,
        [decision_id],
    )
    names = [d[0] for d in cursor.description]
    row = cursor.fetchone()
    if row is None:
        raise UnknownDecisionError(f"no decision {decision_id!r} in {SCHEMA}.decision_log")
    record = dict(zip(names, row, strict=True))
    inputs = record.pop("inputs")
    if isinstance(inputs, str):  # a log not converted yet (read-only): the old JSON text
        inputs = json.loads(inputs)
    log_rows = int(record.pop("log_rows"))
    config = None
    if relation_exists(con, SCHEMA, "configs"):
        found = con.execute(
            f"select config from {SCHEMA}.configs where config_hash = ?", [record["config_hash"]]
        ).fetchone()
        config = json.loads(found[0]) if found else None
    return Explanation(_plain(record), _plain(inputs or {}), config, log_rows)


def render_text(explanation: Explanation) -> str:
    d = explanation.decision
    lines = [
        f"decision {d['decision_id']}: customer {d['customer_id']} on {d['as_of_date']}",
        f"  decision:        {d['decision']} (would be {d['would_be_decision']}; holdout {d['is_holdout']})",
        f"  reason:          {d['reason']}",
        f"  action:          {d['recommended_action']} (confidence {d['confidence']}, "
        f"intervention {d['intervention_id'] or '-'})",
        f"  policy version:  {d['policy_version']}",
        f"  config_hash:     {d['config_hash']}",
        f"  data quality:    {d['dq_gate']}",
        f"  logged:          run {d['run_id']} at {d['decided_at']} "
        f"({explanation.log_rows} log row(s) for this decision; the latest shown)",
        f"  inputs (inputs_hash {d['inputs_hash']}):",
        *(f"    {name:<26}{json.dumps(value)}" for name, value in explanation.inputs.items()),
    ]
    if explanation.config is None:
        lines.append("  config: not recorded (logged before policy.configs existed; only its hash is known)")
    else:
        lines.append("  config:")
        lines.extend(
            "    " + line for line in json.dumps(explanation.config, indent=2, sort_keys=True).splitlines()
        )
    return "\n".join(lines)
