"""Customer Journey Orchestrator policy layer: versioned config and the pure decision core.

    from policy.config import load_config
    from policy.decide import DECISION_INPUT_SCHEMA, DECISION_OUTPUT_SCHEMA, decide

    config = load_config()               # policy/policy.yml, validated; config.config_hash stamps outputs
    decisions = decide(inputs, config)   # pyarrow.Table in, pyarrow.Table out: one row per input row

The submodules are not re-exported here on purpose: a package attribute named ``decide`` would shadow the
``policy.decide`` module (``import policy.decide as m`` would then bind the function).
"""

from policy.config import PolicyConfig, PolicyConfigError, load_config

__all__ = ["PolicyConfig", "PolicyConfigError", "load_config"]
