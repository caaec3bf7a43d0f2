"""Every config file a run reads, validated before any stage runs (`journey run`'s preflight).

The files are read by the code that uses them (policy/config.py for policy/policy.yml and the reference values
it takes from the seeds, expectations/config.py for severity.yml); this module only calls those loaders early and
turns their errors into one ConfigProblem whose message names the file, the key and what is allowed. The
policy file first: its own validator names a bad key best (the data-quality guardrails read a few of its values).
"""

from __future__ import annotations

from pathlib import Path


class ConfigProblem(ValueError):
    """A config file is missing, unreadable or invalid; the message says which file, key and value."""


def check_configs(*, policy: bool = True, policy_config: Path | None = None) -> None:
    """Load every config file as the stages will; raise ConfigProblem on the first problem."""
    from expectations.config import DqConfigError, load_checked_config

    if policy:
        from policy.config import PolicyConfigError
        from policy.config import load_config as load_policy_config

        try:
            load_policy_config(policy_config)
        except PolicyConfigError as exc:
            raise ConfigProblem(str(exc)) from exc
    try:
        load_checked_config(policy_config)
    except DqConfigError as exc:
        raise ConfigProblem(str(exc)) from exc
