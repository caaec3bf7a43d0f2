"""The policy's tables (``policy.interventions``, ``policy.decision_log``, ``policy.configs``), as declared ONCE in
``models/staging/_policy__sources.yml``: their columns, types (``data_type``, DuckDB's spelling) and descriptions.

dbt reads that file for the sources and their staging models (the empty fallback relation of ``source_or_empty``
casts to the declared types); this module reads it for the Python side: the DDL the write-back runs
(:meth:`Table.ddl`), the column lists, and the Arrow schema of the decision inputs, which is the declared struct
type of ``decision_log.inputs`` (:func:`decision_inputs_schema`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb
import pyarrow as pa
import yaml

__all__ = [
    "SCHEMA",
    "SOURCES_FILE",
    "Column",
    "Table",
    "decision_inputs_schema",
    "policy_table",
    "policy_tables",
]

SCHEMA = "policy"
SOURCES_FILE = Path(__file__).resolve().parents[1] / "models" / "staging" / "_policy__sources.yml"


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    description: str


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]

    @property
    def qualified(self) -> str:
        return f"{SCHEMA}.{self.name}"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.qualified} declares no column {name!r} ({SOURCES_FILE.name})")

    def body(self) -> str:
        """The column definitions of a ``create table``: ``name type, ...``."""
        return ",\n    ".join(f"{column.name} {column.data_type}" for column in self.columns)

    def ddl(self, qualified: str | None = None) -> str:
        return f"create table if not exists {qualified or self.qualified} (\n    {self.body()}\n)"


@cache
def policy_tables() -> dict[str, Table]:
    """Every table of source ``policy``, by name, in the declared column order."""
    document = yaml.safe_load(SOURCES_FILE.read_text(encoding="utf-8"))
    (source,) = [s for s in document["sources"] if s["name"] == SCHEMA]
    tables: dict[str, Table] = {}
    for table in source["tables"]:
        columns = tuple(
            Column(c["name"], " ".join(str(c["data_type"]).split()), " ".join(str(c["description"]).split()))
            for c in table["columns"]
        )
        tables[table["name"]] = Table(table["name"], columns)
    return tables


def policy_table(name: str) -> Table:
    return policy_tables()[name]


def _plain(type_: pa.DataType) -> pa.DataType:
    """DuckDB names a list's element field 'l'; Arrow's default is 'item'."""
    return pa.list_(_plain(type_.value_type)) if pa.types.is_list(type_) else type_


@cache
def decision_inputs_schema() -> pa.Schema:
    """The Arrow schema of one decision-input row: the fields of ``decision_log.inputs``'s declared struct."""
    data_type = policy_table("decision_log").column("inputs").data_type
    with duckdb.connect() as con:
        struct = (
            con.execute(f"select cast(null as {data_type}) as inputs").to_arrow_table().schema.field(0).type
        )
    return pa.schema([pa.field(field.name, _plain(field.type)) for field in struct])
