"""Where the dbt project lives and how its commands are run."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parents[1]
DEFAULT_DB = Path(os.environ.get("JOURNEY_DB", "journey.duckdb"))
DEFAULT_INPUT_DIR = PROJECT_DIR / "seeds"


@dataclass(frozen=True)
class NodeOutcome:
    """One node dbt executed, from its structured results (never from log text)."""

    unique_id: str
    resource_type: str  # model, test, seed, unit_test, source (freshness), ...
    name: str
    status: str  # dbt's: success, pass, warn, fail, error, skipped, runtime error
    seconds: float
    failures: int | None = None  # a test's failing rows
    severity: str | None = None  # a data test's configured severity (error, warn)
    relation: str | None = None  # schema.table the node is about (a test: the model it tests)
    message: str | None = None
    age_s: float | None = None  # source freshness: how far the latest event lies behind as_of_date


@dataclass(frozen=True)
class DbtResult:
    """What one dbt invocation did."""

    returncode: int
    output: str
    # how many nodes of each resource type the command executed, e.g. {"test": 132}
    executed: dict[str, int] = field(default_factory=dict)
    # what failed, one line each, from dbt's structured results (in-process runs only), e.g.
    # "model int_as_of_date (models/intermediate/int_as_of_date.sql): Conversion Error: ..."
    failures: tuple[str, ...] = ()
    # every node the command executed, in dbt's order (in-process runs only)
    nodes: tuple[NodeOutcome, ...] = ()

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def dbt_vars(
    input_dir: Path,
    as_of: str | None,
    load_mode: str | None = None,
    feed_file_pattern: str | None = None,
    extra_vars: dict[str, Any] | None = None,
) -> str:
    """The --vars argument: a mapping (as_of_date null means: latest date in the inputs). load_mode and
    feed_file_pattern are passed only when given (macros/run_settings.sql has their defaults: full,
    '{feed}.json'); extra_vars are added as they are."""
    values: dict[str, Any] = {"input_dir": str(input_dir.resolve()), "as_of_date": as_of or None}
    if load_mode is not None:
        values["load_mode"] = load_mode
    if feed_file_pattern is not None:
        values["feed_file_pattern"] = feed_file_pattern
    values.update(extra_vars or {})
    return json.dumps(values)


def run_dbt(
    args: list[str],
    *,
    db: Path,
    input_dir: Path,
    as_of: str | None = None,
    target_path: Path | None = None,
    echo: bool = True,
    load_mode: str | None = None,
    feed_file_pattern: str | None = None,
    extra_vars: dict[str, Any] | None = None,
) -> DbtResult:
    """Run one dbt command against `db`, reading feeds from `input_dir`: in this process, the run settings as
    environment variables (journey/dbt_session.py, the one way this project runs dbt). extra_vars go to dbt
    as --vars; echo prints dbt's messages as they come."""
    from journey.dbt_session import DbtSession

    session = DbtSession(
        db=db,
        input_dir=input_dir,
        as_of=as_of,
        target_path=target_path,
        load_mode=load_mode,
        feed_file_pattern=feed_file_pattern,
        extra_vars=extra_vars,
        echo=echo,
    )
    return session.invoke(args)
