"""`journey generate`: synthetic feeds of any size, with controlled imperfections, deterministic from a seed.

Everything is computed in DuckDB SQL. Pseudo-randomness is ``hash(seed, key, salt)`` mapped to [0, 1), so a
value depends only on the seed and the record it belongs to, never on threads or row order. Each feed is
built as a "clean" typed table; exact duplicates and extra records (orphans, rejected-row cases,
duplicate-key pairs) are derived from it; every record is rendered as one JSON object by ``json_object``
(which lets a case leave a key out entirely) and written by ``COPY ... TO`` in a fixed order.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import yaml

from journey.feeds import feed_specs
from journey.project import PROJECT_DIR
from journey.sql import literal
from policy.db import memory_settings

DEFAULTS_PATH = Path(__file__).with_name("generator_defaults.yml")
FORMATS = ("json", "ndjson")

# the feed schema's one declaration (dbt_project.yml var `feeds`): the feeds, their fields in order, the key field
FEEDS = tuple(feed_specs())
FIELDS: dict[str, tuple[str, ...]] = {feed: spec.field_names for feed, spec in feed_specs().items()}
KEY_FIELD = {feed: spec.key[0] for feed, spec in feed_specs().items()}
# The id sequence ("kind") a fresh key of each feed is drawn from (journey rows get a fresh customer).
KEY_KIND = {
    "customers": "C",
    "journey_state_log": "C",
    "signals": "S",
    "interventions": "I",
    "outcomes": "O",
}

NEGATIVE_SIGNALS = (
    "support_ticket_spike",
    "negative_sentiment",
    "usage_drop",
    "repeat_support_tickets",
    "failed_onboarding_step",
    "support_satisfaction_low",
    "inactivity_warning",
    "low_product_usage",
)
POSITIVE_SIGNALS = ("positive_sentiment", "renewal_intent", "usage_recovery")
# The actions an intervention may recommend in each stage (confidence < 0.4 gives monitor_only instead).
STAGE_ACTIONS: dict[str, tuple[str, ...]] = {
    "onboarding": ("onboarding_nudge_email", "onboarding_specialist_call", "proactive_outreach"),
    "engagement": ("usage_review_checkin", "reengagement_campaign", "proactive_outreach"),
    "support": ("support_manager_followup", "proactive_outreach"),
    "retention": ("renewal_health_check", "proactive_outreach"),
    "escalation": ("support_manager_followup", "proactive_outreach"),
}
ACTIONS = (*dict.fromkeys(action for actions in STAGE_ACTIONS.values() for action in actions), "monitor_only")
# Outcome draw: x in [0, 1) below a bound gives its outcome (the rest no_response); the success outcomes
# come first, so x < SUCCESS_SHARE is a success.
OUTCOME_BOUNDS = (
    ("resolved", 0.30),
    ("partial_improvement", 0.50),
    ("improved_engagement", 0.65),
    ("no_action_needed", 0.75),
)
FAILURE_OUTCOME = "no_response"
SUCCESS_SHARE = OUTCOME_BOUNDS[2][1]
# The relationships `--inject` can add (settings under `injections:` in generator_defaults.yml).
INJECTIONS = ("signal_precedes_escalation", "confidence_predicts_success", "harmful_action")
# The data-quality incidents `--inject` can add to the files of one daily increment (setting `day`, >= 1).
DAILY_INJECTIONS = ("volume_drop", "null_burst", "segment_shift")
ALL_INJECTIONS = INJECTIONS + DAILY_INJECTIONS
SEGMENTS_PATH = PROJECT_DIR / "seeds" / "ref_segments.csv"
UNKNOWN_SIGNALS = ("chat_escalation", "billing_dispute", "feature_request")
BAD_DATES = ("2025-13-45", "2025-02-30", "not-a-date")

# Reason code in quality.rejected_rows expected for each rejected-row case.
REJECT_CASES = (
    "missing_key",
    "missing_field",
    "wrong_type",
    "out_of_range",
    "unknown_value",
    "unparseable_date",
)

DROP = None  # an override value that leaves the key out of the record
NEW = "{new}"  # placeholder: a fresh key of the feed's kind
ORPHAN_C = "{orphan_c}"  # placeholder: an unknown customer id
ORPHAN_I = "{orphan_i}"  # placeholder: an unknown intervention id


def _sql_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(f"'{value}'" for value in values) + "]"


def _pick(values: Iterable[str]) -> str:
    return f"pick(e_x, {_sql_list(values)})"


def _other_value(column: str) -> str:
    """A value in [0, 1] that differs from ``column`` (for the second record of a duplicate-key pair)."""
    shifted = f"round(CASE WHEN {column} >= 0.5 THEN {column} - 0.1 ELSE {column} + 0.1 END, 2)"
    return f"CASE WHEN e_ver = 0 THEN {column} ELSE {shifted} END"


# Extra-record cases: feed -> case -> (field overrides, copies). A field mapped to DROP is left out.
CASES: dict[str, dict[str, tuple[dict[str, str | None], int]]] = {
    "customers": {
        "missing_key": ({"customer_id": DROP}, 1),
        "missing_field": ({"customer_id": NEW, "segment": DROP}, 1),
        "wrong_type": ({"customer_id": NEW, "account_value": "account_value::VARCHAR"}, 1),
        "out_of_range": ({"customer_id": NEW, "tenure_months": "-1 - floor(e_x * 12)::INTEGER"}, 1),
        "unknown_value": ({"customer_id": NEW, "risk_tier": _pick(("severe", "very_high", "unknown"))}, 1),
        "duplicate_key_conflicts": ({"customer_id": NEW, "account_value": "account_value + 1000 * e_ver"}, 2),
    },
    "journey_state_log": {
        "missing_key": ({"customer_id": DROP}, 1),
        "missing_field": ({"customer_id": NEW, "journey_stage": DROP}, 1),
        "wrong_type": ({"customer_id": NEW, "days_in_state": "days_in_state + 0.5"}, 1),
        "out_of_range": ({"customer_id": NEW, "days_in_state": "-1 - floor(e_x * 30)::INTEGER"}, 1),
        "unknown_value": ({"customer_id": NEW, "journey_stage": _pick(("churned", "trial", "dormant"))}, 1),
        "unparseable_date": ({"customer_id": NEW, "state_entered_at": _pick(BAD_DATES)}, 1),
        "duplicate_key_conflicts": ({"customer_id": NEW, "days_in_state": "days_in_state + e_ver"}, 2),
    },
    "signals": {
        "orphan_signals": ({"signal_id": NEW, "customer_id": ORPHAN_C}, 1),
        "missing_key": ({"signal_id": DROP}, 1),
        "missing_field": ({"signal_id": NEW, "customer_id": DROP}, 1),
        "wrong_type": ({"signal_id": NEW, "signal_strength": "signal_strength::VARCHAR"}, 1),
        "out_of_range": ({"signal_id": NEW, "signal_strength": "round(1.05 + e_x * 0.9, 2)"}, 1),
        "unknown_value": ({"signal_id": NEW, "source": _pick(("crm_import", "partner_api"))}, 1),
        "unparseable_date": ({"signal_id": NEW, "detected_at": _pick(BAD_DATES)}, 1),
        "unknown_signal_type": ({"signal_id": NEW, "signal_type": _pick(UNKNOWN_SIGNALS)}, 1),
        "duplicate_key_conflicts": (
            {"signal_id": NEW, "signal_strength": _other_value("signal_strength")},
            2,
        ),
    },
    "interventions": {
        "orphan_interventions": (
            {"intervention_id": NEW, "customer_id": ORPHAN_C, "triggered_by_signals": "[]::VARCHAR[]"},
            1,
        ),
        "missing_key": ({"intervention_id": DROP}, 1),
        "missing_field": ({"intervention_id": NEW, "customer_id": DROP}, 1),
        "wrong_type": (
            {
                "intervention_id": NEW,
                "requires_human_approval": "CASE WHEN requires_human_approval THEN 'yes' ELSE 'no' END",
            },
            1,
        ),
        "out_of_range": ({"intervention_id": NEW, "confidence": "round(1.05 + e_x * 0.5, 2)"}, 1),
        "unknown_value": (
            {"intervention_id": NEW, "recommended_action": _pick(("send_gift_card", "call_ceo"))},
            1,
        ),
        "unparseable_date": ({"intervention_id": NEW, "generated_at": _pick(BAD_DATES)}, 1),
        "duplicate_key_conflicts": ({"intervention_id": NEW, "confidence": _other_value("confidence")}, 2),
    },
    "outcomes": {
        "orphan_outcomes": ({"outcome_id": NEW, "intervention_id": ORPHAN_I}, 1),
        "missing_key": ({"outcome_id": DROP}, 1),
        "missing_field": ({"outcome_id": NEW, "intervention_id": DROP}, 1),
        "wrong_type": (
            {"outcome_id": NEW, "human_override": "CASE WHEN human_override THEN 'yes' ELSE 'no' END"},
            1,
        ),
        "out_of_range": ({"outcome_id": NEW, "churn_risk_delta": "round(-1.1 - e_x * 0.8, 2)"}, 1),
        "unknown_value": ({"outcome_id": NEW, "outcome": _pick(("escalated", "churned"))}, 1),
        "unparseable_date": ({"outcome_id": NEW, "measured_at": _pick(BAD_DATES)}, 1),
        "duplicate_key_conflicts": ({"outcome_id": NEW, "csat_delta": "csat_delta + e_ver"}, 2),
    },
}


@dataclasses.dataclass(frozen=True)
class GeneratorRates:
    """Every imperfection rate of the generator; see generator_defaults.yml for what each one means."""

    orphan_signals: float
    orphan_interventions: float
    orphan_outcomes: float
    orphan_signal_refs: float
    invalid_transitions: float
    missing_outcomes: float
    conflicting_signals: float
    exact_duplicates: float
    duplicate_key_conflicts: float
    missing_key: float
    missing_field: float
    wrong_type: float
    out_of_range: float
    unknown_value: float
    unparseable_date: float
    unknown_signal_type: float

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise ValueError(f"rate {field.name} must be a number in [0, 1], got {value!r}")

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(field.name for field in dataclasses.fields(cls))

    @classmethod
    def from_yaml(cls, path: Path = DEFAULTS_PATH) -> GeneratorRates:
        return cls(**_load_settings(path)["rates"])

    @classmethod
    def zero(cls) -> GeneratorRates:
        """No imperfection at all: a perfectly clean feed set."""
        return cls(**dict.fromkeys(cls.names(), 0.0))

    def with_overrides(self, overrides: Mapping[str, float]) -> GeneratorRates:
        unknown = sorted(set(overrides) - set(self.names()))
        if unknown:
            raise ValueError(f"unknown rate(s) {', '.join(unknown)}; known: {', '.join(self.names())}")
        return dataclasses.replace(self, **overrides)

    def as_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)


def _load_settings(path: Path = DEFAULTS_PATH) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        settings = yaml.safe_load(handle)
    missing = set(GeneratorRates.names()) - set(settings.get("rates", {}))
    if missing:
        raise ValueError(f"{path}: rates missing: {', '.join(sorted(missing))}")
    return settings


@dataclasses.dataclass(frozen=True)
class Injections:
    """The known relationships to inject (none by default) and their settings (generator_defaults.yml)."""

    settings: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.settings) - set(ALL_INJECTIONS))
        if unknown:
            raise ValueError(f"unknown injection(s) {', '.join(unknown)}; known: {', '.join(ALL_INJECTIONS)}")
        for name, values in self.settings.items():
            _check_injection(name, values)

    @classmethod
    def from_yaml(
        cls,
        names: Iterable[str],
        overrides: Mapping[str, str] | None = None,
        path: Path = DEFAULTS_PATH,
    ) -> Injections:
        """The named injections with their settings from ``path``; ``overrides`` maps ``name.setting`` to a
        value (text, converted to the type of the setting's default)."""
        names = [name.strip() for name in names if name.strip()]
        unknown = sorted(set(names) - set(ALL_INJECTIONS))
        if unknown:
            raise ValueError(f"unknown injection(s) {', '.join(unknown)}; known: {', '.join(ALL_INJECTIONS)}")
        defaults = _load_settings(path).get("injections") or {}
        settings = {name: dict(defaults.get(name) or {}) for name in ALL_INJECTIONS if name in names}
        for key, value in (overrides or {}).items():
            name, _, setting = key.partition(".")
            if name not in settings:
                raise ValueError(f"--inject-setting {key}: injection {name!r} is not selected with --inject")
            if setting not in settings[name]:
                known = ", ".join(settings[name])
                raise ValueError(f"--inject-setting {key}: unknown setting {setting!r}; known: {known}")
            kind = type(settings[name][setting])
            try:
                settings[name][setting] = value if kind is str else kind(value)
            except ValueError as error:
                raise ValueError(
                    f"--inject-setting {key}: {value!r} is not of type {kind.__name__}"
                ) from error
        return cls(settings)

    def __bool__(self) -> bool:
        return bool(self.settings)

    def __contains__(self, name: object) -> bool:
        return name in self.settings

    def __getitem__(self, name: str) -> Mapping[str, Any]:
        return self.settings[name]

    def as_dict(self) -> dict[str, dict[str, Any]]:
        return {name: dict(values) for name, values in self.settings.items()}

    def on_day(self, day: int) -> dict[str, Mapping[str, Any]]:
        """The daily-increment injections (volume_drop, null_burst, segment_shift) that apply to ``day``."""
        return {
            name: values
            for name, values in self.settings.items()
            if name in DAILY_INJECTIONS and values["day"] == day
        }

    def check_days(self, days: int) -> None:
        """A daily-increment injection needs its day among the increments written (1..days)."""
        for name, values in self.settings.items():
            if name in DAILY_INJECTIONS and values["day"] > days:
                raise ValueError(
                    f"injection {name}.day is {values['day']}, but only {days} daily increment(s) are written "
                    f"(--days {days}); use --days {values['day']} or more"
                )


def segment_labels(path: Path = SEGMENTS_PATH) -> dict[str, str]:
    """{segment: segment_label} from the reference CSV; the feed writes the label (staging lowercases it)."""
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["segment"]: row["segment_label"] for row in csv.DictReader(handle)}


def _check_injection(name: str, values: Mapping[str, Any]) -> None:
    """One-line errors for a setting out of its domain."""
    expected = {
        "signal_precedes_escalation": {"signal_type", "probability", "max_lag_days"},
        "confidence_predicts_success": {"success_at_zero", "success_at_one"},
        "harmful_action": {"action", "failure_probability", "churn_risk_rise_min", "churn_risk_rise_max"},
        "volume_drop": {"day", "feed", "keep_share"},
        "null_burst": {"day", "feed", "field", "share"},
        "segment_shift": {"day", "segment", "share"},
    }[name]
    if set(values) != expected:
        raise ValueError(f"injection {name} needs exactly the settings {', '.join(sorted(expected))}")

    def share(key: str) -> float:
        value = values[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ValueError(f"injection {name}.{key} must be a number in [0, 1], got {value!r}")
        return float(value)

    if name in DAILY_INJECTIONS:
        _check_daily_injection(name, values, share)
    elif name == "signal_precedes_escalation":
        if values["signal_type"] not in NEGATIVE_SIGNALS + POSITIVE_SIGNALS:
            raise ValueError(f"injection {name}.signal_type: unknown signal type {values['signal_type']!r}")
        share("probability")
        lag = values["max_lag_days"]
        if isinstance(lag, bool) or not isinstance(lag, int) or lag < 1:
            raise ValueError(f"injection {name}.max_lag_days must be an integer >= 1, got {lag!r}")
    elif name == "confidence_predicts_success":
        share("success_at_zero")
        share("success_at_one")
    else:
        if values["action"] not in ACTIONS:
            raise ValueError(f"injection {name}.action: unknown action {values['action']!r}")
        share("failure_probability")
        if not 0 < share("churn_risk_rise_min") <= share("churn_risk_rise_max"):
            raise ValueError(f"injection {name}: need 0 < churn_risk_rise_min <= churn_risk_rise_max")


def _check_daily_injection(name: str, values: Mapping[str, Any], share: Callable[[str], float]) -> None:
    """The daily-increment injections: the day, the feed, the field and the segment they name must exist."""
    day = values["day"]
    if isinstance(day, bool) or not isinstance(day, int) or day < 1:
        raise ValueError(f"injection {name}.day must be a daily increment, an integer >= 1, got {day!r}")
    if name == "segment_shift":
        share("share")
        if values["segment"] not in segment_labels():
            known = ", ".join(segment_labels())
            raise ValueError(
                f"injection {name}.segment: unknown segment {values['segment']!r}; known: {known}"
            )
        return
    feed = values["feed"]
    if feed not in FEEDS:
        raise ValueError(f"injection {name}.feed: unknown feed {feed!r}; known: {', '.join(FEEDS)}")
    if name == "volume_drop":
        share("keep_share")
        return
    share("share")
    spec = feed_specs()[feed]
    optional = [
        field["name"] for field in spec.fields if field["name"] not in spec.key and not field.get("required")
    ]
    if values["field"] not in optional:
        known = ", ".join(optional) or "none"
        raise ValueError(
            f"injection {name}.field: {values['field']!r} is not an optional field of {feed} "
            f"(not the key, not required); optional: {known}"
        )


def parse_injection_settings(items: Iterable[str]) -> dict[str, str]:
    """Parse ``NAME.SETTING=VALUE`` strings (from ``--inject-setting``) into a mapping."""
    settings: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or "." not in key:
            raise ValueError(f"--inject-setting expects NAME.SETTING=VALUE, got {item!r}")
        settings[key.strip()] = value.strip()
    return settings


def parse_rate_overrides(items: Iterable[str]) -> dict[str, float]:
    """Parse ``NAME=VALUE`` strings (from ``--rate``) into a mapping."""
    overrides: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--rate expects NAME=VALUE, got {item!r}")
        try:
            overrides[name.strip()] = float(value)
        except ValueError as error:
            raise ValueError(f"--rate {item!r}: {value!r} is not a number") from error
    return overrides


# --------------------------------------------------------------------------------------------------- SQL


def _macros(seed: int, widths: Mapping[str, int]) -> list[str]:
    """Deterministic helpers: u() in [0, 1) from (seed, a, b, salt), id formatting, the stage machine."""
    id_macros = [
        f"CREATE MACRO {kind.lower()}id(n) AS '{kind}' || lpad(n::BIGINT::VARCHAR, {width}, '0')"
        for kind, width in widths.items()
    ]
    return [
        # DuckDB's multi-argument hash() combines weakly (neighbouring keys get close values), so the
        # inputs are chained through the single-value hash, which mixes well.
        "CREATE MACRO u(a, b, salt) AS (hash(xor(hash(xor(hash(xor("
        f"hash({int(seed)}::BIGINT), a::UBIGINT)), b::UBIGINT)), hash(salt::VARCHAR))) >> 11) "
        "/ 9007199254740992.0",
        "CREATE MACRO pick(x, lst) AS lst[1 + floor(x * len(lst))::BIGINT]",
        *id_macros,
        """CREATE MACRO next_stage(prev, x) AS CASE prev
            WHEN 'onboarding' THEN 'engagement'
            WHEN 'engagement' THEN CASE WHEN x < 0.45 THEN 'support' WHEN x < 0.85 THEN 'retention'
                                        ELSE 'escalation' END
            WHEN 'support' THEN CASE WHEN x < 0.6 THEN 'retention' ELSE 'escalation' END
            WHEN 'retention' THEN CASE WHEN x < 0.6 THEN 'support' ELSE 'escalation' END
            WHEN 'escalation' THEN 'support' END""",
        """CREATE MACRO invalid_stage(prev, x) AS CASE prev
            WHEN 'onboarding' THEN pick(x, ['support', 'retention'])
            WHEN 'engagement' THEN 'onboarding'
            WHEN 'support' THEN pick(x, ['engagement', 'onboarding'])
            WHEN 'retention' THEN pick(x, ['engagement', 'onboarding'])
            WHEN 'escalation' THEN pick(x, ['engagement', 'retention']) END""",
        """CREATE MACRO stage_days(stage, x) AS (CASE stage
            WHEN 'onboarding' THEN 3 + floor(x * 12) WHEN 'engagement' THEN 15 + floor(x * 76)
            WHEN 'support' THEN 2 + floor(x * 19) WHEN 'retention' THEN 30 + floor(x * 121)
            ELSE 1 + floor(x * 10) END)::INTEGER""",
        """CREATE MACRO stage_sla(stage) AS CASE stage
            WHEN 'onboarding' THEN 10 WHEN 'engagement' THEN 60 WHEN 'support' THEN 14
            WHEN 'retention' THEN 120 ELSE 7 END""",
        _signal_type_macro(),
        "CREATE MACRO stage_actions(stage) AS CASE stage "
        + " ".join(f"WHEN '{stage}' THEN {_sql_list(actions)}" for stage, actions in STAGE_ACTIONS.items())
        + " END",
        "CREATE MACRO iso(d) AS d::VARCHAR",  # ISO 'YYYY-MM-DD', and faster than strftime
    ]


def _signal_type_macro() -> str:
    """A signal type of the given polarity; failed_onboarding_step only in onboarding (else usage_drop)."""
    failed = NEGATIVE_SIGNALS.index("failed_onboarding_step")
    low, high = failed / len(NEGATIVE_SIGNALS), (failed + 1) / len(NEGATIVE_SIGNALS)
    return f"""CREATE MACRO signal_type(polarity, stage, x) AS CASE
        WHEN polarity = 'positive' THEN pick(x, {_sql_list(POSITIVE_SIGNALS)})
        WHEN stage <> 'onboarding' AND x >= {low} AND x < {high} THEN 'usage_drop'
        ELSE pick(x, {_sql_list(NEGATIVE_SIGNALS)}) END"""


def _customer_attributes(source: str) -> str:
    """Segment, value, risk tier and dominant signal polarity for each customer number n in ``source``."""
    return f"""
        SELECT n, cid(n) AS customer_id,
            CASE WHEN u(n, 0, 'seg') < 0.6 THEN 'SMB' WHEN u(n, 0, 'seg') < 0.88 THEN 'Mid-Market'
                 ELSE 'Enterprise' END AS segment,
            CASE WHEN u(n, 0, 'tier') < 0.5 THEN 'low' WHEN u(n, 0, 'tier') < 0.8 THEN 'medium'
                 ELSE 'high' END AS risk_tier
        FROM {source}"""


def _customer_values() -> str:
    return """
        (CASE segment WHEN 'SMB' THEN 2000 + 100 * floor(u(n, 0, 'val') * 230)
                      WHEN 'Mid-Market' THEN 25000 + 100 * floor(u(n, 0, 'val') * 400)
                      ELSE 65000 + 500 * floor(u(n, 0, 'val') * 371) END)::BIGINT AS account_value,
        CASE WHEN u(n, 0, 'pol') < (CASE risk_tier WHEN 'low' THEN 0.35 WHEN 'medium' THEN 0.2 ELSE 0.1 END)
             THEN 'positive' ELSE 'negative' END AS dominant"""


def _rec_expr(feed: str, overrides: Mapping[str, str | None] | None = None) -> str:
    overrides = overrides or {}
    pairs = []
    for field in FIELDS[feed]:
        value = overrides.get(field, field)
        if value is not DROP:
            pairs.append(f"'{field}', {value}")
    return f"json_object({', '.join(pairs)})"


def _chain_sql(as_of: date, p_invalid: float, p_conflict: float) -> str:
    """Each customer's journey as columns: stages s1..s5, entry dates e1..e5, days in state dis1..dis5.

    A valid chain from onboarding; with ``inv`` the latest stage is swapped for an invalid successor. Dates
    are laid out backwards from the as-of date: the latest state has lasted ``elapsed`` days (up to 1.8 x
    its SLA, so some are stalled), each earlier one a stage-typical duration d1..d4.
    """
    stage = {
        2: "CASE WHEN jlen < 2 THEN NULL WHEN jlen = 2 AND inv THEN invalid_stage('onboarding', x_inv) "
        "ELSE 'engagement' END",
        3: "CASE WHEN jlen < 3 THEN NULL WHEN jlen = 3 AND inv THEN invalid_stage('engagement', x_inv) "
        "ELSE r3 END",
        4: "CASE WHEN jlen < 4 THEN NULL WHEN jlen = 4 AND inv THEN invalid_stage(r3, x_inv) ELSE r4 END",
        5: "CASE WHEN jlen < 5 THEN NULL WHEN inv THEN invalid_stage(r4, x_inv) ELSE r5 END",
    }
    durations = ", ".join(
        f"CASE WHEN {k} < jlen THEN stage_days(s{k}, u(n, {k}, 'dur')) ELSE 0 END AS d{k}"
        for k in range(1, 5)
    )
    entered = ", ".join(
        f"CASE WHEN {k} <= jlen THEN DATE '{as_of}' - elapsed - ({' + '.join(f'd{i}' for i in range(k, 5)) or '0'}) "
        f"END AS e{k}"
        for k in range(1, 6)
    )
    days = ", ".join(
        f"CASE WHEN {k} < jlen THEN d{k} WHEN {k} = jlen THEN elapsed END AS dis{k}" for k in range(1, 5)
    )
    # Running totals give each customer a contiguous block of journey rows, signals and interventions.
    # The window runs over four narrow columns: over the wide rows it costs several times more.
    return f"""
        WITH counted AS (
            SELECT n, jlen, nsig, CASE WHEN nsig = 0 THEN 0 WHEN u(n, 0, 'nint') < 0.27 THEN 1
                                       WHEN u(n, 0, 'nint') < 0.31 THEN 2 ELSE 0 END AS nint
            FROM cw0
        ), offsets AS (
            SELECT n, nint,
                (sum(jlen) OVER (ORDER BY n ROWS UNBOUNDED PRECEDING) - jlen)::BIGINT AS jbase,
                (sum(nsig) OVER (ORDER BY n ROWS UNBOUNDED PRECEDING) - nsig)::BIGINT AS sbase,
                (sum(nint) OVER (ORDER BY n ROWS UNBOUNDED PRECEDING) - nint)::BIGINT AS ibase
            FROM counted
        ), chain AS (
            SELECT *, next_stage('engagement', u(n, 3, 'stage')) AS r3,
                jlen >= 2 AND u(n, 0, 'inv') < {p_invalid} AS inv, u(n, 0, 'invs') AS x_inv,
                nsig >= 2 AND u(n, 0, 'conflict') < {p_conflict} AS conflict
            FROM cw0
        ), chain4 AS (
            SELECT *, next_stage(r3, u(n, 4, 'stage')) AS r4 FROM chain
        ), chain5 AS (
            SELECT *, next_stage(r4, u(n, 5, 'stage')) AS r5 FROM chain4
        ), staged AS (
            SELECT * EXCLUDE (r3, r4, r5, x_inv), 'onboarding' AS s1, {stage[2]} AS s2, {stage[3]} AS s3,
                {stage[4]} AS s4, {stage[5]} AS s5
            FROM chain5
        ), timed AS (
            SELECT *, CASE jlen WHEN 1 THEN s1 WHEN 2 THEN s2 WHEN 3 THEN s3 WHEN 4 THEN s4 ELSE s5 END
                    AS last_stage,
                {durations}
            FROM staged
        ), lasting AS (
            SELECT *, floor(u(n, 0, 'elapsed') * 1.8 * stage_sla(last_stage))::INTEGER AS elapsed FROM timed
        )
        SELECT * EXCLUDE (d1, d2, d3, d4), {entered}, {days}, CASE WHEN jlen = 5 THEN elapsed END AS dis5,
            DATE '{as_of}' - elapsed AS last_entered
        FROM lasting JOIN offsets USING (n)"""


CHAIN_COLUMNS = "s1, s2, s3, s4, s5, e1, e2, e3, e4, e5"


def _detected_sql(as_of: date, j: str) -> str:
    """Detection date of a customer's signal number ``j`` (0-based): spread over the last (up to) 120 days
    of the customer's history, non-decreasing in ``j``, so signal ids follow detection order."""
    window = f"least(DATE '{as_of}' - e1, 120)"
    return f"DATE '{as_of}' - floor({window} * (1 - ({j} + u(n, {j}, 'sdet')) / nsig))::INTEGER"


def _stage_at(day: str) -> str:
    """The customer's stage on ``day`` (from the chain columns s1..s5, e1..e5)."""
    return (
        f"CASE WHEN {day} >= e5 THEN s5 WHEN {day} >= e4 THEN s4 WHEN {day} >= e3 THEN s3 "
        f"WHEN {day} >= e2 THEN s2 ELSE s1 END"
    )


def _count(rate: float, rows: int) -> int:
    return int(rate * rows + 0.5)


def _stride(rows: int) -> int:
    """A step coprime with ``rows``: ``start + i * step (mod rows)`` visits distinct templates, spread out."""
    step = max(1, int(rows * 0.6180339887))
    while math.gcd(step, rows) != 1:
        step += 1
    return step


def _digits_for(estimate: float) -> int:
    return max(7, len(str(int(3 * estimate) + 1)))


class _Generator:
    """One generation run: a DuckDB connection, the id counters and the state carried across days."""

    def __init__(
        self,
        seed: int,
        rates: GeneratorRates,
        as_of: date,
        customers: int,
        days: int,
        share: float,
        injections: Injections | None = None,
    ):
        self.rates = rates
        self.injections = injections or Injections()
        # per injection, what it did (the manifest's "injections" counts), summed over the days
        self.injected: dict[str, dict[str, int]] = {name: {} for name in self.injections.settings}
        self.base_as_of = as_of
        self.share = share
        self.con = duckdb.connect()
        # Bounded like the pipeline (profiles.yml): an in-memory database spills to a temporary folder past
        # the limit instead of taking most of the machine (10M customers took 19 GiB without a limit).
        spill_root = os.environ.get("JOURNEY_TEMP_DIR") or None
        if spill_root:
            Path(spill_root).mkdir(parents=True, exist_ok=True)
        self._spill = Path(tempfile.mkdtemp(prefix="journey-generate-", dir=spill_root))
        self.con.execute(f"SET memory_limit = {literal(memory_settings()['memory_limit'])}")
        self.con.execute(f"SET temp_directory = {literal(self._spill)}")
        self.con.execute("SET enable_progress_bar = false")
        self.con.execute("SET preserve_insertion_order = true")
        self.widths = self._widths(customers, days)
        self.top = {kind: 10**width - 1 for kind, width in self.widths.items()}
        for statement in _macros(seed, self.widths):
            self.con.execute(statement)
        self.next = dict.fromkeys(("C", "S", "I", "O"), 0)  # last sequential number used per kind
        self.orphans = dict.fromkeys(("C", "S", "I"), 0)  # orphan numbers used, counted down from the top
        self.extras = 0
        self.base_counts: dict[str, int] = {}
        self.written: dict[str, int] = dict.fromkeys(FEEDS, 0)

    def _widths(self, customers: int, days: int) -> dict[str, int]:
        """Digits per id kind: room for three times the expected ids (orphan ids count down from the top)."""
        rows_per_customer = {
            "customers": 1.0,
            "journey_state_log": 2.2,
            "signals": 2.6,
            "interventions": 0.35,
        }
        rows_per_customer["outcomes"] = rows_per_customer["interventions"]
        expected = dict.fromkeys(("C", "S", "I", "O"), 0.0)
        for feed, rows in rows_per_customer.items():
            # ids used by a feed's extras: at most twice the case count (key-less cases draw double)
            extra = sum(2 * copies * getattr(self.rates, case) for case, (_, copies) in CASES[feed].items())
            kind = KEY_KIND[feed]
            expected[kind] += rows * (extra if feed == "journey_state_log" else 1 + extra)
        days_growth = 1 + 2 * self.share * days
        return {kind: _digits_for(customers * ids * days_growth) for kind, ids in expected.items()}

    def close(self) -> None:
        self.con.close()
        shutil.rmtree(self._spill, ignore_errors=True)

    def scalar(self, sql: str) -> Any:
        return self.con.execute(sql).fetchone()[0]

    def run(self, sql: str) -> None:
        self.con.execute(sql)

    # ------------------------------------------------------------------------------------------ base set

    def base(self, customers: int) -> dict[str, Any]:
        as_of = self.base_as_of
        self._base_customers(customers, as_of)
        self._base_signals(as_of)
        if "signal_precedes_escalation" in self.injections:
            self._inject_base_escalations(as_of)
        self._base_journey_log()
        self._base_interventions(as_of)
        self._outcomes_from("clean_interventions", as_of, day=0)
        self._init_state()
        imperfections = {
            "invalid_transitions": {"journey_state_log": self.scalar("SELECT count(*) FILTER (inv) FROM cw")},
            "conflicting_signals": {"signals": self.scalar("SELECT count(*) FILTER (conflict) FROM cw")},
        }
        manifest = self._finish(day=0, as_of=as_of, imperfections=imperfections)
        self.base_counts = dict(manifest["clean_rows"])
        return manifest

    def _base_customers(self, customers: int, as_of: date) -> None:
        self.run(f"""CREATE OR REPLACE TABLE cw0 AS
            WITH attrs AS ({_customer_attributes(f"(SELECT range + 1 AS n FROM range({customers}))")})
            SELECT *, {_customer_values()},
                CASE WHEN u(n, 0, 'len') < 0.35 THEN 1 WHEN u(n, 0, 'len') < 0.73 THEN 2
                     WHEN u(n, 0, 'len') < 0.90 THEN 3 WHEN u(n, 0, 'len') < 0.97 THEN 4 ELSE 5 END AS jlen,
                CASE WHEN u(n, 0, 'nsig') < 0.14 THEN 0 WHEN u(n, 0, 'nsig') < 0.34 THEN 1
                     WHEN u(n, 0, 'nsig') < 0.54 THEN 2 WHEN u(n, 0, 'nsig') < 0.71 THEN 3
                     WHEN u(n, 0, 'nsig') < 0.84 THEN 4 WHEN u(n, 0, 'nsig') < 0.93 THEN 5 ELSE 6 END AS nsig
            FROM attrs""")
        transitions, multi_row, multi_signal = self.con.execute(
            "SELECT sum(jlen - 1), count(*) FILTER (jlen >= 2), count(*) FILTER (nsig >= 2) FROM cw0"
        ).fetchone()
        p_invalid = min(1.0, self.rates.invalid_transitions * (transitions or 0) / max(multi_row, 1))
        p_conflict = min(1.0, self.rates.conflicting_signals * customers / max(multi_signal, 1))
        self.run(f"CREATE OR REPLACE TABLE cw AS {_chain_sql(as_of, p_invalid, p_conflict)}")
        self.run(f"""CREATE OR REPLACE TABLE clean_customers AS
            SELECT n - 1 AS tix, n AS ord_a, 0 AS ord_b, customer_id, segment, account_value,
                (floor((DATE '{as_of}' - e1) / 30) + floor(u(n, 0, 'ten') * 12))::INTEGER AS tenure_months,
                risk_tier
            FROM cw""")
        self.next["C"] = customers

    def _base_journey_log(self) -> None:
        rows = "\nUNION ALL\n".join(
            f"""SELECT jbase + {k - 1} AS tix, n AS ord_a, {k} AS ord_b, customer_id, s{k} AS journey_stage,
                iso(e{k}) AS state_entered_at, dis{k} AS days_in_state, {"NULL" if k == 1 else f"s{k - 1}"}
                AS previous_stage FROM cw WHERE jlen >= {k}"""
            for k in range(1, 6)
        )
        self.run(f"CREATE OR REPLACE TABLE clean_journey_state_log AS {rows}")

    def _base_signals(self, as_of: date) -> None:
        offset = self.next["S"]
        self.run(f"""CREATE OR REPLACE TABLE clean_signals AS
            WITH drawn AS (
                SELECT *, {_stage_at("detected")} AS journey_stage,
                    CASE WHEN conflict AND j = 0 THEN (CASE dominant WHEN 'positive' THEN 'negative'
                                                     ELSE 'positive' END)
                         ELSE dominant END AS polarity
                FROM (
                    SELECT n, j, customer_id, sbase, dominant, conflict, {CHAIN_COLUMNS},
                        {_detected_sql(as_of, "j")} AS detected
                    FROM cw, range(6) r(j) WHERE j < nsig)
            )
            SELECT sbase + j AS tix, {offset} + sbase + j + 1 AS ord_a, 0 AS ord_b, n, detected,
                {offset} + sbase + j + 1 AS num, sid({offset} + sbase + j + 1) AS signal_id, customer_id,
                signal_type(polarity, journey_stage, u(n, j, 'stype')) AS signal_type,
                round(0.1 + 0.9 * u(n, j, 'sstr'), 2) AS signal_strength,
                iso(detected) AS detected_at, journey_stage,
                CASE WHEN u(n, j, 'ssrc') < 0.25 THEN 'manual' ELSE 'automated' END AS source
            FROM drawn""")
        self.next["S"] = offset + self.scalar("SELECT count(*) FROM clean_signals")

    def _inject_base_escalations(self, as_of: date) -> None:
        """signal_precedes_escalation in the base set: cut the chosen customers' journeys at the stage of their
        first signal of the type and let them enter escalation 1..max_lag_days days after it (see
        generator_defaults.yml). Table ``esc``: the chosen customers, with ``k`` (the stage index at the
        signal) and the escalation date; those whose date falls after the as-of date are left for the days."""
        settings = self.injections["signal_precedes_escalation"]
        stage_index = " ".join(f"WHEN detected >= e{k} THEN {k}" for k in range(5, 1, -1))
        stage_k = " ".join(f"WHEN {k} THEN s{k}" for k in range(1, 6))
        self.run(f"""CREATE OR REPLACE TABLE esc AS
            WITH first_signal AS (
                SELECT n, min(detected) AS detected
                FROM clean_signals WHERE signal_type = {literal(settings["signal_type"])} GROUP BY n
            ), placed AS (
                SELECT first_signal.*, jlen, inv, {CHAIN_COLUMNS},
                    CASE {stage_index} ELSE 1 END AS k,
                    detected + 1 + floor(u(n, 0, 'inj_esc_lag') * {int(settings["max_lag_days"])})::INTEGER
                        AS escalated,
                    u(n, 0, 'inj_esc') < {float(settings["probability"])} AS drawn
                FROM first_signal JOIN cw USING (n)
            )
            SELECT n, k, escalated, drawn, escalated > DATE '{as_of}' AS is_later
            FROM placed
            WHERE NOT inv AND k < 5 AND (CASE k {stage_k} END) <> 'escalation'""")
        cut = "k IS NOT NULL"
        stages = ", ".join(
            f"CASE WHEN NOT {cut} THEN s{i} WHEN {i} = k + 1 THEN 'escalation' WHEN {i} > k + 1 THEN NULL "
            f"ELSE s{i} END AS s{i}, "
            f"CASE WHEN NOT {cut} THEN e{i} WHEN {i} = k + 1 THEN escalated WHEN {i} > k + 1 THEN NULL "
            f"ELSE e{i} END AS e{i}"
            for i in range(2, 6)
        )
        days = ", ".join(
            f"CASE WHEN NOT {cut} THEN dis{i} WHEN {i} = k THEN escalated - e{i} "
            f"WHEN {i} = k + 1 THEN DATE '{as_of}' - escalated WHEN {i} > k + 1 THEN NULL ELSE dis{i} END "
            f"AS dis{i}"
            for i in range(1, 6)
        )
        self.run(f"""CREATE OR REPLACE TABLE cw AS
            WITH cut AS (
                SELECT cw.*, esc.k, esc.escalated
                FROM cw LEFT JOIN (SELECT * FROM esc WHERE drawn AND NOT is_later) AS esc USING (n)
            ), rewritten AS (
                SELECT * EXCLUDE (k, escalated) REPLACE (
                    CASE WHEN {cut} THEN k + 1 ELSE jlen END AS jlen, {stages}, {days},
                    CASE WHEN {cut} THEN 'escalation' ELSE last_stage END AS last_stage,
                    CASE WHEN {cut} THEN escalated ELSE last_entered END AS last_entered,
                    CASE WHEN {cut} THEN DATE '{as_of}' - escalated ELSE elapsed END AS elapsed)
                FROM cut
            )
            SELECT * REPLACE (
                (sum(jlen) OVER (ORDER BY n ROWS UNBOUNDED PRECEDING) - jlen)::BIGINT AS jbase)
            FROM rewritten ORDER BY n""")
        # a signal after the escalation is detected in the new stage
        self.run(f"""UPDATE clean_signals SET journey_stage = {_stage_at("detected")}
            FROM cw WHERE cw.n = clean_signals.n AND cw.n IN (SELECT n FROM esc WHERE drawn AND NOT is_later)""")
        customers, drawn, escalated = self.con.execute(
            "SELECT count(*), count(*) FILTER (drawn), count(*) FILTER (drawn AND NOT is_later) FROM esc"
        ).fetchone()
        self._tally("signal_precedes_escalation", "eligible_customers", customers)
        self._tally("signal_precedes_escalation", "escalations_drawn", drawn)
        self._tally("signal_precedes_escalation", "escalations_written", escalated)

    def _base_interventions(self, as_of: date) -> None:
        s_offset, offset = self.next["S"] - self.scalar("SELECT count(*) FROM clean_signals"), self.next["I"]
        self.run(f"""CREATE OR REPLACE TABLE int0 AS
            WITH anchored AS (
                SELECT *, {offset} + ibase + m + 1 AS num,
                    CASE WHEN m = 0 THEN nsig ELSE 1 + floor(u(n, m, 'anchor') * nsig)::INTEGER END AS a
                FROM cw, range(2) r(m) WHERE m < nint
            ), dated AS (
                SELECT *, {_detected_sql(as_of, "a - 1")} AS detected FROM anchored
            )
            SELECT n, m, num, customer_id, account_value, sbase, a,
                least(a, 1 + floor(u(n, m, 'ncite') * 3)::INTEGER) AS t, detected,
                {_stage_at("detected")} AS journey_stage
            FROM dated""")
        cited = f"list_transform(range(a - t + 1, a + 1), lambda r: sid({s_offset} + sbase + r))"
        generated = f"least(DATE '{as_of}', detected + floor(u(n, m, 'gen') * 4)::INTEGER)"
        self._interventions_from("int0", cited, generated, offset)

    def _interventions_from(self, source: str, cited: str, generated: str, offset: int) -> None:
        """Clean interventions from ``source`` (n, m, num, customer_id, account_value, journey_stage, ...)."""
        orphan_base = self.top["S"] - self.orphans["S"]
        self.run(f"""CREATE OR REPLACE TABLE clean_interventions AS
            WITH drawn AS (
                SELECT *, {cited} AS cited, {generated} AS generated,
                    round(0.25 + 0.7 * u(num, 0, 'conf'), 2) AS confidence,
                    u(num, 0, 'oref') < {self.rates.orphan_signal_refs} AS oref
                FROM {source}
            ), acted AS (
                SELECT *, CASE WHEN confidence < 0.4 THEN 'monitor_only'
                               ELSE pick(u(num, 0, 'act'), stage_actions(journey_stage)) END AS recommended_action
                FROM drawn
            )
            SELECT num - {offset} - 1 AS tix, num AS ord_a, 0 AS ord_b, num, n, account_value, generated, oref,
                iid(num) AS intervention_id, customer_id, journey_stage, recommended_action, confidence,
                recommended_action IN ('onboarding_specialist_call', 'support_manager_followup')
                    OR (account_value > 50000 AND confidence >= 0.6) AS requires_human_approval,
                CASE WHEN oref THEN list_concat(cited[1:len(cited) - 1], [sid({orphan_base} - (num - {offset}))])
                     ELSE cited END AS triggered_by_signals,
                80 + floor(u(num, 0, 'lat') * 400)::INTEGER AS evaluation_latency_ms,
                iso(generated) AS generated_at
            FROM acted""")
        count = self.scalar("SELECT count(*) FROM clean_interventions")
        self.orphans["S"] += count
        self.next["I"] = offset + count

    def _outcomes_from(self, source: str, as_of: date, day: int) -> None:
        offset = self.next["O"]
        measured = (
            "generated"
            if day
            else f"least(DATE '{as_of}', generated + 1 + floor(u(num, 0, 'lag') * 10)::INTEGER)"
        )
        draw, harmed, risk_rise = self._outcome_sql()
        self.run(f"""CREATE OR REPLACE TABLE clean_outcomes AS
            WITH kept AS (
                SELECT *, row_number() OVER (ORDER BY num) AS rn, {harmed} AS harmed,
                    CASE WHEN {harmed} THEN '{FAILURE_OUTCOME}' ELSE {draw} END AS outcome
                FROM {source} WHERE u(num, {day}, 'miss') >= {self.rates.missing_outcomes}
            ), valued AS (
                SELECT *, outcome IN ('resolved', 'partial_improvement', 'improved_engagement') AS success,
                    u(num, 0, 'oval') AS x
                FROM kept
            )
            SELECT rn - 1 AS tix, {offset} + rn AS ord_a, 0 AS ord_b,
                oid({offset} + rn) AS outcome_id, intervention_id, customer_id, outcome,
                CASE WHEN success THEN 1 + floor(x * 14)::INTEGER END AS resolution_time_days,
                (CASE WHEN success THEN floor(x * 3) WHEN outcome = 'no_response' THEN -floor(x * 2)
                      ELSE 0 END)::INTEGER AS csat_delta,
                CASE {risk_rise} WHEN success THEN -round(0.05 + 0.3 * x, 2) WHEN outcome = 'no_response'
                     THEN round(0.1 * x, 2) ELSE 0.0 END AS churn_risk_delta,
                CASE WHEN success THEN (100 * round(account_value * (0.02 + 0.15 * x) / 100))::BIGINT
                     ELSE 0 END AS estimated_revenue_saved,
                u(num, 0, 'ovr') < CASE WHEN requires_human_approval THEN 0.12 ELSE 0.03 END AS human_override,
                iso({measured}) AS measured_at, harmed
            FROM valued""")
        self.next["O"] = offset + self.scalar("SELECT count(*) FROM clean_outcomes")
        if "confidence_predicts_success" in self.injections:
            drawn = self.scalar("SELECT count(*) FILTER (NOT harmed) FROM clean_outcomes")
            self._tally("confidence_predicts_success", "outcomes_drawn_by_confidence", drawn)
        if "harmful_action" in self.injections:
            harmed = self.scalar("SELECT count(*) FILTER (harmed) FROM clean_outcomes")
            self._tally("harmful_action", "outcomes_made_harmful", harmed)

    def _tally(self, injection: str, what: str, count: int) -> None:
        counts = self.injected[injection]
        counts[what] = counts.get(what, 0) + count

    def _outcome_sql(self) -> tuple[str, str, str]:
        """The outcome draw, the harmful_action condition and its churn_risk_delta branch (empty without)."""
        x = "u(num, 0, 'out')"
        if "confidence_predicts_success" in self.injections:
            settings = self.injections["confidence_predicts_success"]
            low, high = float(settings["success_at_zero"]), float(settings["success_at_one"])
            p_success = f"least(1.0, greatest(0.0, {low} + {round(high - low, 10)} * confidence))"
            # success, then which success (or which non-success) from the usual draw rescaled to its class
            x = (
                f"(CASE WHEN u(num, 0, 'inj_conf') < {p_success} THEN {SUCCESS_SHARE} * {x} "
                f"ELSE {SUCCESS_SHARE} + {round(1 - SUCCESS_SHARE, 10)} * {x} END)"
            )
        draw = (
            "CASE "
            + " ".join(f"WHEN {x} < {bound} THEN '{outcome}'" for outcome, bound in OUTCOME_BOUNDS)
            + f" ELSE '{FAILURE_OUTCOME}' END"
        )
        if "harmful_action" not in self.injections:
            return draw, "false", ""
        settings = self.injections["harmful_action"]
        harmed = (
            f"(recommended_action = {literal(settings['action'])} "
            f"AND u(num, 0, 'inj_harm') < {float(settings['failure_probability'])})"
        )
        low, high = float(settings["churn_risk_rise_min"]), float(settings["churn_risk_rise_max"])
        # rounded to 2 places like every churn_risk_delta, never below the (positive) minimum
        rise = f"WHEN harmed THEN greatest({low}, round({low} + {round(high - low, 10)} * x, 2))"
        return draw, harmed, rise

    def _init_state(self) -> None:
        s_first = self.next["S"] - self.scalar("SELECT count(*) FROM clean_signals")
        # escalate_on: the day a signal_precedes_escalation move is due (drawn in the base set, due later)
        scheduled = "NULL::DATE"
        if "signal_precedes_escalation" in self.injections:
            scheduled = "(SELECT escalated FROM esc WHERE esc.n = cw.n AND drawn AND is_later)"
        self.run(f"""CREATE OR REPLACE TABLE st AS
            SELECT n, customer_id, account_value, dominant, last_stage AS stage, last_entered AS entered,
                CASE WHEN nsig > 0 THEN {s_first} + sbase + nsig END AS last_snum,
                {scheduled} AS escalate_on
            FROM cw""")
        self.run("DROP TABLE cw0")

    # ----------------------------------------------------------------------------------- daily increments

    def day(self, day: int) -> dict[str, Any]:
        as_of = self.base_as_of + timedelta(days=day)
        invalid = self._day_journey(day, as_of)
        conflicting = self._day_signals(day)
        self._day_interventions(day, as_of)
        self._outcomes_from("clean_interventions", as_of, day=day)
        self.run("""UPDATE st SET last_snum = clean_signals.num
            FROM clean_signals WHERE st.n = clean_signals.n""")
        imperfections = {
            "invalid_transitions": {"journey_state_log": invalid},
            "conflicting_signals": {"signals": conflicting},
        }
        return self._finish(day=day, as_of=as_of, imperfections=imperfections)

    def _day_journey(self, day: int, as_of: date) -> int:
        first, new = self.next["C"] + 1, max(1, round(self.share * self.base_counts["customers"]))
        existing = self.scalar("SELECT count(*) FROM st")
        moves = max(0.0, self.share * self.base_counts["journey_state_log"] - new)
        p_move = min(1.0, moves / max(existing, 1))
        self.run(f"""CREATE OR REPLACE TABLE new_c AS
            WITH attrs AS ({_customer_attributes(f"(SELECT range AS n FROM range({first}, {first + new}))")})
            SELECT *, {_customer_values()} FROM attrs""")
        self.run(f"""CREATE OR REPLACE TABLE clean_customers AS
            SELECT n - {first} AS tix, n AS ord_a, 0 AS ord_b, customer_id, segment, account_value,
                0 AS tenure_months, risk_tier
            FROM new_c""")
        invalid = f"u(n, {day}, 'inv') < {self.rates.invalid_transitions}"
        moves = f"u(n, {day}, 'move') < {p_move}"
        if "signal_precedes_escalation" in self.injections:
            # a due signal_precedes_escalation move replaces the customer's ordinary move of the day
            due = f"coalesce(escalate_on <= DATE '{as_of}' AND stage <> 'escalation', false)"
            self.run(f"""CREATE OR REPLACE TABLE moved AS
                SELECT n, customer_id, stage AS previous_stage, {due} AS forced,
                    NOT {due} AND {invalid} AS inv,
                    CASE WHEN {due} THEN 'escalation' WHEN {invalid} THEN invalid_stage(stage, u(n, {day}, 'invs'))
                         ELSE next_stage(stage, u(n, {day}, 'stage')) END AS journey_stage
                FROM st WHERE {due} OR {moves}""")
            forced = self.scalar("SELECT count(*) FILTER (forced) FROM moved")
            self._tally("signal_precedes_escalation", "escalations_written", forced)
            self.run(f"UPDATE st SET escalate_on = NULL WHERE escalate_on <= DATE '{as_of}'")
        else:
            self.run(f"""CREATE OR REPLACE TABLE moved AS
                SELECT n, customer_id, stage AS previous_stage, {invalid} AS inv,
                    CASE WHEN {invalid} THEN invalid_stage(stage, u(n, {day}, 'invs'))
                         ELSE next_stage(stage, u(n, {day}, 'stage')) END AS journey_stage
                FROM st WHERE {moves}""")
        self.run(f"""CREATE OR REPLACE TABLE clean_journey_state_log AS
            WITH rows AS (
                SELECT n, customer_id, 'onboarding' AS journey_stage, NULL::VARCHAR AS previous_stage FROM new_c
                UNION ALL SELECT n, customer_id, journey_stage, previous_stage FROM moved
            )
            SELECT row_number() OVER (ORDER BY n) - 1 AS tix, n AS ord_a, 0 AS ord_b, customer_id,
                journey_stage, '{as_of}' AS state_entered_at, 0 AS days_in_state, previous_stage
            FROM rows""")
        self.run(f"""UPDATE st SET stage = moved.journey_stage, entered = DATE '{as_of}'
            FROM moved WHERE st.n = moved.n""")
        self.run(f"""INSERT INTO st SELECT n, customer_id, account_value, dominant, 'onboarding',
            DATE '{as_of}', NULL, NULL FROM new_c""")
        self.next["C"] = first + new - 1
        return self.scalar("SELECT count(*) FILTER (inv) FROM moved")

    def _day_signals(self, day: int) -> int:
        offset = self.next["S"]
        p_signal = min(
            1.0, self.share * self.base_counts["signals"] / max(self.scalar("SELECT count(*) FROM st"), 1)
        )
        flip = self.rates.conflicting_signals
        self.run(f"""CREATE OR REPLACE TABLE clean_signals AS
            WITH chosen AS (
                SELECT *, row_number() OVER (ORDER BY n) AS rn,
                    u(n, {day}, 'dconf') < {flip} AS flipped
                FROM st WHERE u(n, {day}, 'dsig') < {p_signal}
            ), typed AS (
                SELECT *, CASE WHEN flipped THEN (CASE dominant WHEN 'positive' THEN 'negative'
                                                 ELSE 'positive' END)
                               ELSE dominant END AS polarity
                FROM chosen
            )
            SELECT rn - 1 AS tix, {offset} + rn AS ord_a, 0 AS ord_b, n, flipped, last_snum, account_value,
                {offset} + rn AS num, sid({offset} + rn) AS signal_id, customer_id,
                signal_type(polarity, stage, u(n, {day}, 'stype')) AS signal_type,
                round(0.1 + 0.9 * u(n, {day}, 'sstr'), 2) AS signal_strength,
                iso(DATE '{self.base_as_of}' + {day}) AS detected_at, stage AS journey_stage,
                CASE WHEN u(n, {day}, 'ssrc') < 0.25 THEN 'manual' ELSE 'automated' END AS source
            FROM typed""")
        self.next["S"] = offset + self.scalar("SELECT count(*) FROM clean_signals")
        if "signal_precedes_escalation" in self.injections:
            self._schedule_escalations(day)
        return self.scalar("SELECT count(*) FILTER (flipped AND last_snum IS NOT NULL) FROM clean_signals")

    def _schedule_escalations(self, day: int) -> None:
        """signal_precedes_escalation in a daily increment: each of today's signals of the type schedules, with
        the configured probability, the customer's move to escalation 1..max_lag_days days later (unless one
        is already due)."""
        settings = self.injections["signal_precedes_escalation"]
        chosen = f"""st.n = clean_signals.n AND st.escalate_on IS NULL
            AND clean_signals.signal_type = {literal(settings["signal_type"])}
            AND u(clean_signals.n, {day}, 'inj_esc') < {float(settings["probability"])}"""
        drawn = self.scalar(f"SELECT count(*) FROM st, clean_signals WHERE {chosen}")
        self._tally("signal_precedes_escalation", "escalations_drawn", drawn)
        lag_days = int(settings["max_lag_days"])
        lag = f"1 + floor(u(clean_signals.n, {day}, 'inj_esc_lag') * {lag_days})::INTEGER"
        self.run(f"""UPDATE st SET escalate_on = DATE '{self.base_as_of}' + {day} + {lag}
            FROM clean_signals WHERE {chosen}""")

    def _day_interventions(self, day: int, as_of: date) -> None:
        offset = self.next["I"]
        signalled = max(self.scalar("SELECT count(*) FROM clean_signals"), 1)
        p_int = min(1.0, self.share * self.base_counts["interventions"] / signalled)
        self.run(f"""CREATE OR REPLACE TABLE int0 AS
            SELECT n, 0 AS m, customer_id, account_value, journey_stage, last_snum, num AS snum,
                {offset} + row_number() OVER (ORDER BY n) AS num
            FROM clean_signals WHERE u(n, {day}, 'dint') < {p_int}""")
        cited = "list_transform(list_filter([last_snum, snum], lambda x: x IS NOT NULL), lambda x: sid(x))"
        self._interventions_from("int0", cited, f"DATE '{as_of}'", offset)

    # -------------------------------------------------------------------------- imperfections and output

    def _finish(self, day: int, as_of: date, imperfections: dict[str, dict[str, int]]) -> dict[str, Any]:
        clean = {feed: self.scalar(f"SELECT count(*) FROM clean_{feed}") for feed in FEEDS}
        kept = {feed: self._kept(feed, day) for feed in FEEDS}
        imperfections["missing_outcomes"] = {
            "interventions": self.scalar(
                f"SELECT count(*) FROM clean_interventions WHERE {kept['interventions']} AND intervention_id "
                f"NOT IN (SELECT intervention_id FROM clean_outcomes WHERE {kept['outcomes']})"
            )
        }
        imperfections["orphan_signal_refs"] = {
            "interventions": self.scalar(
                f"SELECT count(*) FILTER (oref AND {kept['interventions']}) FROM clean_interventions"
            )
        }
        if "volume_drop" in self.injections.on_day(day):
            self._count_kept_imperfections(kept, imperfections)
        self.written = dict.fromkeys(FEEDS, 0)
        for feed in FEEDS:
            for case, count in self._build_output(feed, day, clean[feed]).items():
                imperfections.setdefault(case, {})[feed] = count
            if kept[feed] != "true":
                clean[feed] = self.scalar(f"SELECT count(*) FROM clean_{feed} WHERE {kept[feed]}")
        self._check_id_bands()
        rows = dict(self.written)
        ordered = {name: imperfections.get(name, {}) for name in GeneratorRates.names()}
        return {
            "day": day,
            "as_of_date": as_of.isoformat(),
            "rows": rows,
            "clean_rows": clean,
            "imperfections": ordered,
            "expected": _expected(ordered),
        }

    # ----------------------------------------------------------- daily-increment injections (one day's files)

    def _keep_share(self, feed: str, day: int) -> float | None:
        settings = self.injections.on_day(day).get("volume_drop")
        return float(settings["keep_share"]) if settings and settings["feed"] == feed else None

    def _kept(self, feed: str, day: int) -> str:
        """volume_drop: the condition that a clean record of the day is written (``true`` without it)."""
        keep = self._keep_share(feed, day)
        return "true" if keep is None else self._chosen(f"clean_{feed}", day, f"inj_keep_{feed}", keep)

    def _chosen(self, table: str, day: int, salt: str, share: float) -> str:
        """The condition that a record of ``table`` (by ``tix``) is among round(share x records) of them,
        the ones with the lowest draws ``u(tix, day, salt)``: an exact count, deterministic from the seed."""
        count = _count(share, self.scalar(f"SELECT count(*) FROM {table}"))
        return f"tix IN (SELECT tix FROM {table} ORDER BY u(tix, {day}, '{salt}'), tix LIMIT {count})"

    def _count_kept_imperfections(
        self, kept: Mapping[str, str], imperfections: dict[str, dict[str, int]]
    ) -> None:
        """volume_drop: the day's invalid transitions and conflicting signals among the records written."""
        if kept["journey_state_log"] != "true":
            imperfections["invalid_transitions"]["journey_state_log"] = self.scalar(
                "SELECT count(*) FROM clean_journey_state_log JOIN moved ON ord_a = moved.n "
                f"WHERE moved.inv AND {kept['journey_state_log']}"
            )
        if kept["signals"] != "true":
            imperfections["conflicting_signals"]["signals"] = self.scalar(
                "SELECT count(*) FILTER (flipped AND last_snum IS NOT NULL "
                f"AND {kept['signals']}) FROM clean_signals"
            )

    def _rewrites(self, feed: str, day: int, kept: str) -> dict[str, str | None]:
        """null_burst and segment_shift: field overrides for the day's clean records (and their exact
        duplicates, which stay exact); tallies what they did among the records written."""
        active = self.injections.on_day(day)
        rewrites: dict[str, str | None] = {}
        burst = active.get("null_burst")
        if burst and burst["feed"] == feed:
            field = burst["field"]
            drawn = self._chosen(f"clean_{feed}", day, f"inj_null_{feed}_{field}", float(burst["share"]))
            rewrites[field] = f"CASE WHEN {drawn} THEN NULL ELSE {field} END"
            nulls, already = self.con.execute(
                f"SELECT count(*) FILTER ({drawn}), count(*) FILTER ({drawn} AND {field} IS NULL) "
                f"FROM clean_{feed} WHERE {kept}"
            ).fetchone()
            self._tally("null_burst", "nulls_written", nulls)
            self._tally("null_burst", "already_null", already)
        shift = active.get("segment_shift")
        if shift and feed == "customers":
            label = segment_labels()[shift["segment"]]
            drawn = self._chosen(f"clean_{feed}", day, "inj_segment", float(shift["share"]))
            rewrites["segment"] = f"CASE WHEN {drawn} THEN {literal(label)} ELSE segment END"
            shifted, changed = self.con.execute(
                f"SELECT count(*) FILTER ({drawn}), count(*) FILTER ({drawn} AND segment <> {literal(label)}) "
                f"FROM clean_{feed} WHERE {kept}"
            ).fetchone()
            self._tally("segment_shift", "customers_shifted", shifted)
            self._tally("segment_shift", "segments_changed", changed)
        return rewrites

    def _build_output(self, feed: str, day: int, clean: int) -> dict[str, int]:
        """Define view ``out_<feed>``: clean records, exact duplicates and every extra record of the feed.

        The daily-increment injections of ``day`` act here, on what is written only: volume_drop keeps a share
        of the records (a clean record with its exact duplicate, a duplicate-key pair as one), null_burst and
        segment_shift rewrite a field of the clean records. The counts returned are of the records written."""
        table = f"clean_{feed}"
        kept = self._kept(feed, day)
        rec = _rec_expr(feed, self._rewrites(feed, day, kept))
        duplicated = f"u(tix, {day}, 'dup_{feed}') < {self.rates.exact_duplicates}"
        dropping = kept != "true"
        keep_share = self._keep_share(feed, day) or 0.0
        parts = [
            f"SELECT ord_a, ord_b, 0 AS ord_c, {rec} AS rec FROM {table}"
            + (f" WHERE {kept}" if dropping else ""),
            f"SELECT ord_a, ord_b, 1 AS ord_c, {rec} AS rec FROM {table} WHERE {duplicated}"
            + (f" AND {kept}" if dropping else ""),
        ]
        counts = {"exact_duplicates": self.scalar(f"SELECT count(*) FROM {table} WHERE {duplicated}")}
        unfiltered = clean + counts["exact_duplicates"]  # what would be written without volume_drop
        if dropping:
            kept_clean, counts["exact_duplicates"] = self.con.execute(
                f"SELECT count(*) FILTER ({kept}), count(*) FILTER ({duplicated} AND {kept}) FROM {table}"
            ).fetchone()
            self.written[feed] += kept_clean + counts["exact_duplicates"]
        else:
            self.written[feed] += unfiltered
        # Extra records are drawn as without volume_drop (the same ids, templates and counts), then filtered.
        draws_sql, cases = [], []
        for index, (case, (overrides, copies)) in enumerate(CASES[feed].items()):
            count = counts[case] = _count(getattr(self.rates, case), clean)
            if count:
                first = 2 + self.extras  # ord_c of the case's first record: e_seq = (ord_c - first) // copies
                draws, part = self._extras(feed, index, overrides, copies, count, clean)
                draws_sql.append(
                    f"""SELECT {index} AS e_case, seq AS e_seq, ver AS e_ver,
                        u(seq, {day}, 'x_{case}_{feed}') AS e_x,
                        (floor(u(0, {day}, 't_{case}_{feed}') * {clean})::BIGINT + seq * {_stride(clean)})
                            % {clean} AS tix
                    FROM range({draws}) r(seq), range({copies}) v(ver)"""
                )
                cases.append((case, part, copies, overrides.get(KEY_FIELD[feed], "") is DROP, first))
        if draws_sql:
            # One join picks every template of the feed; each case then reads its few rows.
            self.run(
                f"CREATE OR REPLACE TABLE extras_{feed} AS SELECT * FROM ("
                + " UNION ALL ".join(draws_sql)
                + f") JOIN {table} USING (tix)"
            )
        for case, part, copies, drops_key, first in cases:
            if drops_key:
                counts[case] = self.scalar(f"SELECT count(*) FROM {part}")
            if dropping:
                # the same share of each case's records; a duplicate-key pair is kept or dropped as one
                unfiltered += counts[case] * copies
                pair = f"(ord_c - {first}) // {copies}"
                part = f"""(SELECT * FROM ({part})
                    QUALIFY dense_rank() OVER (ORDER BY u({pair}, {day}, 'inj_keep_{case}_{feed}'), {pair})
                        <= {_count(keep_share, counts[case])})"""
                counts[case] = self.scalar(f"SELECT count(*) FROM {part}") // copies
            parts.append(part)
            self.written[feed] += counts[case] * copies
        if dropping:
            self._tally("volume_drop", "records_dropped", unfiltered - self.written[feed])
            self._tally("volume_drop", "records_written", self.written[feed])
        # A view: the records are rendered once, while COPY writes them.
        self.run(f"CREATE OR REPLACE VIEW out_{feed} AS " + "\nUNION ALL\n".join(parts))
        return counts

    def _extras(
        self, feed: str, index: int, overrides: dict[str, str | None], copies: int, count: int, clean: int
    ) -> tuple[int, str]:
        """Reserve ids for one case's extra records; return how many templates to draw and the case's SELECT."""
        kind = KEY_KIND[feed]
        fills = {
            "new": f"{kind.lower()}id({self.next[kind] + 1} + e_seq)",
            "orphan_c": f"cid({self.top['C'] - self.orphans['C']} - e_seq)",
            "orphan_i": f"iid({self.top['I'] - self.orphans['I']} - e_seq)",
        }
        resolved = {
            field: None if value is DROP else value.format(**fills) for field, value in overrides.items()
        }
        # Records without their key can collide in content (two SMB customers alike); draw twice as many
        # templates and keep the first `count` distinct ones, so none becomes an accidental exact duplicate.
        drops_key = overrides.get(KEY_FIELD[feed], "") is DROP
        draws = min(clean, 2 * count) if drops_key else count
        self.next[kind] += draws  # fresh keys are reserved even when the case drops the key
        if ORPHAN_C in overrides.values():
            self.orphans["C"] += draws
        if ORPHAN_I in overrides.values():
            self.orphans["I"] += draws
        ord_c = f"{2 + self.extras} + e_seq * {copies} + e_ver"
        self.extras += draws * copies
        sql = f"""SELECT ord_a, ord_b, {ord_c} AS ord_c, {_rec_expr(feed, resolved)} AS rec
            FROM extras_{feed} WHERE e_case = {index}"""
        if drops_key:
            sql = f"""(SELECT * FROM ({sql}) QUALIFY row_number() OVER (PARTITION BY rec ORDER BY ord_c) = 1
                ORDER BY ord_c LIMIT {count})"""
        return draws, sql

    def _check_id_bands(self) -> None:
        for kind in ("C", "S", "I"):
            if self.next[kind] >= self.top[kind] - self.orphans[kind]:
                raise RuntimeError(f"{kind} ids ran into the orphan id band; widen the id format")

    def _last_key(self, feed: str) -> tuple[int, int, int] | None:
        return self.con.execute(
            f"SELECT ord_a, ord_b, ord_c FROM out_{feed} ORDER BY ord_a DESC, ord_b DESC, ord_c DESC LIMIT 1"
        ).fetchone()

    def write(self, directory: Path, fmt: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for feed in FEEDS:
            path = literal(directory / f"{feed}.json")
            self.run(
                f"COPY ({_lines_sql(f'out_{feed}', fmt, self._last_key(feed))}) TO {path} "
                "(FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x01')"
            )


def _lines_sql(table: str, fmt: str, last: tuple[int, int, int] | None) -> str:
    """One output line per record in a fixed order; ``json`` lays them out as COPY's JSON array does.

    ``last`` is the sort key of the last record (the one without a trailing comma); knowing it up front
    keeps the array layout down to the single sort that ndjson needs too.
    """
    order = "ORDER BY ord_a, ord_b, ord_c"
    if fmt == "ndjson":
        return f"SELECT rec FROM {table} {order}"
    is_last = "false" if last is None else f"(ord_a, ord_b, ord_c) = ({last[0]}, {last[1]}, {last[2]})"
    return f"""SELECT line FROM (
        SELECT -1 AS ord_a, 0 AS ord_b, 0 AS ord_c, '[' AS line
        UNION ALL
        SELECT ord_a, ord_b, ord_c, chr(9) || rec || CASE WHEN {is_last} THEN '' ELSE ',' END FROM {table}
        UNION ALL
        SELECT 9223372036854775807, 0, 0, ']'
    ) {order}"""


def _expected(imperfections: Mapping[str, Mapping[str, int]]) -> dict[str, Any]:
    """What staging should report, per feed: rejected records by reason and exact duplicates collapsed."""
    rejected: dict[str, dict[str, int]] = {}
    for feed in FEEDS:
        reasons = {reason: imperfections[reason].get(feed, 0) for reason in REJECT_CASES}
        reasons["duplicate_key_conflict"] = 2 * imperfections["duplicate_key_conflicts"].get(feed, 0)
        rejected[feed] = reasons
    return {
        "rejected_rows": rejected,
        "collapsed_duplicates": dict(imperfections["exact_duplicates"]),
        "unknown_signal_types_kept": imperfections["unknown_signal_type"].get("signals", 0),
    }


def _sum_manifests(days: list[dict[str, Any]]) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    rows = {feed: sum(day["rows"][feed] for day in days) for feed in FEEDS}
    totals: dict[str, dict[str, int]] = {}
    for name in GeneratorRates.names():
        feeds = {feed for day in days for feed in day["imperfections"][name]}
        totals[name] = {
            feed: sum(day["imperfections"][name].get(feed, 0) for day in days) for feed in sorted(feeds)
        }
    return rows, totals


def generate(
    out_dir: Path,
    customers: int,
    seed: int,
    fmt: str = "json",
    days: int = 0,
    rates: GeneratorRates | None = None,
    *,
    as_of: date | None = None,
    injections: Injections | None = None,
) -> dict[str, Any]:
    """Write the five feeds (and manifest.json) into ``out_dir``; return the manifest.

    ``injections`` adds known relationships (generator_defaults.yml, ``injections:``); without them the output
    is the same as before injections existed, byte for byte, manifest included.

    With ``days`` > 0 the base set goes to ``out_dir/day_000`` and each daily increment (only that day's new
    records, dated one day later than the previous one) to ``out_dir/day_001`` ... ``day_{days:03d}``.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if customers < 1 or days < 0:
        raise ValueError("customers must be >= 1 and days >= 0")
    if not -(2**63) <= seed < 2**63:
        raise ValueError("seed must fit in a signed 64-bit integer")
    settings = _load_settings()
    rates = rates or GeneratorRates(**settings["rates"])
    as_of = as_of or date.fromisoformat(str(settings["as_of_date"]))
    out_dir = Path(out_dir)
    injections = injections or Injections()
    injections.check_days(days)
    generator = _Generator(
        seed, rates, as_of, customers, days, float(settings["daily_new_share"]), injections
    )
    try:
        day_manifests = [generator.base(customers)]
        generator.write(out_dir / "day_000" if days else out_dir, fmt)
        for day in range(1, days + 1):
            day_manifests.append(generator.day(day))
            generator.write(out_dir / f"day_{day:03d}", fmt)
    finally:
        generator.close()
    rows, totals = _sum_manifests(day_manifests)
    manifest: dict[str, Any] = {
        "generator": "journey generate",
        "seed": seed,
        "customers": customers,
        "format": fmt,
        "days": days,
        "as_of_date": as_of.isoformat(),
        "final_as_of_date": (as_of + timedelta(days=days)).isoformat(),
        "rates": rates.as_dict(),
        "rows": rows,
        "imperfections": totals,
    }
    if injections:
        manifest["injections"] = {
            name: {"settings": settings, "counts": generator.injected[name]}
            for name, settings in injections.as_dict().items()
        }
    if days:
        for day_manifest in day_manifests:
            day_manifest["dir"] = f"day_{day_manifest['day']:03d}"
        manifest["daily"] = day_manifests
    else:
        manifest.update({key: day_manifests[0][key] for key in ("clean_rows", "expected")})
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


# --------------------------------------------------------------------------------------------------- CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--customers", type=int, required=True, help="number of customers in the base set")
    parser.add_argument("--seed", type=int, default=42, help="seed; the same seed gives byte-identical files")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument(
        "--format", choices=FORMATS, default="json", help="JSON array or newline-delimited JSON"
    )
    parser.add_argument("--days", type=int, default=0, help="also write this many daily increments")
    parser.add_argument("--as-of", type=date.fromisoformat, default=None, help="as-of date of the base set")
    parser.add_argument(
        "--rate",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=f"override an imperfection rate (repeatable); names: {', '.join(GeneratorRates.names())}",
    )
    parser.add_argument(
        "--inject",
        default="",
        metavar="NAME[,NAME...]",
        help=f"inject known relationships (off by default); names: {', '.join(INJECTIONS)}",
    )
    parser.add_argument(
        "--inject-setting",
        action="append",
        default=[],
        metavar="NAME.SETTING=VALUE",
        help="override an injection's setting from generator_defaults.yml (repeatable)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        rates = GeneratorRates.from_yaml().with_overrides(parse_rate_overrides(args.rate))
        injections = Injections.from_yaml(
            args.inject.split(","), parse_injection_settings(args.inject_setting)
        )
        manifest = generate(
            args.out,
            args.customers,
            args.seed,
            args.format,
            args.days,
            rates,
            as_of=args.as_of,
            injections=injections,
        )
    except ValueError as error:
        print(f"journey generate: {error}", file=sys.stderr)
        return 2
    rows = ", ".join(f"{feed} {count}" for feed, count in manifest["rows"].items())
    injected = f"; injected {', '.join(manifest['injections'])}" if "injections" in manifest else ""
    print(f"wrote {args.out} ({rows}){injected}; manifest: {Path(args.out) / 'manifest.json'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="journey generate", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
