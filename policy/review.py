"""Human review of policy interventions: list the pending ones, approve or reject one.

Reads and updates ``policy.interventions`` directly (not ``marts.review_queue``, which is only as fresh as the
last dbt build). A decision is recorded in ``approval_status`` ('approved' / 'rejected') with
``reviewed_by``, ``reviewed_at`` (wall-clock UTC: audit metadata, not business time) and ``review_reason``.
Only a 'pending' intervention can be reviewed; a rejected intervention is never carried out and no longer
counts in the policy's suppression history.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import duckdb

from policy.db import relation_exists
from policy.migrate import ensure_tables

__all__ = ["ReviewError", "UnknownInterventionError", "list_pending", "review"]


class ReviewError(ValueError):
    """The review cannot be recorded (bad arguments, or the intervention is not pending)."""


class UnknownInterventionError(ReviewError):
    """No policy intervention has this id."""


@dataclass(frozen=True)
class PendingItem:
    intervention_id: str
    customer_id: str
    account_value: float | None
    risk_score: float | None
    risk_band: str | None
    value_at_risk: float | None
    recommended_action: str
    confidence: float | None
    generated_at: dt.date
    reason: str


def list_pending(con: duckdb.DuckDBPyConnection) -> list[PendingItem]:
    """Pending approvals, highest value at risk (account_value x risk_score) first, then oldest, then id."""
    if not relation_exists(con, "policy", "interventions"):
        return []
    has_marts = relation_exists(con, "marts", "customer_risk_scores") and relation_exists(
        con, "marts", "journey_states"
    )
    joins = (
        """
        left join marts.customer_risk_scores as risk on pending.customer_id = risk.customer_id
        left join marts.journey_states as states on pending.customer_id = states.customer_id"""
        if has_marts
        else ""
    )
    value = "cast(states.account_value as double)" if has_marts else "cast(null as double)"
    risk = "risk.risk_score" if has_marts else "cast(null as double)"
    band = "risk.risk_band" if has_marts else "cast(null as varchar)"
    rows = con.execute(
        f"""
        select
            pending.intervention_id,
            pending.customer_id,
            {value} as account_value,
            {risk} as risk_score,
            {band} as risk_band,
            {value} * {risk} as value_at_risk,
            pending.recommended_action,
            pending.confidence,
            pending.generated_at,
            pending.reason
        from policy.interventions as pending
        {joins}
        where pending.approval_status = 'pending'
        order by value_at_risk desc nulls last, pending.generated_at, pending.intervention_id
        """
    ).fetchall()
    return [PendingItem(*row) for row in rows]


def review(
    con: duckdb.DuckDBPyConnection,
    intervention_id: str,
    *,
    approve: bool,
    reviewed_by: str,
    reason: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Approve or reject one pending intervention in one transaction; returns the updated row as a dict."""
    if not reviewed_by or not reviewed_by.strip():
        raise ReviewError("who reviewed it? pass --by NAME (default: $USER, which is not set)")
    if not approve and not (reason and reason.strip()):
        raise ReviewError("a rejection needs a reason: --reason '...'")
    if not relation_exists(con, "policy", "interventions"):
        raise UnknownInterventionError(
            f"no policy intervention {intervention_id!r}: the policy has never run here"
        )
    status = "approved" if approve else "rejected"
    reviewed_at = (now or dt.datetime.now(dt.UTC)).replace(tzinfo=None)
    con.begin()
    try:
        ensure_tables(con)  # adds the review columns to a table written by an older version
        current = con.execute(
            "select approval_status from policy.interventions where intervention_id = ?", [intervention_id]
        ).fetchall()
        if not current:
            raise UnknownInterventionError(f"no policy intervention {intervention_id!r}")
        if current[0][0] != "pending":
            raise ReviewError(
                f"intervention {intervention_id} is {current[0][0]!r}, not pending: only pending interventions "
                "can be approved or rejected"
            )
        con.execute(
            """
            update policy.interventions
            set approval_status = ?, reviewed_by = ?, reviewed_at = ?, review_reason = ?
            where intervention_id = ? and approval_status = 'pending'
            """,
            [status, reviewed_by.strip(), reviewed_at, (reason or "").strip() or None, intervention_id],
        )
        cursor = con.execute(
            "select * from policy.interventions where intervention_id = ?", [intervention_id]
        )
        columns = [d[0] for d in cursor.description]
        row = dict(zip(columns, cursor.fetchone(), strict=True))
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return row
