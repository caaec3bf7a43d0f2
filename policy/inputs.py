"""Build the policy's decision input (:data:`policy.decide.DECISION_INPUT_SCHEMA`) with one DuckDB query.

One row per customer in ``marts.customer_risk_scores``, joined with ``marts.journey_states`` (stage, account
value, stalled), ``marts.customer_signals`` (evidence) and the customer's intervention history:

- ``signal_ids`` = ``customer_signals.active_negative_signal_ids``: the unresolved negative signals inside the
  window, i.e. the evidence behind the risk's signal pressure. They become ``triggered_by_signals``.
- ``has_incomplete_data``: no journey row, a missing customer attribute (segment, account_value, tenure_months,
  risk_tier), an unknown days_in_state, or a signal of an unknown type (evidence that could not be read).
- history: interventions of the feed (``intermediate.int_interventions__checked``, orphans left out) and of the
  policy (``policy.interventions``, read directly so that approvals and runs since the last dbt build count); an
  intervention is open (pending) unless ``intermediate.int_outcomes__recorded`` lists it. Left out: rejected
  policy interventions (they never happen), interventions generated after as_of_date, and the policy's own
  interventions of the same as_of_date and policy_version, so a rerun of the day sees the history the first run
  saw and decides the same way. ``open_intervention_count`` counts the open ones, ``last_intervention_at`` is
  the latest generated_at (open or closed), ``interventions_last_30d`` counts as_of_date - generated_at < 30.

Every relation read here is built before the policy: none depends on its write-back (``marts.intervention_outcomes``,
which holds the policy's interventions, is built after it), so `journey run` builds each model once.

The query reads the marts as dbt built them for one as_of_date (``marts.customer_risk_scores.as_of_date``);
:func:`marts_as_of_date` returns it, and the policy refuses another date rather than mixing days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import asdict, dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from policy.db import relation_exists
from policy.decide import prepare_input

__all__ = [
    "DUCKDB_INPUTS",
    "INPUTS_SQL",
    "InputsDialect",
    "MissingMartsError",
    "input_batches",
    "inputs_sql",
    "load_inputs",
    "marts_as_of_date",
]

# schema.table of every relation the input query reads (policy.interventions is optional: a first run has none)
REQUIRED_RELATIONS = (
    "marts.customer_risk_scores",
    "marts.journey_states",
    "marts.customer_signals",
    "intermediate.int_interventions__checked",
    "intermediate.int_outcomes__recorded",
)


class MissingMartsError(RuntimeError):
    """The database lacks a mart the policy reads, or the marts are empty."""


_POLICY_HISTORY = """
    union all

    select
        policy_rows.customer_id,
        policy_rows.generated_at,
        recorded.intervention_id is null as is_pending
    from policy.interventions as policy_rows
    left join intermediate.int_outcomes__recorded as recorded
        on policy_rows.intervention_id = recorded.intervention_id
    where coalesce(policy_rows.approval_status, '') <> 'rejected'
        and policy_rows.generated_at <= {as_of}
        and not (policy_rows.generated_at = {as_of} and policy_rows.policy_version = {version})
"""

INPUTS_SQL = """
with

history_rows as (
    select
        feed_rows.customer_id,
        feed_rows.generated_at,
        recorded.intervention_id is null as is_pending
    from intermediate.int_interventions__checked as feed_rows
    left join intermediate.int_outcomes__recorded as recorded
        on feed_rows.intervention_id = recorded.intervention_id
    where not feed_rows.is_orphan
        and feed_rows.generated_at <= {as_of}
    {policy_history}
),

history as (
    select
        customer_id,
        count(*) filter (where is_pending) as open_intervention_count,
        max(generated_at) as last_intervention_at,
        count(*) filter (where {days_since_generated} < 30) as interventions_last_30d
    from history_rows
    group by customer_id
)

select
    risk.customer_id,
    risk.as_of_date,
    states.segment,
    cast(states.account_value as double) as account_value,
    states.journey_stage,
    states.is_stalled,
    risk.risk_score,
    risk.risk_band,
    risk.is_high_value,
    coalesce(signals.active_negative_signal_ids, {empty_list}) as signal_ids,
    cast(coalesce(signals.negative_signal_count, 0) as bigint) as negative_signal_count,
    cast(coalesce(signals.positive_signal_count, 0) as bigint) as positive_signal_count,
    coalesce(signals.negative_pressure, {zero}) as negative_pressure,
    coalesce(signals.positive_pressure, {zero}) as positive_pressure,
    signals.max_signal_strength,
    signals.has_conflicting_signals,
    signals.automated_signal_share,
    (
        states.customer_id is null
        or not coalesce(states.has_journey_row, false)
        or states.segment is null
        or states.account_value is null
        or states.tenure_months is null
        or states.risk_tier is null
        or states.days_in_state is null
        or coalesce(signals.unknown_type_signal_count, 0) > 0
    ) as has_incomplete_data,
    cast(coalesce(history.open_intervention_count, 0) as bigint) as open_intervention_count,
    history.last_intervention_at,
    cast(coalesce(history.interventions_last_30d, 0) as bigint) as interventions_last_30d
from marts.customer_risk_scores as risk
left join marts.journey_states as states
    on risk.customer_id = states.customer_id
left join marts.customer_signals as signals
    on risk.customer_id = signals.customer_id
left join history
    on risk.customer_id = history.customer_id
{order_by}
"""


@dataclass(frozen=True)
class InputsDialect:
    """The few SQL fragments in which DuckDB and Spark differ; :data:`INPUTS_SQL` is written once around them."""

    as_of: str
    version: str
    days_since_generated: str
    empty_list: str
    zero: str
    order_by: str


# DuckDB: bound parameters $as_of_date / $policy_version, date subtraction, a typed empty list.
DUCKDB_INPUTS = InputsDialect(
    as_of="$as_of_date",
    version="$policy_version",
    days_since_generated="$as_of_date - generated_at",
    empty_list="[]::varchar[]",
    zero="0.0",
    order_by="order by risk.customer_id",
)


def inputs_sql(dialect: InputsDialect, with_policy_history: bool) -> str:
    """The policy's input query in one dialect; with_policy_history adds the policy's own earlier interventions
    (only when policy.interventions exists)."""
    fragments = asdict(dialect)
    history = _POLICY_HISTORY.format(**fragments) if with_policy_history else ""
    return INPUTS_SQL.format(policy_history=history, **fragments)


def _check_marts(con: duckdb.DuckDBPyConnection) -> None:
    missing = [name for name in REQUIRED_RELATIONS if not relation_exists(con, *name.split("."))]
    if missing:
        raise MissingMartsError(
            f"the database has no {', '.join(missing)}: build it first (`journey run` or `dbt build`)"
        )


def marts_as_of_date(con: duckdb.DuckDBPyConnection) -> dt.date:
    """The as_of_date the risk mart was built for (one date per build)."""
    _check_marts(con)
    dates = con.execute("select distinct as_of_date from marts.customer_risk_scores").fetchall()
    if not dates:
        raise MissingMartsError("marts.customer_risk_scores is empty: there is nobody to decide about")
    if len(dates) > 1:  # pragma: no cover - the mart is built for one date
        raise MissingMartsError(
            f"marts.customer_risk_scores mixes as_of_dates: {sorted(d[0] for d in dates)}"
        )
    return dates[0][0]


def _query(con: duckdb.DuckDBPyConnection, as_of_date: dt.date, policy_version: str) -> tuple[str, dict]:
    _check_marts(con)
    has_policy = relation_exists(con, "policy", "interventions")
    params: dict[str, object] = {"as_of_date": as_of_date}
    if has_policy:
        params["policy_version"] = policy_version
    return inputs_sql(DUCKDB_INPUTS, with_policy_history=has_policy), params


def load_inputs(con: duckdb.DuckDBPyConnection, as_of_date: dt.date, policy_version: str) -> pa.Table:
    """The decision input for every customer of the risk mart, ordered by customer_id, in one table."""
    sql, params = _query(con, as_of_date, policy_version)
    return prepare_input(con.execute(sql, params).to_arrow_table())


def input_batches(
    con: duckdb.DuckDBPyConnection, as_of_date: dt.date, policy_version: str, batch_rows: int
) -> Iterator[pa.Table]:
    """The decision input in batches of at most ``batch_rows`` customers, ordered by customer_id.

    DuckDB streams the ordered result from its own cursor (it spills the sort to its temp directory when it
    must), so Python holds one batch at a time and ``con`` stays free for the write transaction. A customer_id
    repeated across two batches raises ``ValueError`` (within a batch the writer checks it).
    """
    if batch_rows < 1:
        raise ValueError(f"batch_rows must be at least 1, not {batch_rows}")
    # The query starts here, not at the first batch: it must see the tables as they are before the caller's
    # write transaction begins (that transaction creates policy.interventions on a first run).
    sql, params = _query(con, as_of_date, policy_version)
    cursor = con.cursor()
    try:
        reader = cursor.execute(sql, params).to_arrow_reader(batch_rows)
    except BaseException:
        cursor.close()
        raise
    return _checked_batches(reader, cursor)


def _checked_batches(reader: pa.RecordBatchReader, cursor: duckdb.DuckDBPyConnection) -> Iterator[pa.Table]:
    try:
        last: str | None = None
        for batch in reader:
            if batch.num_rows == 0:
                continue
            ids = batch.column("customer_id")
            first = ids[0].as_py()
            if last is not None and first is not None and first <= last:
                raise ValueError(f"customer_id {first!r} repeats or is out of order across input batches")
            last = pc.max(ids).as_py()
            yield prepare_input(pa.Table.from_batches([batch]))
    finally:
        cursor.close()
