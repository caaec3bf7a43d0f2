"""The reference values the policy shares with the dbt project (one copy: the seeds in ``seeds/ref_*.csv``).

The policy config (``policy/policy.yml``) holds only what is the policy's own: the catalog, thresholds, the
confidence model, approval rules, suppression, holdout. The values the dbt KPIs and scores also use live in the
seeds and are read from there:

- ``ref_actions``: the action vocabulary, ``is_high_touch`` (high-touch actions need human approval) and
  ``unit_cost``;
- ``ref_signal_sources``: ``source_weight`` of ``automated`` and ``manual`` signals (the confidence model's trust);
- ``ref_kpi_parameters``: ``human_review_cost``;
- ``ref_risk_bands`` and ``ref_stage_slas``: the band and stage vocabularies, which policy.yml's catalog must
  match exactly (in order).

Where they are read from:

- ``journey policy`` reads them from the database it decides on (``reference.ref_*``, loaded by ``dbt seed``):
  the values the marts in that database were computed with, so the policy and the KPIs can never disagree even
  when a CSV was edited and not yet seeded. A database without the seeds is an error.
- :func:`load_reference_csv` reads the CSVs (the default for :func:`policy.config.load_config` without a
  database: unit tests, config checks).

Either way the values become part of the validated :class:`~policy.config.PolicyConfig`, so they are in its
``config_hash``: a change of a unit cost or a source weight changes the hash stamped on every decision.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

__all__ = [
    "DEFAULT_SEEDS_DIR",
    "ReferenceData",
    "ReferenceError",
    "load_reference_csv",
    "load_reference_db",
]

DEFAULT_SEEDS_DIR = Path(__file__).resolve().parents[1] / "seeds"


class ReferenceError(ValueError):
    """A reference table is missing, unreadable or invalid; the message names the table and the value."""


@dataclass(frozen=True, slots=True)
class ReferenceData:
    """The shared reference values the policy depends on (validated)."""

    source: str  # where they came from, for messages (not part of the config hash)
    actions: tuple[str, ...]  # ref_actions order
    high_touch_actions: tuple[str, ...]
    unit_costs: Mapping[str, float]
    source_weights: Mapping[str, float]  # automated, manual
    human_review_cost: float
    risk_bands: tuple[str, ...]  # by band_order
    stages: tuple[str, ...]  # by stage_order


_TRUE = {"true", "t", "1", "yes"}
_FALSE = {"false", "f", "0", "no"}


def _bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ReferenceError(f"{where}: expected true or false, got {value!r}")


def _number(value: Any, where: str, low: float = 0.0, high: float | None = None) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ReferenceError(f"{where}: expected a number, got {value!r}") from None
    if not number >= low or (high is not None and number > high):  # NaN fails too
        bound = f"in [{low:g}, {high:g}]" if high is not None else f">= {low:g}"
        raise ReferenceError(f"{where}: must be {bound}, got {value!r}")
    return number


def build_reference(
    source: str,
    actions: list[Mapping[str, Any]],
    signal_sources: list[Mapping[str, Any]],
    kpi_parameters: list[Mapping[str, Any]],
    risk_bands: list[Mapping[str, Any]],
    stages: list[Mapping[str, Any]],
) -> ReferenceData:
    """Validate raw reference rows (dicts keyed by column name) into :class:`ReferenceData`."""
    names: list[str] = []
    high_touch: list[str] = []
    costs: dict[str, float] = {}
    for row in actions:
        name = str(row["recommended_action"]).strip()
        if not name or name in costs:
            raise ReferenceError(f"{source}: ref_actions: empty or duplicate recommended_action {name!r}")
        names.append(name)
        costs[name] = _number(row["unit_cost"], f"{source}: ref_actions.unit_cost[{name}]")
        if _bool(row["is_high_touch"], f"{source}: ref_actions.is_high_touch[{name}]"):
            high_touch.append(name)
    if not names:
        raise ReferenceError(f"{source}: ref_actions is empty")

    weights = {
        str(row["source"]).strip(): _number(
            row["source_weight"], f"{source}: ref_signal_sources.source_weight[{row['source']}]", 0.0, 1.0
        )
        for row in signal_sources
    }
    for needed in ("automated", "manual"):
        if needed not in weights:
            raise ReferenceError(f"{source}: ref_signal_sources has no row for source {needed!r}")

    parameters = {str(row["parameter"]).strip(): row["value"] for row in kpi_parameters}
    if "human_review_cost" not in parameters:
        raise ReferenceError(f"{source}: ref_kpi_parameters has no human_review_cost")
    review_cost = _number(parameters["human_review_cost"], f"{source}: ref_kpi_parameters.human_review_cost")

    def ordered(rows: list[Mapping[str, Any]], key: str, order: str, table: str) -> tuple[str, ...]:
        try:
            ranked = sorted((int(row[order]), str(row[key]).strip()) for row in rows)
        except (TypeError, ValueError) as exc:
            raise ReferenceError(f"{source}: {table}.{order}: expected integers ({exc})") from None
        return tuple(name for _, name in ranked)

    return ReferenceData(
        source=source,
        actions=tuple(names),
        high_touch_actions=tuple(high_touch),
        unit_costs=costs,
        source_weights={"automated": weights["automated"], "manual": weights["manual"]},
        human_review_cost=review_cost,
        risk_bands=ordered(risk_bands, "risk_band", "band_order", "ref_risk_bands"),
        stages=ordered(stages, "journey_stage", "stage_order", "ref_stage_slas"),
    )


REFERENCE_TABLES = (
    "ref_actions",
    "ref_signal_sources",
    "ref_kpi_parameters",
    "ref_risk_bands",
    "ref_stage_slas",
)


def load_reference_csv(seeds_dir: str | Path | None = None) -> ReferenceData:
    """Read the reference values from the seed CSVs (default: the project's ``seeds/``)."""
    folder = Path(seeds_dir) if seeds_dir is not None else DEFAULT_SEEDS_DIR
    tables: dict[str, list[dict[str, str]]] = {}
    for table in REFERENCE_TABLES:
        path = folder / f"{table}.csv"
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                tables[table] = list(csv.DictReader(handle))
        except OSError as exc:
            raise ReferenceError(f"{path}: cannot read reference table: {exc.strerror or exc}") from exc
    try:
        return build_reference(str(folder), *(tables[t] for t in REFERENCE_TABLES))
    except KeyError as exc:
        raise ReferenceError(f"{folder}: a reference CSV lacks column {exc}") from None


def load_reference_db(con: duckdb.DuckDBPyConnection, schema: str = "reference") -> ReferenceData:
    """Read the reference values from the seeded tables ``<schema>.ref_*`` of a built database."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for table in REFERENCE_TABLES:
        try:
            cursor = con.execute(f'select * from "{schema}"."{table}"')
        except duckdb.CatalogException as exc:
            raise ReferenceError(
                f"{schema}.{table} is missing from the database: run `dbt seed` (or `dbt build`) first"
            ) from exc
        columns = [description[0] for description in cursor.description]
        tables[table] = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    try:
        return build_reference(f"database schema {schema}", *(tables[t] for t in REFERENCE_TABLES))
    except KeyError as exc:
        raise ReferenceError(f"database schema {schema}: a reference table lacks column {exc}") from None
