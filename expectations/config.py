"""Load ``severity.yml`` (each expectation id's severity, the suites' parameters) and the policy thresholds.

The policy guardrails use the thresholds the policy step itself uses, read from ``policy/policy.yml``
(never copied here): they become the ``policy_*`` parameters in ``POLICY_PARAMS``. When that file does
not exist, the expectations that need them are skipped with a note.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

DEFAULT_CONFIG_PATH = Path(__file__).with_name("severity.yml")
DEFAULT_POLICY_PATH = Path(__file__).resolve().parent.parent / "policy" / "policy.yml"
# suite parameter -> its key path in policy/policy.yml
POLICY_PARAMS: Mapping[str, tuple[str, ...]] = {
    "policy_high_value_account_value": ("approval", "high_value_account_value"),
    "policy_high_risk_score": ("approval", "high_risk_score"),
    "policy_confidence_floor": ("confidence", "floor"),
    "policy_cooldown_days": ("suppression", "cooldown_days"),
}


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class DqConfigError(ValueError):
    """severity.yml is malformed or does not match the declared suites."""


@dataclass(frozen=True)
class DqConfig:
    severities: Mapping[str, Severity]
    params: Mapping[str, Any] = field(default_factory=dict)
    suite_of: Mapping[str, str] = field(default_factory=dict)

    @property
    def max_offending_keys(self) -> int:
        return int(self.params.get("max_offending_keys", 20))

    def severity_of(self, expectation_id: str) -> Severity:
        try:
            return self.severities[expectation_id]
        except KeyError:
            raise DqConfigError(f"expectation {expectation_id!r} has no severity in severity.yml") from None

    def check_covers(self, declared_suites: Mapping[str, str]) -> None:
        """Every declared id (id -> suite) has a severity under its suite, and no undeclared id has one."""
        declared = set(declared_suites)
        missing = sorted(declared - set(self.severities))
        unknown = sorted(set(self.severities) - declared)
        misplaced = sorted(
            f"{eid} (under {self.suite_of[eid]}, declared in {suite})"
            for eid, suite in declared_suites.items()
            if eid in self.suite_of and self.suite_of[eid] != suite
        )
        problems = []
        if misplaced:
            problems.append(f"listed under the wrong suite: {', '.join(misplaced)}")
        if missing:
            problems.append(f"no severity for: {', '.join(missing)}")
        if unknown:
            problems.append(f"severity for unknown expectation ids: {', '.join(unknown)}")
        if problems:
            raise DqConfigError("severity.yml does not match expectations/suites.py: " + "; ".join(problems))


def load_policy_params(path: Path) -> dict[str, float]:
    """The ``policy_*`` parameters from the policy config; {} when the file does not exist."""
    if not path.exists():
        return {}
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DqConfigError(f"cannot read {path}: {exc}") from exc
    params: dict[str, float] = {}
    for name, keys in POLICY_PARAMS.items():
        value: Any = raw
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise DqConfigError(f"{path}: {'.'.join(keys)} must be a number (the policy guardrails use it)")
        params[name] = value
    return params


def load_config(path: Path | None = None, policy_path: Path | None = DEFAULT_POLICY_PATH) -> DqConfig:
    """severity.yml at ``path`` plus the policy thresholds at ``policy_path`` (None: none)."""
    path = path or DEFAULT_CONFIG_PATH
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DqConfigError(f"cannot read {path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise DqConfigError(f"{path}: expected a mapping at the top level")
    severities: dict[str, Severity] = {}
    suite_of: dict[str, str] = {}
    for suite, entries in (raw.get("severities") or {}).items():
        if not isinstance(entries, dict):
            raise DqConfigError(f"{path}: severities.{suite} must map expectation ids to error|warning")
        for expectation_id, value in entries.items():
            if expectation_id in severities:
                raise DqConfigError(f"{path}: {expectation_id!r} is listed twice")
            try:
                severities[expectation_id] = Severity(str(value).lower())
                suite_of[expectation_id] = str(suite)
            except ValueError:
                raise DqConfigError(
                    f"{path}: severities.{suite}.{expectation_id} is {value!r}; use error or warning"
                ) from None
    params = raw.get("params") or {}
    if not isinstance(params, dict):
        raise DqConfigError(f"{path}: params must be a mapping")
    clash = sorted(set(params) & set(POLICY_PARAMS))
    if clash:
        raise DqConfigError(f"{path}: {', '.join(clash)} come from the policy config; remove them here")
    if policy_path is not None:
        params = {**params, **load_policy_params(policy_path)}
    return DqConfig(severities=severities, params=params, suite_of=suite_of)


def load_checked_config(policy_path: Path | None = None) -> DqConfig:
    """severity.yml with the thresholds of ``policy_path`` (default policy/policy.yml), checked against the
    declared suites: what every run of the suites uses (raises DqConfigError)."""
    from expectations.suites import declared_ids

    config = load_config(policy_path=policy_path or DEFAULT_POLICY_PATH)
    config.check_covers(declared_ids())
    return config
