"""The pure decision core of the policy layer: one decision per customer, computed column-wise on Arrow.

:func:`decide` takes a ``pyarrow.Table`` with the columns of :data:`DECISION_INPUT_SCHEMA` (one row per
customer, built from ``marts.customer_risk_scores`` joined with journey state, signals and intervention
history) and returns a table with the columns of :data:`DECISION_OUTPUT_SCHEMA`: exactly one row per input
row, in input order. It reads no files, no database and no clock; the same input and config always give the
same output. Every step is an Arrow compute kernel over whole columns (the hashes run in an in-memory
DuckDB, see :mod:`policy.hashing`), so a million customers take seconds.

Decision precedence (the first rule that applies wins):

1. ``skipped_bad_data`` -- the data-quality gate blocks the customer (``dq_blocked=True`` blocks everyone, a
   collection of customer ids blocks those), or the row cannot be decided: customer_id or as_of_date missing,
   risk_score missing or outside [0, 1], risk_band not a configured band, journey_stage unknown. Nothing else
   is computed for such rows (recommended_action and confidence are null).
2. ``holdout`` -- md5(customer_id + holdout salt) falls in the control share. ``is_holdout`` is set from the
   hash alone on every row, independently of risk, so the control group is comparable.
3. ``suppressed`` -- the customer has an open intervention (``open_intervention_count > 0``: no outcome yet),
   or ``interventions_last_30d`` has reached the 30-day cap. The design suppresses while an open intervention is
   inside the cooldown; an open one older than the cooldown suppresses too (the reason says it is past the
   cooldown and should be followed up), so a customer never has two open interventions at once. A closed
   intervention suppresses only through the 30-day cap.
4. ``monitor`` -- risk_band ranks below ``thresholds.act_min_band``; recommended_action is monitor_only.
5. ``act`` -- the catalog action for (journey_stage, risk_band); when confidence < ``confidence.floor`` it
   becomes monitor_only (still an ``act``: an intervention record that says "watch", like I008 in the sample).

``recommended_action`` is what the policy recommends for the customer's state (for holdout and suppressed
rows: what would have been done); it is carried out only when ``decision = 'act'``. ``would_be_decision`` is
the decision the customer would get outside the holdout (equal to ``decision`` for everyone else), so
treatment and control can be compared like for like. ``requires_human_approval`` and ``approval_reasons``
concern ``act`` rows only; the reasons are ``high_value_high_risk`` (account_value > 50,000 and risk_score >
0.7 by default), ``high_touch_action`` and ``low_confidence_high_value``. ``intervention_id`` is set on
``act`` rows only.

Null handling: null counts and pressures mean none; null booleans mean false, except
``has_conflicting_signals`` (derived from the counts) and ``has_incomplete_data`` (unknown counts as
incomplete); a null ``signal_ids`` is an empty list; a null ``account_value`` is 0; a null
``last_intervention_at`` means no intervention ever (outside any cooldown).

Inputs (:data:`DECISION_INPUT_SCHEMA`, the struct type declared for ``policy.decision_log.inputs`` in
``models/staging/_policy__sources.yml``) are built from the marts by :mod:`policy.inputs`; ``signal_ids`` there
are the customer's active (unresolved, in-window) negative signals, which become ``triggered_by_signals``.
"""

from __future__ import annotations

from collections.abc import Collection

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from policy.config import MONITOR_ONLY, PolicyConfig
from policy.duck import connection, query_arrow
from policy.hashing import row_hashes
from policy.tables import decision_inputs_schema, policy_table

__all__ = [
    "APPROVAL_REASONS",
    "DECISIONS",
    "DECISION_INPUT_SCHEMA",
    "DECISION_OUTPUT_SCHEMA",
    "RECORDED_BY_THE_WRITE_BACK",
    "compute_confidence",
    "decide",
    "prepare_input",
]

DECISIONS = ("act", "monitor", "suppressed", "holdout", "skipped_bad_data")
APPROVAL_REASONS = ("high_value_high_risk", "high_touch_action", "low_confidence_high_value")
_RULE_NAMES = ("high_value_high_risk", "high_touch", "low_confidence")  # SQL parameter names
_APPROVAL_TEXT = ("high value and high risk", "high-touch action", "low confidence on a high-value account")

_STRING_LIST = pa.list_(pa.string())

# One row per customer: the fields of policy.decision_log.inputs, declared (with their types) once in
# models/staging/_policy__sources.yml and read by policy.tables.
DECISION_INPUT_SCHEMA = decision_inputs_schema()

# One row per customer decided: the columns of policy.decision_log (declared once, with their types, in
# models/staging/_policy__sources.yml), less those the write-back records with each row (policy.writeback): the
# row's key, the run, the typed inputs and their hash, the data-quality gate. decide() never leaves the columns of
# _NEVER_NULL null.
RECORDED_BY_THE_WRITE_BACK = frozenset(
    {"decision_log_id", "run_id", "decided_at", "inputs", "inputs_hash", "dq_gate", "dq_gate_note"}
)
_NEVER_NULL = frozenset(
    {
        "decision",
        "would_be_decision",
        "requires_human_approval",
        "approval_reasons",
        "triggered_by_signals",
        "reason",
        "policy_version",
        "config_hash",
        "is_holdout",
    }
)
DECISION_OUTPUT_SCHEMA = policy_table("decision_log").arrow_schema(
    exclude=RECORDED_BY_THE_WRITE_BACK, not_null=_NEVER_NULL
)

Column = pa.ChunkedArray | pa.Array


def prepare_input(table: pa.Table) -> pa.Table:
    """Select the input columns in schema order and cast them to :data:`DECISION_INPUT_SCHEMA`.

    Extra columns are ignored; compatible types (int32 counts, decimal values, large strings, timestamps for
    dates) are cast. A missing column or an impossible cast raises ``ValueError`` naming the column.
    """
    missing = [name for name in DECISION_INPUT_SCHEMA.names if name not in table.column_names]
    if missing:
        raise ValueError(f"decision input is missing column(s): {', '.join(missing)}")
    columns = []
    for field in DECISION_INPUT_SCHEMA:
        column = table[field.name]
        if column.type != field.type:
            try:
                column = column.cast(field.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise ValueError(
                    f"decision input column {field.name!r}: cannot cast {column.type} to {field.type}: {exc}"
                ) from exc
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=DECISION_INPUT_SCHEMA).combine_chunks()


def compute_confidence(table: pa.Table, config: PolicyConfig) -> pa.ChunkedArray:
    """Confidence in [0, 1], rounded to 4 decimals, from the signal evidence (formula in policy.yml)."""
    model = config.confidence
    strength = _clip01(_number(table["max_signal_strength"], 0.0))
    negative = _clip_low0(_number(table["negative_pressure"], 0.0))
    positive = _clip_low0(_number(table["positive_pressure"], 0.0))
    total = pc.add(negative, positive)
    agreement = pc.if_else(
        pc.greater(total, 0.0),
        pc.max_element_wise(
            pc.divide(pc.subtract(negative, positive), pc.max_element_wise(total, 1e-12)), 0.0
        ),
        0.0,
    )
    evidence = pc.add(
        pc.multiply(strength, model.strength_weight), pc.multiply(agreement, model.agreement_weight)
    )
    share = _clip01(_number(table["automated_signal_share"], 1.0))
    trust = pc.add(
        pc.multiply(share, model.automated_source_weight),
        pc.multiply(pc.subtract(1.0, share), model.manual_source_weight),
    )
    conflict = _conflicting(table)
    incomplete = pc.fill_null(table["has_incomplete_data"], True)
    raw = pc.subtract(
        pc.subtract(
            pc.multiply(evidence, trust),
            pc.if_else(conflict, model.conflicting_signals_penalty, 0.0),
        ),
        pc.if_else(incomplete, model.incomplete_data_penalty, 0.0),
    )
    return pc.round(_clip01(raw), 4)


def decide(
    table: pa.Table,
    config: PolicyConfig,
    *,
    dq_blocked: bool | Collection[str] = False,
    dq_reason: str = "the last data-quality run had an error-severity failure",
) -> pa.Table:
    """Decide for every customer in ``table``; see the module docstring for the rules and their precedence.

    ``dq_blocked``: True blocks everyone (the last data-quality run had an error-severity failure); a
    collection of customer ids blocks only those. Blocked rows get ``skipped_bad_data`` with ``dq_reason``
    in their reason.
    """
    t = prepare_input(table)
    with connection() as con:
        return _decide(t, config, dq_blocked, dq_reason, con)


def _decide(
    t: pa.Table,
    config: PolicyConfig,
    dq_blocked: bool | Collection[str],
    dq_reason: str,
    con: duckdb.DuckDBPyConnection,
) -> pa.Table:
    n = t.num_rows
    approval = config.approval

    customer_id = t["customer_id"]
    as_of_date = t["as_of_date"]
    stage = t["journey_stage"]
    band = t["risk_band"]
    risk = t["risk_score"]
    account_value = _number(t["account_value"], 0.0)

    # 1. data quality: gate and undecidable rows
    if isinstance(dq_blocked, bool):
        gate = _const(dq_blocked, n, pa.bool_())
    elif isinstance(dq_blocked, str):
        raise TypeError("dq_blocked must be a bool or a collection of customer ids, not a single string")
    else:
        blocked_ids = pa.array(sorted(set(dq_blocked)), pa.string())
        gate = pc.fill_null(pc.is_in(customer_id, value_set=blocked_ids), False)
    no_customer = pc.is_null(customer_id)
    no_date = pc.is_null(as_of_date)
    bad_risk = pc.invert(
        pc.fill_null(pc.and_(pc.greater_equal(risk, 0.0), pc.less_equal(risk, 1.0)), False)
    )  # NaN compares false, so it is bad too
    band_rank = pc.index_in(band, value_set=pa.array(config.risk_bands, pa.string()))
    bad_band = pc.is_null(band_rank)
    stage_index = pc.index_in(stage, value_set=pa.array(config.stages, pa.string()))
    bad_stage = pc.is_null(stage_index)
    bad_row = _any(no_customer, no_date, bad_risk, bad_band, bad_stage)
    skipped = pc.or_(gate, bad_row)
    valid = pc.invert(skipped)

    # 2. holdout and ids (hash-based, independent of everything else)
    is_holdout, intervention_hash, decision_id = row_hashes(
        customer_id,
        as_of_date,
        policy_version=config.policy_version,
        holdout_salt=config.holdout.salt,
        holdout_share=config.holdout.share,
        con=con,
    )

    # 3. suppression
    open_count = pc.fill_null(t["open_intervention_count"], 0)
    has_open = pc.greater(open_count, 0)
    days_since = pc.subtract(_days(as_of_date), _days(t["last_intervention_at"]))
    # the cooldown only qualifies the reason: any open intervention suppresses, however old
    in_cooldown = pc.and_(has_open, pc.fill_null(pc.less(days_since, config.suppression.cooldown_days), True))
    last_30d = pc.fill_null(t["interventions_last_30d"], 0)
    capped = pc.greater_equal(last_30d, config.suppression.max_interventions_per_30_days)
    suppressed = _any(has_open, capped)

    # 4./5. monitor or act, action and confidence
    eligible = pc.fill_null(pc.greater_equal(band_rank, config.act_min_rank), False)
    confidence = compute_confidence(t, config)
    low_confidence = pc.less(confidence, config.confidence.floor)
    catalog_actions = pa.array([config.catalog[s][b] for s in config.stages for b in config.risk_bands])
    catalog_action = pc.take(
        catalog_actions, pc.add(pc.multiply(stage_index, len(config.risk_bands)), band_rank)
    )  # null for undecidable rows
    acting_action = pc.if_else(low_confidence, MONITOR_ONLY, catalog_action)
    recommended_action = _mask(valid, pc.if_else(eligible, acting_action, MONITOR_ONLY))

    would_be = pc.if_else(
        skipped,
        "skipped_bad_data",
        pc.if_else(suppressed, "suppressed", pc.if_else(eligible, "act", "monitor")),
    )
    decision = pc.if_else(skipped, "skipped_bad_data", pc.if_else(is_holdout, "holdout", would_be))
    is_act = pc.equal(decision, "act")

    # approval (act rows only)
    high_value = pc.or_(
        pc.fill_null(t["is_high_value"], False), pc.greater(account_value, approval.high_value_account_value)
    )
    rule_high_value_high_risk = pc.and_(
        is_act,
        pc.and_(
            pc.greater(account_value, approval.high_value_account_value),
            pc.fill_null(pc.greater(risk, approval.high_risk_score), False),
        ),
    )
    if approval.high_touch_actions_require_approval:
        high_touch = pc.is_in(recommended_action, value_set=pa.array(config.high_touch_actions, pa.string()))
        rule_high_touch = pc.and_(is_act, pc.fill_null(high_touch, False))
    else:
        rule_high_touch = _const(False, n, pa.bool_())
    rule_low_confidence = pc.and_(
        is_act, pc.and_(high_value, pc.less(confidence, approval.low_confidence_below))
    )
    rules = (rule_high_value_high_risk, rule_high_touch, rule_low_confidence)
    rules = tuple(pc.fill_null(rule, False) for rule in rules)
    requires_approval = _any(*rules)

    # reason
    reason, approval_reasons = _render(
        {
            "decision": decision,
            "would_be_decision": would_be,
            "is_valid": valid,
            "gate": gate,
            "no_customer": no_customer,
            "no_date": no_date,
            "bad_risk": bad_risk,
            "bad_band": bad_band,
            "bad_stage": bad_stage,
            "has_open": has_open,
            "open_intervention_count": open_count,
            "in_cooldown": in_cooldown,
            "capped": capped,
            "last_intervention_at": t["last_intervention_at"],
            "interventions_last_30d": last_30d,
            "risk_score": risk,
            "risk_band": band,
            "journey_stage": stage,
            "is_stalled": pc.fill_null(t["is_stalled"], False),
            "negative_signals": pc.fill_null(t["negative_signal_count"], 0),
            "positive_signals": pc.fill_null(t["positive_signal_count"], 0),
            "is_conflicting": pc.fill_null(_conflicting(t), False),
            "signal_id_count": pc.fill_null(pc.list_value_length(t["signal_ids"]), 0),
            "is_incomplete": pc.fill_null(t["has_incomplete_data"], True),
            "is_eligible": eligible,
            "confidence": confidence,
            "is_low_confidence": low_confidence,
            "acting_action": acting_action,
            "rule_high_value_high_risk": rules[0],
            "rule_high_touch": rules[1],
            "rule_low_confidence": rules[2],
        },
        config,
        dq_reason,
        con,
    )

    signals = pc.fill_null(t["signal_ids"], pa.scalar([], _STRING_LIST))
    columns = {
        "customer_id": customer_id,
        "as_of_date": as_of_date,
        "decision": decision,
        "would_be_decision": would_be,
        "recommended_action": recommended_action,
        "confidence": _mask(valid, confidence),
        "requires_human_approval": requires_approval,
        "approval_reasons": approval_reasons,
        "triggered_by_signals": signals,
        "reason": reason,
        "intervention_id": _mask(is_act, intervention_hash),
        "decision_id": decision_id,
        "policy_version": _const(config.policy_version, n, pa.string()),
        "config_hash": _const(config.config_hash, n, pa.string()),
        "is_holdout": is_holdout,
    }
    return pa.Table.from_arrays(
        [_as_chunked(columns[f.name], f.type) for f in DECISION_OUTPUT_SCHEMA], schema=DECISION_OUTPUT_SCHEMA
    )


# --- reason text


_REASON_SQL = """
with parts as (
    select
        *,
        nullif(concat_ws(', ',
            case when has_open then concat(
                open_intervention_count::varchar, ' open intervention',
                case when open_intervention_count <> 1 then 's' end, ' (no outcome yet)'
            ) end,
            case
                when last_intervention_at is null then null
                when in_cooldown then concat(
                    'latest intervention from ', last_intervention_at::varchar, $cooldown_text
                )
                when has_open then concat(
                    'latest intervention from ', last_intervention_at::varchar, $past_cooldown_text
                )
            end,
            case when capped then concat('30-day cap reached (', interventions_last_30d::varchar, $cap_text) end
        ), '') as suppression_detail,
        nullif(concat_ws(', ',
            case when gate then $gate_text end,
            case when no_customer then 'missing customer_id' end,
            case when no_date then 'missing as_of_date' end,
            case when bad_risk then 'risk_score missing or outside [0, 1]' end,
            case when bad_band then 'unknown risk_band' end,
            case when bad_stage then 'unknown journey_stage' end
        ), '') as skip_detail,
        nullif(concat_ws(', ',
            case when negative_signals > 0 then concat(
                negative_signals::varchar, ' negative signal', case when negative_signals <> 1 then 's' end
            ) end,
            case when positive_signals > 0 then concat(
                positive_signals::varchar, ' positive signal', case when positive_signals <> 1 then 's' end
            ) end,
            case when is_conflicting then 'conflicting' end
        ), '') as signal_detail,
        nullif(concat_ws(', ',
            case when rule_high_value_high_risk then 'high value and high risk' end,
            case when rule_high_touch then 'high-touch action' end,
            case when rule_low_confidence then 'low confidence on a high-value account' end
        ), '') as approval_detail
    from input_rows
)

select
    concat_ws('; ',
        case decision
            when 'skipped_bad_data' then concat('skipped_bad_data: ', skip_detail)
            when 'holdout' then concat(
                $holdout_text,
                would_be_decision,
                case when would_be_decision = 'suppressed' then concat(' (', suppression_detail, ')') end
            )
            when 'suppressed' then concat('suppressed: ', suppression_detail)
        end,
        case when is_valid then concat(
            'risk ', risk_score::decimal(5, 2)::varchar, ' (', risk_band, ') in ', journey_stage,
            case when is_stalled then ', stalled' end
        ) end,
        case when is_valid then coalesce(
            signal_detail, case when signal_id_count > 0 then 'no scored signals' else 'no signals' end
        ) end,
        case when is_valid and is_incomplete then 'incomplete data' end,
        case when is_valid and is_eligible then concat(
            'confidence ', confidence::decimal(5, 2)::varchar,
            case when is_low_confidence then $floor_text end,
            ' -> ', acting_action
        ) when is_valid then $below_threshold_text end,
        case when decision = 'act' then coalesce('approval: ' || approval_detail, 'no approval needed') end
    ) as reason,
    list_filter(
        [
            case when rule_high_value_high_risk then $code_high_value_high_risk end,
            case when rule_high_touch then $code_high_touch end,
            case when rule_low_confidence then $code_low_confidence end
        ],
        code -> code is not null
    ) as approval_reasons
from parts
"""


def _render(
    columns: dict[str, Column], config: PolicyConfig, dq_reason: str, con: duckdb.DuckDBPyConnection
) -> tuple[pa.ChunkedArray, pa.ChunkedArray]:
    """(reason, approval_reasons) per row from the already decided columns.

    reason is human-readable, e.g. 'risk 0.78 (critical) in onboarding, stalled; 2 negative signals; ...'.
    Text assembly from many optional parts is slow in Arrow's single-threaded string kernels, so it runs as
    one DuckDB projection (``concat_ws`` skips the parts that do not apply; ``list_filter`` builds the lists).
    """
    table = pa.table({name: _as_chunked(values, values.type) for name, values in columns.items()})
    params = {
        "cooldown_text": f" inside the {config.suppression.cooldown_days}-day cooldown",
        "past_cooldown_text": f", past the {config.suppression.cooldown_days}-day cooldown: follow up the open one",
        "cap_text": f" of {config.suppression.max_interventions_per_30_days})",
        "gate_text": f"data-quality gate: {dq_reason}",
        "holdout_text": f"holdout: control group ({config.holdout.share:.0%} share), no action; would be ",
        "floor_text": f" < floor {config.confidence.floor:.2f}",
        "below_threshold_text": f"band below act threshold ({config.act_min_band}) -> {MONITOR_ONLY}",
    }
    params.update(
        {f"code_{name}": code for name, code in zip(_RULE_NAMES, APPROVAL_REASONS, strict=True)},
    )
    result = query_arrow(_REASON_SQL, table, params, con)
    return result["reason"], result["approval_reasons"]


# --- helpers


def _const(value: object, n: int, type_: pa.DataType) -> pa.Array:
    return pa.repeat(pa.scalar(value, type_), n)


def _mask(condition: Column, values: Column) -> Column:
    """values where condition is true, null elsewhere (a null condition gives null)."""
    return pc.if_else(condition, values, pa.scalar(None, values.type))


def _any(*flags: Column) -> Column:
    out = flags[0]
    for flag in flags[1:]:
        out = pc.or_(out, flag)
    return out


def _number(values: Column, default: float) -> Column:
    """Null and NaN replaced by default."""
    return pc.if_else(pc.fill_null(pc.is_nan(values), True), default, values)


def _clip01(values: Column) -> Column:
    return pc.min_element_wise(pc.max_element_wise(values, 0.0), 1.0)


def _clip_low0(values: Column) -> Column:
    return pc.max_element_wise(values, 0.0)


def _days(dates: Column) -> Column:
    return pc.cast(dates, pa.int32())


def _conflicting(t: pa.Table) -> Column:
    derived = pc.and_(
        pc.greater(pc.fill_null(t["negative_signal_count"], 0), 0),
        pc.greater(pc.fill_null(t["positive_signal_count"], 0), 0),
    )
    return pc.coalesce(t["has_conflicting_signals"], derived)


def _as_chunked(values: Column | pa.Scalar, type_: pa.DataType) -> pa.ChunkedArray:
    chunked = values if isinstance(values, pa.ChunkedArray) else pa.chunked_array([values], type=values.type)
    if chunked.type != type_:
        chunked = chunked.cast(type_)
    return chunked
