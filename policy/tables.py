"""The policy's tables (``policy.interventions``, ``policy.decision_log``, ``policy.configs``), as declared ONCE in
``models/staging/_policy__sources.yml``: their columns, types (``data_type``, DuckDB's spelling) and descriptions.

dbt reads that file for the sources and their staging models (the empty fallback relation of ``source_or_empty``
casts to the declared types); this module reads it for the Python side: the DDL the write-back runs
(:meth:`Table.ddl`), the column lists, the select list of a row written into a table (:meth:`Table.select_list`),
Arrow schemas of declared columns (:meth:`Table.arrow_schema`, e.g. ``policy.decide.DECISION_OUTPUT_SCHEMA``),
and the Arrow schema of the decision inputs, which is the declared struct type of ``decision_log.inputs``
(:func:`decision_inputs_schema`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
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

    def select_list(
        self,
        values: Mapping[str, str],
        available: Collection[str],
        *,
        missing_as_null: bool = False,
        spell: Callable[[str], str] = str,
        indent: int = 4,
    ) -> str:
        """The select list of a row of this table, every declared column in the declared order: the expression
        ``values`` gives for it (``expression as name``), else the column of that name when the rows read have it
        (``available``), else -- with ``missing_as_null`` -- a null cast to its declared type (spelled for the
        engine by ``spell``), one a line after the first, ``indent`` spaces in. A column with none of these
        raises ``KeyError``, as does a value for a column the table does not declare."""
        items = []
        for column in self.columns:
            if column.name in values:
                items.append(f"{values[column.name]} as {column.name}")
            elif column.name in available:
                items.append(column.name)
            elif missing_as_null:
                items.append(f"cast(null as {spell(column.data_type)}) as {column.name}")
            else:
                raise KeyError(
                    f"{self.qualified}.{column.name}: no value for the declared column ({SOURCES_FILE.name})"
                )
        unknown = sorted(set(values) - set(self.names))
        if unknown:
            raise KeyError(f"{self.qualified} declares no column {', '.join(unknown)} ({SOURCES_FILE.name})")
        return (",\n" + " " * indent).join(items)

    def arrow_schema(self, exclude: Collection[str] = (), not_null: Collection[str] = ()) -> pa.Schema:
        """The Arrow schema of the declared columns less ``exclude``, in the declared order, with the declared
        types as DuckDB hands them to Arrow; the columns in ``not_null`` are not nullable."""
        columns = [column for column in self.columns if column.name not in exclude]
        unknown = sorted(set(exclude) - set(self.names)) + sorted(set(not_null) - {c.name for c in columns})
        if unknown:
            raise KeyError(f"{self.qualified}: no declared column {', '.join(unknown)} ({SOURCES_FILE.name})")
        types = _arrow_types(tuple((column.name, column.data_type) for column in columns))
        return pa.schema(
            [
                pa.field(column.name, type_, nullable=column.name not in not_null)
                for column, type_ in zip(columns, types, strict=True)
            ]
        )


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


def _arrow_types(columns: tuple[tuple[str, str], ...]) -> list[pa.DataType]:
    """The Arrow types of declared column types (name, DuckDB type), as DuckDB hands them to Arrow."""
    casts = ", ".join(f"cast(null as {data_type}) as {name}" for name, data_type in columns)
    with duckdb.connect() as con:
        schema = con.execute(f"select {casts}").to_arrow_table().schema
    return [_plain(field.type) for field in schema]


@cache
def decision_inputs_schema() -> pa.Schema:
    """The Arrow schema of one decision-input row: the fields of ``decision_log.inputs``'s declared struct."""
    (struct,) = _arrow_types((("inputs", policy_table("decision_log").column("inputs").data_type),))
    return pa.schema([pa.field(field.name, _plain(field.type)) for field in struct])
