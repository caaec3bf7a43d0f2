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
- ``reads``: other tables a ``rows`` query reads, so the suite is skipped when they do not exist yet.

The checks run in DuckDB through SQL; literal braces in queries must be doubled (``{{``), as GE
formats them with ``str.format``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

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

    @property
    def tables(self) -> tuple[str, ...]:
        """Every table the suite needs, in first-use order."""
        return tuple(dict.fromkeys(t for spec in self.expectations for t in spec.tables))


STAGES = ("onboarding", "engagement", "support", "retention", "escalation")
ACTIONS = (
    "onboarding_nudge_email",
    "onboarding_specialist_call",
    "proactive_outreach",
    "usage_review_checkin",
    "reengagement_campaign",
    "support_manager_followup",
    "renewal_health_check",
    "monitor_only",
)
OUTCOMES = ("resolved", "partial_improvement", "improved_engagement", "no_action_needed", "no_response")
SIGNAL_TYPES = (
    "support_ticket_spike",
    "negative_sentiment",
    "usage_drop",
    "repeat_support_tickets",
    "failed_onboarding_step",
    "support_satisfaction_low",
    "inactivity_warning",
    "low_product_usage",
    "positive_sentiment",
    "renewal_intent",
    "usage_recovery",
)

CUSTOMERS = "staging.stg_customers"
STATE_LOG = "staging.stg_journey_state_log"
SIGNALS = "staging.stg_signals"
INTERVENTIONS = "staging.stg_interventions"
OUTCOMES_TABLE = "staging.stg_outcomes"
POLICY_INTERVENTIONS = "policy.interventions"

STATE_KEY = ("customer_id", "state_entered_at")


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
    description="Staged feeds: schema, keys, value ranges, accepted values, date order.",
    expectations=(
        columns(
            "customers_columns",
            CUSTOMERS,
            "customer_id",
            "segment",
            "account_value",
            "tenure_months",
            "risk_tier",
        ),
        columns(
            "journey_state_log_columns",
            STATE_LOG,
            "customer_id",
            "journey_stage",
            "previous_stage",
            "state_entered_at",
            "days_in_state",
        ),
        columns(
            "signals_columns",
            SIGNALS,
            "signal_id",
            "customer_id",
            "signal_type",
            "signal_strength",
            "detected_at",
            "journey_stage",
            "source",
        ),
        columns(
            "interventions_columns",
            INTERVENTIONS,
            "intervention_id",
            "customer_id",
            "journey_stage",
            "recommended_action",
            "confidence",
            "requires_human_approval",
            "triggered_by_signals",
            "evaluation_latency_ms",
            "generated_at",
        ),
        columns(
            "outcomes_columns",
            OUTCOMES_TABLE,
            "outcome_id",
            "intervention_id",
            "customer_id",
            "outcome",
            "resolution_time_days",
            "csat_delta",
            "churn_risk_delta",
            "estimated_revenue_saved",
            "human_override",
            "measured_at",
        ),
        _spec("customers_not_empty", CUSTOMERS, "row_count", min_value=1),
        not_null("customers_id_not_null", CUSTOMERS, "customer_id", ("customer_id",)),
        unique("customers_id_unique", CUSTOMERS, "customer_id"),
        not_null("journey_state_log_customer_not_null", STATE_LOG, "customer_id", STATE_KEY),
        not_null("journey_state_log_entered_at_not_null", STATE_LOG, "state_entered_at", STATE_KEY),
        _spec(
            "journey_state_log_key_unique",
            STATE_LOG,
            "compound_unique",
            STATE_KEY,
            column_list=list(STATE_KEY),
        ),
        not_null("signals_id_not_null", SIGNALS, "signal_id", ("signal_id",)),
        unique("signals_id_unique", SIGNALS, "signal_id"),
        not_null("signals_customer_not_null", SIGNALS, "customer_id", ("signal_id",)),
        not_null("interventions_id_not_null", INTERVENTIONS, "intervention_id", ("intervention_id",)),
        unique("interventions_id_unique", INTERVENTIONS, "intervention_id"),
        not_null("interventions_customer_not_null", INTERVENTIONS, "customer_id", ("intervention_id",)),
        not_null("outcomes_id_not_null", OUTCOMES_TABLE, "outcome_id", ("outcome_id",)),
        unique("outcomes_id_unique", OUTCOMES_TABLE, "outcome_id"),
        not_null("outcomes_intervention_not_null", OUTCOMES_TABLE, "intervention_id", ("outcome_id",)),
        between(
            "customers_account_value_non_negative", CUSTOMERS, "account_value", ("customer_id",), 0, None
        ),
        between("customers_tenure_non_negative", CUSTOMERS, "tenure_months", ("customer_id",), 0, None),
        between(
            "journey_state_log_days_in_state_non_negative", STATE_LOG, "days_in_state", STATE_KEY, 0, None
        ),
        between("signals_strength_in_unit_interval", SIGNALS, "signal_strength", ("signal_id",), 0, 1),
        not_null("signals_detected_at_not_null", SIGNALS, "detected_at", ("signal_id",)),
        between(
            "interventions_confidence_in_unit_interval",
            INTERVENTIONS,
            "confidence",
            ("intervention_id",),
            0,
            1,
        ),
        between(
            "interventions_latency_non_negative",
            INTERVENTIONS,
            "evaluation_latency_ms",
            ("intervention_id",),
            0,
            None,
        ),
        not_null("interventions_generated_at_not_null", INTERVENTIONS, "generated_at", ("intervention_id",)),
        between(
            "outcomes_resolution_days_non_negative",
            OUTCOMES_TABLE,
            "resolution_time_days",
            ("outcome_id",),
            0,
            None,
        ),
        between(
            "outcomes_churn_risk_delta_in_range", OUTCOMES_TABLE, "churn_risk_delta", ("outcome_id",), -1, 1
        ),
        between(
            "outcomes_revenue_saved_non_negative",
            OUTCOMES_TABLE,
            "estimated_revenue_saved",
            ("outcome_id",),
            0,
            None,
        ),
        not_null("outcomes_measured_at_not_null", OUTCOMES_TABLE, "measured_at", ("outcome_id",)),
        in_set(
            "customers_segment_accepted",
            CUSTOMERS,
            "segment",
            ("customer_id",),
            ("smb", "mid-market", "enterprise"),
        ),
        in_set(
            "customers_risk_tier_accepted",
            CUSTOMERS,
            "risk_tier",
            ("customer_id",),
            ("low", "medium", "high"),
        ),
        in_set("journey_state_log_stage_accepted", STATE_LOG, "journey_stage", STATE_KEY, STAGES),
        in_set("journey_state_log_previous_stage_accepted", STATE_LOG, "previous_stage", STATE_KEY, STAGES),
        in_set("signals_source_accepted", SIGNALS, "source", ("signal_id",), ("automated", "manual")),
        in_set("signals_stage_accepted", SIGNALS, "journey_stage", ("signal_id",), STAGES),
        in_set("signals_type_known", SIGNALS, "signal_type", ("signal_id",), SIGNAL_TYPES),
        in_set(
            "interventions_action_accepted",
            INTERVENTIONS,
            "recommended_action",
            ("intervention_id",),
            ACTIONS,
        ),
        in_set("interventions_stage_accepted", INTERVENTIONS, "journey_stage", ("intervention_id",), STAGES),
        in_set("outcomes_outcome_accepted", OUTCOMES_TABLE, "outcome", ("outcome_id",), OUTCOMES),
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
    ),
)

ORPHANS = SuiteSpec(
    name="orphans",
    description="References to unknown customers, signals or interventions (quarantined, reported).",
    expectations=(
        rows(
            "orphan_signals",
            SIGNALS,
            f"""
            with signals as (select * from {{batch}})
            select signals.signal_id, signals.customer_id
            from signals
            where signals.customer_id is not null
                and signals.customer_id not in (
                    select customer_id from {CUSTOMERS} where customer_id is not null
                )
            order by signal_id
            """,
            key=("signal_id",),
            label="{signal_id} → customer {customer_id}",
            reads=(CUSTOMERS,),
            description="Signals whose customer is unknown.",
        ),
        rows(
            "orphan_interventions",
            INTERVENTIONS,
            f"""
            with interventions as (select * from {{batch}})
            select interventions.intervention_id, interventions.customer_id
            from interventions
            where interventions.customer_id is not null
                and interventions.customer_id not in (
                    select customer_id from {CUSTOMERS} where customer_id is not null
                )
            order by intervention_id
            """,
            key=("intervention_id",),
            label="{intervention_id} → customer {customer_id}",
            reads=(CUSTOMERS,),
            description="Interventions whose customer is unknown.",
        ),
        rows(
            "interventions_citing_unknown_signals",
            INTERVENTIONS,
            f"""
            with cited as (
                select intervention_id, unnest(triggered_by_signals) as signal_id from {{batch}}
            )
            select cited.intervention_id, cited.signal_id
            from cited
            where cited.signal_id not in (select signal_id from {SIGNALS} where signal_id is not null)
            order by intervention_id, signal_id
            """,
            key=("intervention_id", "signal_id"),
            label="{intervention_id} → signal {signal_id}",
            reads=(SIGNALS,),
            description="Interventions that cite a signal that is not in the signals feed.",
        ),
        rows(
            "orphan_outcomes",
            OUTCOMES_TABLE,
            f"""
            with outcomes as (select * from {{batch}})
            select outcomes.outcome_id, outcomes.intervention_id
            from outcomes
            where outcomes.intervention_id is not null
                and outcomes.intervention_id not in (
                    select intervention_id from {INTERVENTIONS} where intervention_id is not null
                )
            order by outcome_id
            """,
            key=("outcome_id",),
            label="{outcome_id} → intervention {intervention_id}",
            reads=(INTERVENTIONS,),
            description="Outcomes whose intervention is unknown.",
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

POLICY = SuiteSpec(
    name="policy",
    description="Guardrails on what the policy step wrote (skipped until it has run once).",
    expectations=(
        unique("policy_interventions_id_unique", POLICY_INTERVENTIONS, "intervention_id"),
        between(
            "policy_interventions_confidence_in_unit_interval",
            POLICY_INTERVENTIONS,
            "confidence",
            ("intervention_id",),
            0,
            1,
        ),
        rows(
            "policy_no_second_open_intervention",
            POLICY_INTERVENTIONS,
            f"""
            with all_interventions as (
                select intervention_id, customer_id from {INTERVENTIONS}
                union all
                select intervention_id, customer_id from {{batch}}
            ),
            open_interventions as (
                select all_interventions.intervention_id, all_interventions.customer_id
                from all_interventions
                where all_interventions.intervention_id not in (
                    select intervention_id from {OUTCOMES_TABLE} where intervention_id is not null
                )
            )
            select
                customer_id,
                count(*) as open_count,
                string_agg(intervention_id, ', ' order by intervention_id) as intervention_ids
            from open_interventions
            group by customer_id
            having count(*) > 1
            order by customer_id
            """,
            key=("customer_id",),
            label="{customer_id}: {open_count} open ({intervention_ids})",
            reads=(INTERVENTIONS, OUTCOMES_TABLE),
            description="A customer may have at most one open intervention (no outcome yet).",
        ),
    ),
)

SUITES: Mapping[str, SuiteSpec] = {suite.name: suite for suite in (INPUTS, ORPHANS, POLICY)}


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
