"""Load and validate the policy config (`policy/policy.yml`) into typed, immutable dataclasses.

Every problem raises :class:`PolicyConfigError` naming the file and the dotted key, e.g.
``policy.yml: confidence.weights.signal_strength: expected a number, got 'high'``. Unknown keys are errors
too, so a typo cannot silently fall back to a default.

:func:`config_hash` is the sha256 of the validated config as canonical JSON (sorted keys, no whitespace);
comments and YAML formatting do not change it. It is stamped on every decision row next to ``policy_version``.

Values shared with the dbt project (the action vocabulary, high-touch flags and unit costs, signal source
weights, the human-review cost, the risk bands and the journey stages) are not in policy.yml: they come from
the reference seeds (see :mod:`policy.reference`), are validated with the file, and are part of the hashed
config. The bands and stages, in their reference order, shape the catalog: every stage lists every band.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from policy.reference import ReferenceData, ReferenceError, load_reference_csv

DEFAULT_CONFIG_PATH = Path(__file__).with_name("policy.yml")
MONITOR_ONLY = "monitor_only"

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "MONITOR_ONLY",
    "ApprovalRules",
    "ConfidenceModel",
    "Costs",
    "HoldoutConfig",
    "PolicyConfig",
    "PolicyConfigError",
    "SuppressionRules",
    "canonical_json",
    "config_hash",
    "config_to_dict",
    "load_config",
    "parse_config",
]


class PolicyConfigError(ValueError):
    """The policy config is missing, unreadable or invalid; the message names the bad key."""


@dataclass(frozen=True, slots=True)
class ConfidenceModel:
    strength_weight: float
    agreement_weight: float
    automated_source_weight: float
    manual_source_weight: float
    conflicting_signals_penalty: float
    incomplete_data_penalty: float
    floor: float


@dataclass(frozen=True, slots=True)
class ApprovalRules:
    high_value_account_value: float
    high_risk_score: float
    high_touch_actions_require_approval: bool
    low_confidence_below: float


@dataclass(frozen=True, slots=True)
class SuppressionRules:
    cooldown_days: int
    max_interventions_per_30_days: int


@dataclass(frozen=True, slots=True)
class HoldoutConfig:
    share: float
    salt: str


@dataclass(frozen=True, slots=True)
class Costs:
    """From the reference seeds: ref_actions.unit_cost and ref_kpi_parameters.human_review_cost."""

    per_action: Mapping[str, float]
    per_human_review: float


@dataclass(frozen=True, slots=True)
class PolicyConfig:
    policy_version: str
    risk_bands: tuple[str, ...]
    stages: tuple[str, ...]
    actions: tuple[str, ...]
    high_touch_actions: tuple[str, ...]
    catalog: Mapping[str, Mapping[str, str]]
    act_min_band: str
    confidence: ConfidenceModel
    approval: ApprovalRules
    suppression: SuppressionRules
    holdout: HoldoutConfig
    costs: Costs
    config_hash: str = field(default="", compare=False)

    def band_rank(self, band: str) -> int:
        return self.risk_bands.index(band)

    @property
    def act_min_rank(self) -> int:
        return self.band_rank(self.act_min_band)


# --- validation helpers


class _Reader:
    """Reads typed values out of nested mappings, naming the dotted key on every error."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, message: str) -> PolicyConfigError:
        where = f"{key}: " if key else ""
        return PolicyConfigError(f"{self.source}: {where}{message}")

    def mapping(self, value: Any, key: str, allowed: set[str] | None = None) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(key, f"expected a mapping, got {_show(value)}")
        for name in value:
            if not isinstance(name, str):
                raise self.fail(key, f"keys must be strings, got {_show(name)}")
        if allowed is not None:
            unknown = sorted(set(value) - allowed)
            if unknown:
                raise self.fail(
                    _join(key, unknown[0]), f"unknown key (allowed: {', '.join(sorted(allowed))})"
                )
            missing = sorted(allowed - set(value))
            if missing:
                raise self.fail(_join(key, missing[0]), "required key is missing")
        return value

    def string(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"expected a non-empty string, got {_show(value)}")
        return value

    def number(
        self,
        value: Any,
        key: str,
        low: float | None = None,
        high: float | None = None,
        *,
        strict_low: bool = False,
    ) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.fail(key, f"expected a number, got {_show(value)}")
        if low is not None and (value < low or (strict_low and value == low)):
            bound = f"> {low}" if strict_low else f">= {low}"
            raise self.fail(key, f"must be {bound}, got {value}")
        if high is not None and value > high:
            raise self.fail(key, f"must be <= {high}, got {value}")
        return float(value)

    def integer(self, value: Any, key: str, low: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"expected an integer, got {_show(value)}")
        if value < low:
            raise self.fail(key, f"must be >= {low}, got {value}")
        return value

    def boolean(self, value: Any, key: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {_show(value)}")
        return value

    def names(self, value: Any, key: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            raise self.fail(key, f"expected a non-empty list of names, got {_show(value)}")
        out = tuple(self.string(item, f"{key}[{i}]") for i, item in enumerate(value))
        duplicates = sorted({name for name in out if out.count(name) > 1})
        if duplicates:
            raise self.fail(key, f"duplicate name {duplicates[0]!r}")
        return out


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


def _show(value: Any) -> str:
    return f"{type(value).__name__} {value!r}" if not isinstance(value, str) else repr(value)


_TOP_KEYS = {
    "policy_version",
    "catalog",
    "thresholds",
    "confidence",
    "approval",
    "suppression",
    "holdout",
}


# Vocabularies the catalog is shaped by, declared once in the reference seeds (read with the other shared values).
_IN_THE_REFERENCE = {
    "risk_bands": "seeds/ref_risk_bands.csv by band_order",
    "stages": "seeds/ref_stage_slas.csv by stage_order",
}


def parse_config(
    raw: Any, source: str = "policy config", reference: ReferenceData | None = None
) -> PolicyConfig:
    """Validate an already-parsed YAML/JSON document and return the typed config (with its hash set).

    ``reference``: the shared reference values (:mod:`policy.reference`); default: the project's seed CSVs.
    """
    if reference is None:
        try:
            reference = load_reference_csv()
        except ReferenceError as exc:
            raise PolicyConfigError(str(exc)) from exc
    r = _Reader(source)
    if isinstance(raw, Mapping):
        for key, home in _IN_THE_REFERENCE.items():
            if key in raw:
                raise r.fail(key, f"not set in the policy config: the project's {key} are {home}")
    doc = r.mapping(raw, "", _TOP_KEYS)

    version = doc["policy_version"]
    if not isinstance(version, str):
        raise r.fail("policy_version", f'expected a quoted string such as "2026.11.1", got {_show(version)}')
    policy_version = r.string(version, "policy_version")

    bands, stages = reference.risk_bands, reference.stages
    actions = reference.actions
    if MONITOR_ONLY not in actions:
        raise PolicyConfigError(f"{reference.source}: ref_actions must include {MONITOR_ONLY!r}")
    high_touch = reference.high_touch_actions

    catalog_raw = r.mapping(doc["catalog"], "catalog", set(stages))
    catalog: dict[str, dict[str, str]] = {}
    for stage in stages:
        row = r.mapping(catalog_raw[stage], f"catalog.{stage}", set(bands))
        catalog[stage] = {}
        for band in bands:
            action = r.string(row[band], f"catalog.{stage}.{band}")
            if action not in actions:
                raise r.fail(
                    f"catalog.{stage}.{band}",
                    f"{action!r} is not in ref_actions ({reference.source}); allowed: {', '.join(actions)}",
                )
            catalog[stage][band] = action

    thresholds = r.mapping(doc["thresholds"], "thresholds", {"act_min_band"})
    act_min_band = r.string(thresholds["act_min_band"], "thresholds.act_min_band")
    if act_min_band not in bands:
        raise r.fail(
            "thresholds.act_min_band",
            f"{act_min_band!r} is not a risk band (seeds/ref_risk_bands.csv); allowed: {', '.join(bands)}",
        )

    conf = r.mapping(doc["confidence"], "confidence", {"weights", "penalties", "floor"})
    weights = r.mapping(conf["weights"], "confidence.weights", {"signal_strength", "signal_agreement"})
    strength_w = r.number(weights["signal_strength"], "confidence.weights.signal_strength", 0, 1)
    agreement_w = r.number(weights["signal_agreement"], "confidence.weights.signal_agreement", 0, 1)
    if not math.isclose(strength_w + agreement_w, 1.0, abs_tol=1e-9):
        raise r.fail("confidence.weights", f"must sum to 1, got {strength_w + agreement_w:g}")
    penalties = r.mapping(
        conf["penalties"], "confidence.penalties", {"conflicting_signals", "incomplete_data"}
    )
    confidence = ConfidenceModel(
        strength_weight=strength_w,
        agreement_weight=agreement_w,
        automated_source_weight=reference.source_weights["automated"],
        manual_source_weight=reference.source_weights["manual"],
        conflicting_signals_penalty=r.number(
            penalties["conflicting_signals"], "confidence.penalties.conflicting_signals", 0, 1
        ),
        incomplete_data_penalty=r.number(
            penalties["incomplete_data"], "confidence.penalties.incomplete_data", 0, 1
        ),
        floor=r.number(conf["floor"], "confidence.floor", 0, 1),
    )

    appr = r.mapping(
        doc["approval"],
        "approval",
        {
            "high_value_account_value",
            "high_risk_score",
            "high_touch_actions_require_approval",
            "low_confidence_below",
        },
    )
    approval = ApprovalRules(
        high_value_account_value=r.number(
            appr["high_value_account_value"], "approval.high_value_account_value", 0
        ),
        high_risk_score=r.number(appr["high_risk_score"], "approval.high_risk_score", 0, 1),
        high_touch_actions_require_approval=r.boolean(
            appr["high_touch_actions_require_approval"], "approval.high_touch_actions_require_approval"
        ),
        low_confidence_below=r.number(appr["low_confidence_below"], "approval.low_confidence_below", 0, 1),
    )

    supp = r.mapping(doc["suppression"], "suppression", {"cooldown_days", "max_interventions_per_30_days"})
    suppression = SuppressionRules(
        cooldown_days=r.integer(supp["cooldown_days"], "suppression.cooldown_days", 0),
        max_interventions_per_30_days=r.integer(
            supp["max_interventions_per_30_days"], "suppression.max_interventions_per_30_days", 1
        ),
    )

    hold = r.mapping(doc["holdout"], "holdout", {"share", "salt"})
    holdout = HoldoutConfig(
        share=r.number(hold["share"], "holdout.share", 0, 0.5),
        salt=r.string(hold["salt"], "holdout.salt"),
    )

    costs = Costs(
        per_action={action: reference.unit_costs[action] for action in actions},
        per_human_review=reference.human_review_cost,
    )

    config = PolicyConfig(
        policy_version=policy_version,
        risk_bands=bands,
        stages=stages,
        actions=actions,
        high_touch_actions=high_touch,
        catalog=catalog,
        act_min_band=act_min_band,
        confidence=confidence,
        approval=approval,
        suppression=suppression,
        holdout=holdout,
        costs=costs,
    )
    object.__setattr__(config, "config_hash", config_hash(config))
    return config


def load_config(path: str | Path | None = None, reference: ReferenceData | None = None) -> PolicyConfig:
    """Read and validate a policy YAML file (default: the packaged ``policy/policy.yml``).

    ``reference``: the shared reference values, e.g. ``load_reference_db(con)``; default: the seed CSVs.
    """
    cfg_path = Path(path) if path is not None else DEFAULT_CONFIG_PATH
    try:
        text = cfg_path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise PolicyConfigError(f"{cfg_path}: cannot read policy config: {exc.strerror or exc}") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyConfigError(f"{cfg_path}: not valid YAML: {exc}") from exc
    return parse_config(raw, source=str(cfg_path), reference=reference)


def config_to_dict(config: PolicyConfig) -> dict[str, Any]:
    """The validated config as plain JSON-able data (without the hash itself)."""
    data = asdict(config)
    data.pop("config_hash", None)
    return data


def canonical_json(config: PolicyConfig) -> str:
    """The validated config as canonical JSON: sorted keys, compact separators, ASCII (kept in policy.configs)."""
    return json.dumps(
        config_to_dict(config), sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )


def config_hash(config: PolicyConfig) -> str:
    """sha256 (hex) of :func:`canonical_json`."""
    return hashlib.sha256(canonical_json(config).encode("utf-8")).hexdigest()
