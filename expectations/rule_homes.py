"""Every rule of the project, with its one home and its one severity.

Per-table rules (keys, not null, accepted values, ranges) live in dbt: enforced contract constraints
(home ``dbt constraint``: not_null and check constraints on the table models, which DuckDB checks as it writes
the table; severity error, a violation fails the model) or, where DuckDB cannot enforce them (views, incremental
tables, seeds, relationships, keys: a PRIMARY KEY's index costs more than the unique test), data tests (home
``dbt``); plus the record-level rejects of staging. Cross-table and business rules live in the Great
Expectations suites (``expectations/suites.py``, severities in ``severity.yml``), home ``ge``. ``rules`` reads
both: dbt's parsed manifest (``target/manifest.json``) and ``SUITES``. ``overlaps`` lists the rules declared in both homes (the test
``tests/test_rule_homes.py`` requires none), and ``render`` writes the table of ``docs/rules.md``::

    python -m expectations.rule_homes target/manifest.json > docs/rules.md

(``tests/test_rule_homes.py`` fails when docs/rules.md is not what ``render`` makes from a fresh parse.)
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from expectations.config import DqConfig, load_config
from expectations.suites import SUITES, SuiteSpec

# The kinds of rule both homes can express, by family: a (table, column, family) may have only one home.
GE_FAMILIES: Mapping[str, str] = {
    "not_null": "not_null",
    "unique": "unique",
    "compound_unique": "unique",
    "in_set": "accepted_values",
    "between": "range",
}
DBT_FAMILIES: Mapping[str, str] = {
    "not_null": "not_null",
    "unique": "unique",
    "unique_combination": "unique",
    "primary_key": "unique",
    "primary_key_not_null": "not_null",  # a primary_key test also fails on a null in a key column
    "accepted_values": "accepted_values",
    "relationships": "accepted_values",
    "expression_is_true": "range",
}
# Enforced contract constraints, by family; a check constraint is a range unless it lists accepted values.
CONSTRAINT_FAMILIES: Mapping[str, str] = {
    "not_null": "not_null",
    "unique": "unique",
    "primary_key": "unique",
    "check": "range",
}
HOMES = ("dbt constraint", "dbt", "ge")
DBT_SEVERITIES = {"error": "error", "warn": "warning"}
_ACCEPTED_VALUES = re.compile(r"^\s*\w+\s+in\s*\(", re.IGNORECASE)


@dataclass(frozen=True)
class Rule:
    table: str
    column: str | None
    kind: str
    home: str  # "dbt constraint", "dbt" or "ge"
    severity: str  # "error" or "warning"
    name: str  # the dbt test's name, the constraint's (see dbt_rules) or the GE expectation id
    expression: str | None = None  # a row-level rule's SQL expression (expression_is_true, check)

    @property
    def sort_key(self) -> tuple[str, str, str, str, str]:
        return (self.table, self.column or "", self.kind, self.home, self.name)

    @property
    def family(self) -> str:
        if self.home == "dbt constraint":
            if self.kind == "check" and self.column and _ACCEPTED_VALUES.match(self.expression or ""):
                return "accepted_values"
            return CONSTRAINT_FAMILIES.get(self.kind, self.kind)
        families = GE_FAMILIES if self.home == "ge" else DBT_FAMILIES
        return families.get(self.kind, self.kind)

    @property
    def where(self) -> tuple[str, str | None, str]:
        """What a rule checks: table, column (or columns, comma-separated; None for a table rule), family. A
        row-level expression on no one column is compared by its text (a test and a check constraint holding the
        same expression are one rule in two homes)."""
        if self.family == "range" and self.column is None:
            if self.expression:
                return (self.table, None, "row: " + " ".join(self.expression.lower().split()))
            return (self.table, None, self.kind)
        return (self.table, self.column, self.family)


def _relation(node: Mapping[str, Any]) -> str:
    name = node.get("alias") or node.get("identifier") or node["name"]
    return f"{node['schema']}.{name}".lower()


def dbt_rules(manifest: Mapping[str, Any]) -> list[Rule]:
    """Every data test of the dbt project (generic and singular) and every constraint of an enforced contract."""
    relations = {
        unique_id: _relation(node)
        for unique_id, node in [*manifest["nodes"].items(), *manifest["sources"].items()]
        if node["resource_type"] in {"model", "seed", "snapshot", "source"}
    }
    rules: list[Rule] = []
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test":
            metadata = node.get("test_metadata") or {}
            kwargs = metadata.get("kwargs") or {}
            parents = [
                parent
                for parent in (node.get("attached_node"), *node["depends_on"]["nodes"])
                if parent in relations
            ]
            # a column test declared at the model level (`column_name:` among its arguments) names it there
            column = node.get("column_name") or kwargs.get("column_name")
            if metadata.get("name") in {"unique_combination", "primary_key"}:
                column = ",".join(kwargs.get("columns") or [])
            rules.append(
                Rule(
                    table=relations[parents[0]] if parents else "(none)",
                    column=column or None,
                    kind=metadata.get("name") or "singular",
                    home="dbt",
                    severity=DBT_SEVERITIES[str(node["config"]["severity"]).lower()],
                    name=node["name"],
                    expression=kwargs.get("expression"),
                )
            )
            if metadata.get("name") == "primary_key":  # the same node holds the key columns' not-null rules
                rules += [
                    Rule(
                        table=rules[-1].table,
                        column=key,
                        kind="primary_key_not_null",
                        home="dbt",
                        severity=rules[-1].severity,
                        name=f"{node['name']} ({key} not null)",
                    )
                    for key in kwargs.get("columns") or []
                ]
        elif node["resource_type"] == "model" and (node.get("contract") or {}).get("enforced"):
            rules += constraint_rules(node)
    return rules


def constraint_rules(node: Mapping[str, Any]) -> list[Rule]:
    """The constraints of a model with an enforced contract, column-level and model-level (severity error: the
    database refuses the write, the model fails). Named ``constraint <type> <model>.<column>``, a check with its
    expression after a colon."""
    found: list[tuple[str | None, Mapping[str, Any]]] = [
        (column, constraint)
        for column, spec in node["columns"].items()
        for constraint in spec.get("constraints") or ()
    ]
    for constraint in node.get("constraints") or ():
        columns = constraint.get("columns") or []
        found.append((",".join(columns) or None, constraint))
    rules: list[Rule] = []
    for column, constraint in found:
        kind = constraint["type"]
        expression = constraint.get("expression") if kind == "check" else None
        name = f"constraint {kind} {node['name']}" + (f".{column}" if column else "")
        rules.append(
            Rule(
                table=_relation(node),
                column=column,
                kind=kind,
                home="dbt constraint",
                severity="error",
                name=name + (f": {expression}" if expression else ""),
                expression=expression,
            )
        )
    return rules


def ge_rules(suites: Mapping[str, SuiteSpec] = SUITES, config: DqConfig | None = None) -> list[Rule]:
    """Every expectation of the suites, with its severity from severity.yml."""
    config = config or load_config()
    rules: list[Rule] = []
    for suite in suites.values():
        for spec in suite.expectations:
            column = spec.kwargs.get("column")
            if spec.kind == "compound_unique":
                column = ",".join(spec.kwargs["column_list"])
            rules.append(
                Rule(
                    table=spec.table,
                    column=column,
                    kind=spec.kind,
                    home="ge",
                    severity=str(config.severity_of(spec.id)),
                    name=spec.id,
                )
            )
    return rules


def rules(
    manifest: Mapping[str, Any], suites: Mapping[str, SuiteSpec] = SUITES, config: DqConfig | None = None
) -> list[Rule]:
    """Every rule, dbt's and Great Expectations', sorted by table, column, kind."""
    return sorted([*dbt_rules(manifest), *ge_rules(suites, config)], key=lambda rule: rule.sort_key)


def overlaps(all_rules: Iterable[Rule]) -> dict[tuple[str, str | None, str], list[Rule]]:
    """(table, column, family) -> its rules, for every one declared in both homes."""
    by_where: dict[tuple[str, str | None, str], list[Rule]] = {}
    for rule in all_rules:
        by_where.setdefault(rule.where, []).append(rule)
    return {where: found for where, found in by_where.items() if len({rule.home for rule in found}) > 1}


def render(all_rules: Iterable[Rule]) -> str:
    """docs/rules.md: the table of every rule with its home and severity (generated; never edit by hand)."""
    listed = sorted(all_rules, key=lambda rule: rule.sort_key)
    homes = {home: sum(rule.home == home for rule in listed) for home in HOMES}
    lines = [
        "# Every rule, its home and its severity",
        "",
        "Generated by `expectations/rule_homes.py` from dbt's manifest and `expectations/suites.py` "
        "(`python -m expectations.rule_homes target/manifest.json > docs/rules.md`); "
        "`tests/test_rule_homes.py` fails when this file is out of date. Do not edit it by hand.",
        "",
        "Per-table rules (keys, not null, accepted values, ranges) are in dbt: enforced contract constraints "
        "(`dbt constraint`: not_null and check on the table models, checked by DuckDB as it writes the table; on "
        "Spark by the query of `macros/cross_db/spark_constraints.sql`) where DuckDB enforces them, data tests "
        "(`dbt`) where it cannot (views, incremental tables, seeds, relationships, unique keys), plus staging's "
        "record-level rejects (the feed schema in `dbt_project.yml`); cross-table and business rules are Great Expectations "
        "expectations (`ge`, severities in `expectations/severity.yml`). No rule is in two homes.",
        "",
        f"{homes['dbt constraint']} dbt constraints, {homes['dbt']} dbt data tests, "
        f"{homes['ge']} Great Expectations expectations.",
        "",
        "| table | column | kind | home | severity | name |",
        "|---|---|---|---|---|---|",
    ]
    for rule in listed:
        column = rule.column or ""
        lines.append(
            f"| {rule.table} | {column} | {rule.kind} | {rule.home} | {rule.severity} | `{rule.name}` |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m expectations.rule_homes path/to/manifest.json", file=sys.stderr)
        return 2
    manifest = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    sys.stdout.write(render(rules(manifest)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
