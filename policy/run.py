"""One policy run: read the marts, check the data-quality gate, decide, write back (or only show, ``dry_run``).

    from policy.run import PolicyRequest, run_policy
    outcome = run_policy(PolicyRequest(db=Path("journey.duckdb")))
    outcome.counts, outcome.headline, outcome.new_interventions

Steps: open the database (read-only for a dry run) -> reference values from its ``reference`` schema and
``policy/policy.yml`` -> the marts' as_of_date (``--as-of`` must equal it) -> the DQ gate -> inputs (one SQL
query, :mod:`policy.inputs`, streamed in batches of ``batch_rows`` customers) -> :func:`policy.decide.decide`
per batch -> one write transaction over all batches (:mod:`policy.writeback`) -> optional JSON export. Errors are typed so the CLI can map them to exit codes.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from journey.feeds import feed_specs
from journey.sql import literal
from policy.config import PolicyConfig, PolicyConfigError, load_config
from policy.db import DatabaseUnavailableError, open_db
from policy.decide import decide
from policy.dq_gate import DEFAULT_DQ_SUMMARY, GateResult, check_gate
from policy.inputs import MissingMartsError, input_batches, marts_as_of_date
from policy.reference import ReferenceError, load_reference_db
from policy.writeback import DecisionWriter, WriteResult, preview

__all__ = [
    "DatabaseUnavailableError",
    "MissingMartsError",
    "PolicyOutcome",
    "PolicyRequest",
    "PolicyUsageError",
    "export_interventions",
    "run_policy",
]

# the interventions feed's fields (dbt_project.yml var `feeds`): the export is written in the feed's schema
FEED_COLUMNS = feed_specs()["interventions"].field_names


class PolicyUsageError(ValueError):
    """Bad arguments or config (exit code 2)."""


@dataclass
class PolicyRequest:
    db: Path
    as_of: str | dt.date | None = None  # default: the marts' as_of_date
    dq_summary: Path | None = DEFAULT_DQ_SUMMARY
    force: bool = False
    run_id: str | None = None
    export: Path | None = None
    dry_run: bool = False
    config_path: Path | None = None
    # customers decided and written at a time: bounds the policy's memory (10M customers = 10 batches)
    batch_rows: int = 1_000_000
    # new interventions kept in PolicyOutcome.new_interventions (for the terminal); all are in the table
    preview_limit: int = 1_000
    # test hook: called inside the write transaction between the two inserts
    before_log_insert: Callable[[duckdb.DuckDBPyConnection], None] | None = None


@dataclass
class PolicyOutcome:
    run_id: str
    as_of_date: dt.date
    policy_version: str
    config_hash: str
    gate: GateResult
    dry_run: bool
    customers: int
    decisions: dict[str, int]
    approvals: dict[str, int]
    new_interventions: list[dict[str, Any]]
    interventions_written: int
    decision_log_written: int
    timings_s: dict[str, float] = field(default_factory=dict)
    export_path: Path | None = None

    @property
    def counts(self) -> dict[str, Any]:
        return {
            "customers": self.customers,
            "decisions": dict(self.decisions),
            "approvals": dict(self.approvals),
            "interventions_written": self.interventions_written,
            "decision_log_written": self.decision_log_written,
            "dq_gate": self.gate.status,
            "dry_run": self.dry_run,
        }

    @property
    def headline(self) -> str:
        decided = ", ".join(f"{name} {n:,}" for name, n in self.decisions.items() if n) or "nobody"
        verb = "would write" if self.dry_run else "wrote"
        return (
            f"policy {self.policy_version} on {self.as_of_date}: {self.customers:,} customers ({decided}); "
            f"{verb} {self.interventions_written:,} new interventions and {self.decision_log_written:,} "
            f"decision-log rows; data-quality gate {self.gate.status}"
        )


def new_run_id() -> str:
    return "policy-" + dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")


def _as_date(value: str | dt.date | None) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise PolicyUsageError(f"--as-of {value!r} is not a date YYYY-MM-DD") from None


def _load_config(con: duckdb.DuckDBPyConnection, path: Path | None) -> PolicyConfig:
    try:
        reference = load_reference_db(con)
    except ReferenceError as exc:
        raise MissingMartsError(str(exc)) from exc
    try:
        return load_config(path, reference=reference)
    except PolicyConfigError as exc:
        raise PolicyUsageError(str(exc)) from exc


_DECISION_ORDER = ("act", "monitor", "suppressed", "holdout", "skipped_bad_data")


def _intervention_rows(
    decisions: pa.Table, inputs: pa.Table, only: pa.Array, limit: int
) -> list[dict[str, Any]]:
    """The first ``limit`` new interventions of a batch (ids in ``only``) as dicts, for the terminal."""
    if limit <= 0 or len(only) == 0:
        return []
    acted = pc.and_(
        pc.equal(decisions["decision"], "act"), pc.is_in(decisions["intervention_id"], value_set=only)
    )
    chosen = decisions.append_column("journey_stage", inputs["journey_stage"]).filter(acted).slice(0, limit)
    rows = chosen.select(
        ["intervention_id", "customer_id", "journey_stage", "recommended_action", "confidence",
         "requires_human_approval", "reason"]
    ).to_pylist()  # fmt: skip
    for row in rows:
        row["approval_status"] = "pending" if row["requires_human_approval"] else "not_required"
    return rows


@dataclass
class _Tally:
    """What a run decided, summed over its batches (only counts and the first new interventions are kept; a real
    run takes the written counts and new interventions from the writer, a dry run from the previews)."""

    preview_limit: int
    customers: int = 0
    decisions: Counter[str] = field(default_factory=Counter)
    approvals: Counter[str] = field(default_factory=lambda: Counter({"pending": 0, "not_required": 0}))
    interventions: int = 0
    log_rows: int = 0
    new_rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, decisions: pa.Table, inputs: pa.Table) -> None:
        self.customers += decisions.num_rows
        counts = pc.value_counts(decisions["decision"])
        self.decisions.update(
            dict(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True))
        )
        acted = decisions.filter(pc.equal(decisions["decision"], "act"))
        pending = int(pc.sum(acted["requires_human_approval"]).as_py() or 0)
        self.approvals.update({"pending": pending, "not_required": acted.num_rows - pending})

    def add_preview(self, decisions: pa.Table, inputs: pa.Table, new_ids: pa.Array, log_rows: int) -> None:
        """A dry run's batch: what it would write."""
        self.interventions += len(new_ids)
        self.log_rows += log_rows
        self.new_rows += _intervention_rows(
            decisions, inputs, new_ids, self.preview_limit - len(self.new_rows)
        )


def _decided(
    batches: Iterator[pa.Table], config: PolicyConfig, gate: GateResult, timings: dict[str, float]
) -> Iterator[tuple[pa.Table, pa.Table]]:
    """(inputs, decisions) per input batch; sums the time spent reading inputs and deciding into ``timings``."""
    while True:
        mark = time.perf_counter()
        inputs = next(batches, None)
        timings["inputs"] = timings.get("inputs", 0.0) + time.perf_counter() - mark
        if inputs is None:
            return
        mark = time.perf_counter()
        decisions = decide(inputs, config, dq_blocked=gate.blocks, dq_reason=gate.reason)
        timings["last_decide"] = time.perf_counter() - mark
        timings["decide"] = timings.get("decide", 0.0) + timings["last_decide"]
        yield inputs, decisions


def run_policy(request: PolicyRequest) -> PolicyOutcome:
    """Run the policy once (see the module docstring). Raises the typed errors above."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    run_id = request.run_id or new_run_id()
    wanted = _as_date(request.as_of)
    gate = check_gate(request.dq_summary, force=request.force)
    with open_db(request.db, read_only=request.dry_run) as con:
        config = _load_config(con, request.config_path)
        as_of = marts_as_of_date(con)
        if wanted is not None and wanted != as_of:
            raise PolicyUsageError(
                f"--as-of {wanted} but the marts in {request.db} were built for {as_of}: rebuild them for "
                f"{wanted} first (`journey run --as-of {wanted}`), or omit --as-of"
            )
        tally = _Tally(preview_limit=request.preview_limit)
        batches = input_batches(con, as_of, config.policy_version, request.batch_rows)
        if request.dry_run:
            for inputs, decisions in _decided(batches, config, gate, timings):
                ids, log_rows = preview(con, decisions, inputs, dq_gate=gate.status, dq_gate_note=gate.note)
                tally.add(decisions, inputs)
                tally.add_preview(decisions, inputs, pa.array(ids, pa.string()), log_rows)
            result = WriteResult(tally.interventions, tally.log_rows)
        else:
            writer = DecisionWriter(
                con,
                config=config,
                run_id=run_id,
                decided_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
                dq_gate=gate.status,
                dq_gate_note=gate.note,
                before_log_insert=request.before_log_insert,
                preview_limit=request.preview_limit,
            )
            with writer:
                for inputs, decisions in _decided(batches, config, gate, timings):
                    mark = time.perf_counter()
                    latency_ms = round(1000 * timings["last_decide"] / max(inputs.num_rows, 1))
                    writer.add(decisions, inputs, evaluation_latency_ms=latency_ms)
                    tally.add(decisions, inputs)
                    timings["stage rows"] = timings.get("stage rows", 0.0) + time.perf_counter() - mark
                mark = time.perf_counter()
            timings["write"] = time.perf_counter() - mark
            result = writer.result
            tally.new_rows = writer.new_interventions
        timings.pop("last_decide", None)

        export_path = None
        if request.export is not None and not request.dry_run:
            mark = time.perf_counter()
            export_path = export_interventions(con, request.export, as_of, config.policy_version)
            timings["export"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - started
    return PolicyOutcome(
        run_id=run_id,
        as_of_date=as_of,
        policy_version=config.policy_version,
        config_hash=config.config_hash,
        gate=gate,
        dry_run=request.dry_run,
        customers=tally.customers,
        decisions={name: tally.decisions.get(name, 0) for name in _DECISION_ORDER},
        approvals=dict(tally.approvals),
        new_interventions=tally.new_rows,
        interventions_written=result.interventions_inserted,
        decision_log_written=result.decision_log_inserted,
        timings_s={name: round(seconds, 3) for name, seconds in timings.items()},
        export_path=export_path,
    )


def export_interventions(con: duckdb.DuckDBPyConnection, path: Path, as_of: dt.date, version: str) -> Path:
    """Write the run's interventions (this as_of_date and policy version, rejected ones left out) as a JSON
    array in the interventions feed's schema, so the next day's feed or another tool can read them. A rerun
    writes the same file. DuckDB writes it (COPY ... FORMAT json): no Python object per row."""
    shown = {
        "triggered_by_signals": "coalesce(triggered_by_signals, []::varchar[]) as triggered_by_signals",
        "generated_at": "strftime(generated_at, '%Y-%m-%d') as generated_at",
    }
    columns = ", ".join(shown.get(name, name) for name in FEED_COLUMNS)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    con.execute(
        f"copy (select {columns} from policy.interventions "
        f"where generated_at = {literal(as_of.isoformat())}::date "
        f"and policy_version = {literal(version)} and approval_status <> 'rejected' "
        f"order by intervention_id) to {literal(tmp)} (format json, array true)"
    )
    tmp.replace(path)
    return path
