"""The suites, declared as data: suite name -> expectation specs.

Adding a suite or an expectation is adding entries here (and its severity in ``severity.yml``);
``gx_build.py`` turns the specs into Great Expectations objects. Each spec names:

- ``id``: unique across all suites; the name in every report and in ``severity.yml``;
- ``table``: the ``schema.table`` the expectation runs on (a GE table asset; ``{batch}`` in queries);
- ``kind``: a short name from ``KINDS`` below, or any ``great_expectations.expectations`` class name;
- ``kwargs``: the expectation's arguments (for ``rows``: ``query``, SQL with ``{batch}`` and
  ``$param`` placeholders filled from ``severity.yml``'s ``params``);
- ``key``: the columns that name an offending row in the reports (``S009``, ``C001/2025-01-01``);
- ``label``: for ``rows`` kinds, how to describe one offending row
  (``{signal_id} → customer {customer_id}``);
- ``reads``: other tables a ``rows`` query reads. An expectation whose tables do not exist yet, or
  whose ``$param`` is not configured (the policy thresholds come from ``policy/policy.yml``), is
  skipped with a note; a suite with nothing left to run is reported as skipped.

A suite may be ``informational``: its findings are operational flags (stalled customers), not data
defects. They keep their severity from ``severity.yml`` but every report lists them apart from the
data-quality findings and counts them separately.

Only cross-table and business rules live here (orphans, transitions, outcomes, accounting, contributions, the
policy guardrails, date order across tables), plus the staged feeds' columns (staging has no dbt contract),
the non-empty customers feed and the unknown-signal-type warning. Per-table rules (keys, not null, accepted
values, ranges) are dbt data tests or staging's record-level rejects: no rule is in both homes
(``tests/test_rule_homes.py``; the table of every rule is ``docs/rules.md``).

The checks run in DuckDB through SQL; literal braces in queries must be doubled (``{{``), as GE
formats them with ``str.format``.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from journey.feeds import feed_specs

KINDS: Mapping[str, str] = {
    "columns": "ExpectTableColumnsToMatchSet",
    "row_count": "ExpectTableRowCountToBeBetween",
    "not_null": "ExpectColumnValuesToNotBeNull",
    "unique": "ExpectColumnValuesToBeUnique",
    "compound_unique": "ExpectCompoundColumnsToBeUnique",
    "between": "ExpectColumnValuesToBeBetween",
    "in_set": "ExpectColumnValuesToBeInSet",
    "rows": "UnexpectedRowsExpectation",
}
TABLE_KINDS = frozenset({"columns", "row_count"})


def _bound(value: Any, unbounded: str) -> str:
    return unbounded if value is None else str(value)


@dataclass(frozen=True)
class ExpectationSpec:
    id: str
    table: str
    kind: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    key: tuple[str, ...] = ()
    label: str | None = None
    reads: tuple[str, ...] = ()
    description: str = ""

    @property
    def tables(self) -> tuple[str, ...]:
        return (self.table, *self.reads)

    @property
    def text(self) -> str:
        """A one-line description for reports: the declared one, or one derived from kind and kwargs."""
        if self.description:
            return self.description
        args = self.kwargs
        column = args.get("column", "")
        low, high = _bound(args.get("min_value"), "-inf"), _bound(args.get("max_value"), "inf")
        derived = {
            "columns": f"has columns {', '.join(args.get('column_set', []))}",
            "row_count": f"at least {args.get('min_value')} row(s)",
            "not_null": f"{column} is never null",
            "unique": f"{column} is unique",
            "compound_unique": f"({', '.join(args.get('column_list', []))}) is unique",
            "between": f"{column} in [{low}, {high}]",
            "in_set": f"{column} in {{{', '.join(args.get('value_set', []))}}}",
        }
        return derived.get(self.kind, self.kind)


@dataclass(frozen=True)
class SuiteSpec:
    name: str
    description: str
    expectations: Sequence[ExpectationSpec]
    informational: bool = False

    @property
    def tables(self) -> tuple[str, ...]:
        """Every table the suite needs, in first-use order."""
        return tuple(dict.fromkeys(t for spec in self.expectations for t in spec.tables))


REFERENCE_DIR = Path(__file__).resolve().parents[1] / "seeds"


def reference_values(seed: str, column: str) -> tuple[str, ...]:
    """The accepted values of an enum, from the same reference CSV the dbt project seeds (never copied here)."""
    with (REFERENCE_DIR / f"{seed}.csv").open(newline="", encoding="utf-8") as handle:
        return tuple(row[column] for row in csv.DictReader(handle))


STAGES = reference_values("ref_stage_slas", "journey_stage")
ACTIONS = reference_values("ref_actions", "recommended_action")
OUTCOMES = reference_values("ref_outcome_types", "outcome")
SIGNAL_TYPES = reference_values("ref_signal_types", "signal_type")
SEGMENTS = reference_values("ref_segments", "segment")
RISK_TIERS = reference_values("ref_risk_tiers", "risk_tier")
SIGNAL_SOURCES = reference_values("ref_signal_sources", "source")

CUSTOMERS = "staging.stg_customers"
STATE_LOG = "staging.stg_journey_state_log"
SIGNALS = "staging.stg_signals"
INTERVENTIONS = "staging.stg_interventions"
OUTCOMES_TABLE = "staging.stg_outcomes"
STAGED = {
    "customers": CUSTOMERS,
    "journey_state_log": STATE_LOG,
    "signals": SIGNALS,
    "interventions": INTERVENTIONS,
    "outcomes": OUTCOMES_TABLE,
}
FEED_ACCOUNTING = "quality.feed_accounting"
REJECTED_ROWS = "quality.rejected_rows"
ORPHAN_RECORDS = "quality.orphan_records"
INVALID_TRANSITIONS = "quality.invalid_transitions"
MISSING_OUTCOMES = "quality.missing_outcomes"
INTERVENTION_OUTCOMES = "marts.intervention_outcomes"
JOURNEY_STATES = "marts.journey_states"
RISK_SCORES = "marts.customer_risk_scores"
RISK_HISTORY = "marts.customer_risk_history"
POLICY_INTERVENTIONS = "policy.interventions"
# What the policy counts as a customer's earlier interventions and their outcomes (policy/inputs.py): the feed's
# interventions less the orphans, closed by an outcome recorded by as_of_date.
CHECKED_INTERVENTIONS = "intermediate.int_interventions__checked"
RECORDED_OUTCOMES = "intermediate.int_outcomes__recorded"

# The risk factors: each has a <factor>_factor in [0, 1] and a <factor>_contribution column.
RISK_FACTORS = (
    "signal_pressure",
    "time_in_state_friction",
    "invalid_transition",
    "early_tenure",
    "prior_risk_tier",
    "stage_risk",
)
# Where an orphan can come from (quality.orphan_records.source) -> expectation id.
ORPHAN_SOURCES = {
    "journey_state_log": "orphan_journey_rows",
    "signals": "orphan_signals",
    "interventions": "orphan_interventions",
    "outcomes": "orphan_outcomes",
}


def _spec(id: str, table: str, kind: str, key: Sequence[str] = (), **kwargs: Any) -> ExpectationSpec:
    return ExpectationSpec(id=id, table=table, kind=kind, kwargs=kwargs, key=tuple(key))


def columns(id: str, table: str, *names: str) -> ExpectationSpec:
    return _spec(id, table, "columns", column_set=list(names), exact_match=False)


def not_null(id: str, table: str, column: str, key: Sequence[str]) -> ExpectationSpec:
    return _spec(id, table, "not_null", key, column=column)


def unique(id: str, table: str, column: str) -> ExpectationSpec:
    return _spec(id, table, "unique", (column,), column=column)


def between(
    id: str, table: str, column: str, key: Sequence[str], low: float | None, high: float | None
) -> ExpectationSpec:
    return _spec(id, table, "between", key, column=column, min_value=low, max_value=high)


def in_set(id: str, table: str, column: str, key: Sequence[str], values: Sequence[str]) -> ExpectationSpec:
    return _spec(id, table, "in_set", key, column=column, value_set=list(values))


def rows(
    id: str, table: str, query: str, key: Sequence[str], label: str, reads: Sequence[str], description: str
) -> ExpectationSpec:
    return ExpectationSpec(
        id=id,
        table=table,
        kind="rows",
        kwargs={"query": query},
        key=tuple(key),
        label=label,
        reads=tuple(reads),
        description=description,
    )


INPUTS = SuiteSpec(
    name="inputs",
    description=(
        "Staged feeds: the columns each staged feed must have, a non-empty customers feed, unknown signal types, "
        "date order across feeds, and the accounting of every input record. (Keys, required fields, ranges and "
        "accepted values of a staged feed are staging's record-level rejects and dbt data tests.)"
    ),
    expectations=(
        # the columns each staged feed must have: the feed schema (dbt_project.yml var `feeds`)
        *(
            columns(f"{feed}_columns", f"staging.stg_{feed}", *spec.field_names)
            for feed, spec in feed_specs().items()
        ),
        _spec("customers_not_empty", CUSTOMERS, "row_count", min_value=1),
        in_set("signals_type_known", SIGNALS, "signal_type", ("signal_id",), SIGNAL_TYPES),
        rows(
            "signals_detected_before_citing_intervention",
            INTERVENTIONS,
            f"""
            with cited as (
                select intervention_id, generated_at, unnest(triggered_by_signals) as signal_id
                from {{batch}}
            )
            select cited.intervention_id, cited.signal_id, signals.detected_at, cited.generated_at
            from cited
            inner join {SIGNALS} as signals on signals.signal_id = cited.signal_id
            where signals.detected_at > cited.generated_at
            order by intervention_id, signal_id
            """,
            key=("intervention_id", "signal_id"),
            label="{intervention_id} cites {signal_id} (detected {detected_at} > generated {generated_at})",
            reads=(SIGNALS,),
            description="A signal an intervention cites must be detected on or before the intervention.",
        ),
        rows(
            "feed_accounting_balances",
            FEED_ACCOUNTING,
            "with\n"
            + ",\n".join(
                f"{feed} as (select '{feed}' as source, count(*) as staged_rows from {table})"
                for feed, table in STAGED.items()
            )
            + ",\n"
            + "staged as ("
            + " union all ".join(f"select * from {feed}" for feed in STAGED)
            + ")"
            + f"""
            ,
            accounting as (select * from {{batch}}),
            rejected as (
                select source, count(*) as rejected_rows from {REJECTED_ROWS} group by source
            ),
            compared as (
                select
                    coalesce(accounting.source, staged.source) as source,
                    accounting.input_records,
                    accounting.staged_records,
                    coalesce(staged.staged_rows, 0) as staged_rows,
                    coalesce(rejected.rejected_rows, 0) as rejected_rows,
                    accounting.collapsed_duplicates
                from accounting
                full outer join staged on staged.source = accounting.source
                left join rejected on rejected.source = coalesce(accounting.source, staged.source)
            )
            select
                source,
                input_records,
                staged_rows,
                rejected_rows,
                collapsed_duplicates,
                case
                    when input_records is null
                        then 'no row in quality.feed_accounting (' || staged_rows || ' staged)'
                    when input_records
                        <> staged_rows + rejected_rows + coalesce(collapsed_duplicates, 0)
                        then input_records || ' input ≠ ' || staged_rows || ' staged + '
                        || rejected_rows || ' rejected + ' || coalesce(collapsed_duplicates, 0) || ' collapsed'
                    else 'staged_records ' || staged_records || ' ≠ ' || staged_rows || ' rows staged'
                end as problem
            from compared
            where input_records is null
                or input_records is distinct from staged_rows + rejected_rows + coalesce(collapsed_duplicates, 0)
                or staged_records is distinct from staged_rows
            order by source
            """,
            key=("source",),
            label="{source}: {problem}",
            reads=(*STAGED.values(), REJECTED_ROWS),
            description=(
                "Nothing is lost: per feed, input records = rows in stg_<feed> + rows in "
                "quality.rejected_rows + collapsed exact duplicates (quality.feed_accounting)."
            ),
        ),
    ),
)

ORPHANS = SuiteSpec(
    name="orphans",
    description=(
        "Records that reference an unknown customer, signal or intervention, as listed in "
        "quality.orphan_records (quarantined out of the marts, reported)."
    ),
    expectations=tuple(
        rows(
            expectation_id,
            ORPHAN_RECORDS,
            f"""
            with orphans as (select * from {{batch}})
            select
                orphans.record_key,
                orphans.customer_id,
                replace(orphans.missing_reference, '_id', '') as reference,
                orphans.missing_key
            from orphans
            where orphans.source = '{source}'
            order by record_key, missing_key
            """,
            key=("record_key",),
            label="{record_key} → {reference} {missing_key}",
            reads=(),
            description=f"Orphan {source} records: they reference an unknown customer, signal or intervention.",
        )
        for source, expectation_id in ORPHAN_SOURCES.items()
    ),
)

JOURNEY = SuiteSpec(
    name="journey",
    description="Journey paths the journey map does not allow, and customers without a journey.",
    expectations=(
        rows(
            "invalid_transitions",
            INVALID_TRANSITIONS,
            """
            with transitions as (select * from {batch})
            select customer_id, from_stage, to_stage, transitioned_at, is_current
            from transitions
            order by customer_id, transitioned_at
            """,
            key=("customer_id",),
            label="{customer_id}: {from_stage} → {to_stage} on {transitioned_at}",
            reads=(),
            description="Transitions not in the journey map (seeds/ref_journey_transitions.csv).",
        ),
        rows(
            "customers_without_journey_row",
            JOURNEY_STATES,
            """
            with states as (select * from {batch})
            select customer_id, segment
            from states
            where not has_journey_row
            order by customer_id
            """,
            key=("customer_id",),
            label="{customer_id} ({segment}): no journey_state_log row",
            reads=(),
            description="Known customers with no row in the journey state log (no current stage).",
        ),
    ),
)

JOURNEY_SLA = SuiteSpec(
    name="journey_sla",
    description=(
        "Informational, not a data defect: customers past their stage SLA (seeds/ref_stage_slas.csv). "
        "The sample's stalled customers (C001, C004, C006, C007) are intended: they feed time-in-state risk."
    ),
    informational=True,
    expectations=(
        rows(
            "stalled_customers",
            JOURNEY_STATES,
            """
            with states as (select * from {batch})
            select customer_id, journey_stage, days_in_state, stage_sla_days
            from states
            where is_stalled
            order by customer_id
            """,
            key=("customer_id",),
            label="{customer_id}: {days_in_state} days in {journey_stage} > SLA {stage_sla_days}",
            reads=(),
            description="Customers whose days_in_state is past their stage's SLA (is_stalled).",
        ),
    ),
)

OUTCOMES = SuiteSpec(
    name="outcomes",
    description="Interventions without an outcome (pending, overdue) and outcomes that contradict their intervention.",
    expectations=(
        rows(
            "missing_outcomes",
            MISSING_OUTCOMES,
            """
            with missing as (select * from {batch})
            select intervention_id, customer_id, generated_at, age_days, outcome_overdue_days
            from missing
            where not is_overdue
            order by intervention_id
            """,
            key=("intervention_id",),
            label="{intervention_id} (customer {customer_id}, {age_days} of {outcome_overdue_days} days)",
            reads=(),
            description="Interventions with no outcome yet, still inside the outcome window (pending).",
        ),
        rows(
            "overdue_outcomes",
            MISSING_OUTCOMES,
            """
            with missing as (select * from {batch})
            select intervention_id, customer_id, generated_at, age_days, outcome_overdue_days
            from missing
            where is_overdue
            order by intervention_id
            """,
            key=("intervention_id",),
            label="{intervention_id} (customer {customer_id}, {age_days} days > {outcome_overdue_days})",
            reads=(),
            description=(
                "Interventions with no outcome past the outcome window "
                "(outcome_overdue_days in seeds/ref_kpi_parameters.csv)."
            ),
        ),
        rows(
            "overdue_outcomes_share",
            MISSING_OUTCOMES,
            f"""
            with
            missing as (select * from {{batch}}),
            interventions as (select count(*) as interventions from {INTERVENTION_OUTCOMES}),
            overdue as (select count(*) filter (where is_overdue) as overdue from missing),
            shares as (
                select
                    overdue.overdue,
                    interventions.interventions,
                    overdue.overdue / nullif(interventions.interventions, 0) as overdue_share
                from overdue
                cross join interventions
            )
            select overdue, interventions, round(overdue_share, 4) as overdue_share
            from shares
            where overdue_share > $overdue_outcomes_max_share
            """,
            key=("overdue_share",),
            label="{overdue} of {interventions} interventions overdue (share {overdue_share})",
            reads=(INTERVENTION_OUTCOMES,),
            description=(
                "The share of interventions with no outcome past the outcome window stays at or below "
                "overdue_outcomes_max_share (expectations/severity.yml): past it the outcome feed is broken, "
                "not merely late."
            ),
        ),
        rows(
            "outcomes_measured_after_intervention",
            OUTCOMES_TABLE,
            f"""
            with outcomes as (select * from {{batch}})
            select
                outcomes.outcome_id,
                outcomes.intervention_id,
                outcomes.measured_at,
                interventions.generated_at
            from outcomes
            inner join {INTERVENTIONS} as interventions
                on interventions.intervention_id = outcomes.intervention_id
            where outcomes.measured_at < interventions.generated_at
            order by outcome_id
            """,
            key=("outcome_id",),
            label="{outcome_id} of {intervention_id}: measured {measured_at} before generated {generated_at}",
            reads=(INTERVENTIONS,),
            description="An outcome cannot be measured before its intervention was generated.",
        ),
        rows(
            "outcomes_customer_mismatch",
            OUTCOMES_TABLE,
            f"""
            with outcomes as (select * from {{batch}})
            select
                outcomes.outcome_id,
                outcomes.customer_id,
                interventions.customer_id as intervention_customer_id
            from outcomes
            inner join {INTERVENTIONS} as interventions
                on interventions.intervention_id = outcomes.intervention_id
            where outcomes.customer_id is not null and outcomes.customer_id <> interventions.customer_id
            order by outcome_id
            """,
            key=("outcome_id",),
            label="{outcome_id}: customer {customer_id} ≠ intervention customer {intervention_customer_id}",
            reads=(INTERVENTIONS,),
            description="Outcomes whose customer differs from their intervention's customer.",
        ),
    ),
)


def _mart_name(table: str) -> str:
    return table.rpartition(".")[2]


def _contributions_sum(table: str) -> ExpectationSpec:
    total = " + ".join(f"{factor}_contribution" for factor in RISK_FACTORS)
    return rows(
        f"{_mart_name(table)}_contributions_sum_to_score",
        table,
        f"""
        with scores as (select * from {{batch}})
        select
            customer_id,
            as_of_date,
            risk_score,
            {total} as contributions_total
        from scores
        where risk_score is not null
            and (
                ({total}) is null
                or abs(risk_score - ({total})) > $contribution_sum_tolerance
            )
        order by customer_id, as_of_date
        """,
        key=("customer_id", "as_of_date") if table == RISK_HISTORY else ("customer_id",),
        label="{customer_id} on {as_of_date}: risk_score {risk_score} ≠ sum of contributions {contributions_total}",
        reads=(),
        description=(
            "risk_score equals the sum of its factor contributions "
            f"({', '.join(RISK_FACTORS)}) within contribution_sum_tolerance."
        ),
    )


MARTS = SuiteSpec(
    name="marts",
    description="The risk marts: factor contributions summing to the score. (Keys, not null and the [0, 1] "
    "ranges of the marts are dbt data tests.)",
    expectations=(
        _contributions_sum(RISK_SCORES),
        _contributions_sum(RISK_HISTORY),
    ),
)

# The risk score a policy intervention was decided on: the history row of its generated_at date,
# else the current score (joined on customer_id), with the customer's account_value.
_POLICY_CONTEXT = f"""
    policy_interventions as (select * from {{batch}}),
    context as (
        select
            policy_interventions.intervention_id,
            policy_interventions.customer_id,
            policy_interventions.recommended_action,
            policy_interventions.confidence,
            policy_interventions.requires_human_approval,
            states.account_value,
            coalesce(history.risk_score, scores.risk_score) as risk_score
        from policy_interventions
        left join {JOURNEY_STATES} as states on states.customer_id = policy_interventions.customer_id
        left join {RISK_SCORES} as scores on scores.customer_id = policy_interventions.customer_id
        left join {RISK_HISTORY} as history
            on history.customer_id = policy_interventions.customer_id
            and history.as_of_date = policy_interventions.generated_at
    )
"""

POLICY = SuiteSpec(
    name="policy",
    description=(
        "Guardrails on what the policy step wrote, with the thresholds of policy/policy.yml "
        "(skipped until policy.interventions exists)."
    ),
    expectations=(
        between(
            "policy_interventions_confidence_in_unit_interval",
            POLICY_INTERVENTIONS,
            "confidence",
            ("intervention_id",),
            0,
            1,
        ),
        rows(
            "policy_approval_required_high_value_high_risk",
            POLICY_INTERVENTIONS,
            f"""
            with {_POLICY_CONTEXT}
            select intervention_id, customer_id, account_value, risk_score
            from context
            where account_value > $policy_high_value_account_value
                and risk_score > $policy_high_risk_score
                and requires_human_approval is not true
            order by intervention_id
            """,
            key=("intervention_id",),
            label=(
                "{intervention_id} (customer {customer_id}): account_value {account_value}, "
                "risk_score {risk_score}, no human approval required"
            ),
            reads=(JOURNEY_STATES, RISK_SCORES, RISK_HISTORY),
            description=(
                "Human approval is required where account_value > approval.high_value_account_value and "
                "risk_score > approval.high_risk_score (policy/policy.yml)."
            ),
        ),
        rows(
            "policy_monitor_only_below_confidence_floor",
            POLICY_INTERVENTIONS,
            """
            with policy_interventions as (select * from {batch})
            select intervention_id, customer_id, confidence, recommended_action
            from policy_interventions
            where confidence < $policy_confidence_floor
                and recommended_action is distinct from 'monitor_only'
            order by intervention_id
            """,
            key=("intervention_id",),
            label="{intervention_id} (customer {customer_id}): confidence {confidence} but {recommended_action}",
            reads=(),
            description="Below confidence.floor (policy/policy.yml) the only action is monitor_only.",
        ),
        rows(
            "policy_no_second_open_intervention",
            POLICY_INTERVENTIONS,
            f"""
            with all_interventions as (
                select intervention_id, customer_id, generated_at from {CHECKED_INTERVENTIONS}
                where not is_orphan
                union all
                select intervention_id, customer_id, generated_at from {{batch}}
            ),
            open_interventions as (
                select all_interventions.intervention_id, all_interventions.customer_id, generated_at
                from all_interventions
                where all_interventions.intervention_id not in (
                    select intervention_id from {RECORDED_OUTCOMES}
                )
            ),
            clashes as (
                select later.customer_id, earlier.intervention_id as earlier_id, later.intervention_id as later_id
                from open_interventions as later
                inner join open_interventions as earlier
                    on earlier.customer_id = later.customer_id
                    and earlier.intervention_id <> later.intervention_id
                    and (
                        earlier.generated_at < later.generated_at
                        or (
                            earlier.generated_at = later.generated_at
                            and earlier.intervention_id < later.intervention_id
                        )
                    )
                    and date_diff('day', earlier.generated_at, later.generated_at) < $policy_cooldown_days
                -- the policy's intervention is the later one: a feed intervention that arrives after it is
                -- the source system's, not a second one the policy added
                where later.intervention_id in (select intervention_id from {{batch}})
            ),
            involved as (
                select customer_id, earlier_id as intervention_id from clashes
                union
                select customer_id, later_id as intervention_id from clashes
            )
            select
                customer_id,
                count(*) as open_count,
                string_agg(intervention_id, ', ' order by intervention_id) as intervention_ids
            from involved
            group by customer_id
            order by customer_id
            """,
            key=("customer_id",),
            label="{customer_id}: {open_count} open ({intervention_ids})",
            reads=(CHECKED_INTERVENTIONS, RECORDED_OUTCOMES),
            description=(
                "The policy may not add an open intervention (no outcome yet) for a customer who already has "
                "one generated less than suppression.cooldown_days (policy/policy.yml) earlier (orphan feed "
                "interventions do not count: they are excluded everywhere; a feed intervention generated after "
                "the policy's is not one the policy added)."
            ),
        ),
    ),
)

METRIC_ANOMALIES = "quality.dq_metric_anomalies"
SCHEMA_CHANGES = "quality.dq_schema_changes"

HISTORY = SuiteSpec(
    name="history",
    description=(
        "The run against the runs before it: feed completeness (the SLO), volume and drift metrics far from their "
        "trailing window, and columns that changed since the previous run date (docs/data-quality-history.md). "
        "Feed freshness is dbt's source freshness, recorded beside these in ops.check_history."
    ),
    expectations=(
        rows(
            "feed_completeness",
            FEED_ACCOUNTING,
            """
            with accounting as (select * from {batch})
            select source, staged_records, input_records, round(100 * completeness, 2) as completeness_pct
            from accounting
            where completeness < $completeness_min_share
            order by source
            """,
            key=("source",),
            label="{source}: {completeness_pct} % staged ({staged_records} of {input_records} records)",
            reads=(),
            description=(
                "The completeness SLO: staged records / input records of each feed (quality.feed_accounting) at "
                "least params.completeness_min_share (severity.yml)."
            ),
        ),
        rows(
            "metric_anomalies",
            METRIC_ANOMALIES,
            """
            with judged as (select * from {batch})
            select
                metric_key,
                round(metric_value, 4) as metric_value,
                round(baseline_median, 4) as baseline_median,
                baseline_runs,
                coalesce(cast(round(robust_z, 1) as varchar), 'no spread') as robust_z
            from judged
            where is_anomaly
            order by metric_key
            """,
            key=("metric_key",),
            label="{metric_key}: {metric_value} against a median of {baseline_median} over {baseline_runs} runs "
            "(z {robust_z})",
            reads=(),
            description=(
                "A volume or drift metric (quality.dq_metrics) far from its trailing window: the rule and its "
                "parameters are quality.dq_metric_anomalies' and seeds/ref_dq_monitor_parameters.csv's."
            ),
        ),
        rows(
            "schema_changes",
            SCHEMA_CHANGES,
            """
            with changes as (select * from {batch})
            select
                relation_name || '.' || column_name as changed_column,
                change_type,
                coalesce(previous_data_type, '-') as previous_data_type,
                coalesce(data_type, '-') as data_type,
                previous_as_of_date
            from changes
            order by relation_name, column_name
            """,
            key=("changed_column",),
            label="{changed_column}: {change_type} ({previous_data_type} → {data_type}) since {previous_as_of_date}",
            reads=(),
            description="Columns of the staged feeds and monitored marts added, removed or retyped since the "
            "previous run date (quality.dq_schema_changes).",
        ),
    ),
)

SUITES: Mapping[str, SuiteSpec] = {
    suite.name: suite for suite in (INPUTS, ORPHANS, JOURNEY, JOURNEY_SLA, OUTCOMES, MARTS, POLICY, HISTORY)
}


def declared_ids(suites: Mapping[str, SuiteSpec] = SUITES) -> dict[str, str]:
    """expectation id -> suite name; raises ValueError on a duplicate id or an unknown kind."""
    owner: dict[str, str] = {}
    for suite in suites.values():
        for spec in suite.expectations:
            if spec.id in owner:
                raise ValueError(
                    f"expectation id {spec.id!r} is declared in {owner[spec.id]} and {suite.name}"
                )
            owner[spec.id] = suite.name
    return owner
