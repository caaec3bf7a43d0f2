"""The feed schema for the Python side: the var `feeds` of dbt_project.yml, its one declaration.

dbt reads the same var through the macros journey_feeds and feed_fields (macros/feeds.sql)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml

from journey.project import PROJECT_DIR

__all__ = ["FeedSpec", "feed_specs"]


@dataclass(frozen=True)
class FeedSpec:
    """One feed: its name, business key fields and field specs (dicts as declared)."""

    name: str
    key: tuple[str, ...]
    fields: tuple[dict[str, Any], ...]

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(field["name"] for field in self.fields)


@cache
def feed_specs() -> dict[str, FeedSpec]:
    """{feed: FeedSpec}, in the declared order (customers, journey_state_log, signals, interventions, outcomes)."""
    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return {
        name: FeedSpec(name=name, key=tuple(spec["key"]), fields=tuple(spec["fields"]))
        for name, spec in project["vars"]["feeds"].items()
    }
