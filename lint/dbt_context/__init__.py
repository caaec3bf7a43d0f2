"""What the project's macros need from dbt, for sqlfluff's jinja templater (.sqlfluff ``library_path``).

sqlfluff puts every public name of this module into the template context, next to its own dbt builtins
(``ref``, ``source``, ``config``, ``this``, ``is_incremental``, ``return``) and the macros of ``macros/``.
Rendering stays a pure function of the files: no database, no dbt project parse, no environment variables.

- ``adapter.dispatch(name, namespace)`` finds ``duckdb__<name>``, then ``default__<name>``, among the macros
  (the DuckDB target is the one linted);
- ``var`` returns what dbt_project.yml sets (the feed schema ``feeds``), else its default (the run settings all
  default to null there); ``env_var`` returns its default;
- ``execute`` is false, as in dbt's parse: macros that query the database (``source_or_empty``,
  ``check_feeds``) take their parse-time branch;
- ``graph`` holds the sources as dbt's graph does (``graph.sources``: source_name, name and the declared columns
  of every table of ``models/**/_*__sources.yml``), so that ``source_column_names`` renders the columns
  (``graph.nodes`` is empty);
- ``dbt.<macro>`` renders what dbt-duckdb renders for the cross-database macros the models use;
- the macros of macros/statistics.sql (not loaded: .sqlfluff ``exclude_macros_from_path``) render as a call of
  a function of the same name, e.g. ``normal_quantile(statistical_power)``. Their expansions are nested
  arithmetic, up to 25 KB of SQL in one model, whose parse took a third of the whole lint; sqlfluff reports
  nothing inside templated code but a parse error, and the dbt builds of the tests run that SQL anyway;
- ``{{ return(...) }}`` ends the macro it is in, as in dbt, also when a macro calls another macro of the same
  file: sqlfluff wraps only the macros it hands to templates, and Jinja calls a macro of the same file
  directly, so the value returned by e.g. ``parse_date`` (macros/stage_feed.sql) would end the outermost
  macro instead (a whole model rendered as one ``coalesce(...)``). Importing this module makes Jinja's
  ``Context.call`` catch a macro's return, as dbt's own macro wrapper does.

Speed: sqlfluff compiles every file of ``macros/`` again for each file it lints (twice: macros may call
macros of other files), a third of the lint's time here. Importing this module also keeps the compiled code
of each template source for the process (``Environment.compile`` is a pure function of the source and the
environment's syntax settings, which are the same for every file).
"""

from __future__ import annotations

import functools
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml
from jinja2 import Environment, Undefined, pass_context
from jinja2.runtime import Context, Macro
from sqlfluff.core.templaters.builtins.dbt import MacroReturn

ADAPTER_TYPE = "duckdb"


def _return_aware_call(original: Any) -> Any:
    def call(self: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(obj, Macro):
            return original(self, obj, *args, **kwargs)
        try:
            return original(self, obj, *args, **kwargs)
        except MacroReturn as returned:
            return returned.value

    call.return_aware = True  # type: ignore[attr-defined]
    return call


# sqlfluff imports this module again for every file it renders: patch once.
if not getattr(Context.call, "return_aware", False):
    Context.call = _return_aware_call(Context.call)  # type: ignore[method-assign]


def _cached_compile(original: Any) -> Any:
    cache: dict[tuple[Any, ...], Any] = {}

    def compile(
        self: Environment,
        source: Any,
        name: str | None = None,
        filename: str | None = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> Any:
        if not isinstance(source, str):
            return original(self, source, name, filename, raw, defer_init)
        key = (
            source,
            name,
            filename,
            raw,
            defer_init,
            type(self),
            tuple(sorted(self.extensions)),
            self.block_start_string,
            self.block_end_string,
            self.variable_start_string,
            self.variable_end_string,
            self.comment_start_string,
            self.comment_end_string,
            self.line_statement_prefix,
            self.line_comment_prefix,
            self.trim_blocks,
            self.lstrip_blocks,
            self.newline_sequence,
            self.keep_trailing_newline,
            self.optimized,
            self.autoescape,
        )
        if key not in cache:
            cache[key] = original(self, source, name, filename, raw, defer_init)
        return cache[key]

    compile.compile_cache = cache  # type: ignore[attr-defined]
    return compile


if not hasattr(Environment.compile, "compile_cache"):
    Environment.compile = _cached_compile(Environment.compile)  # type: ignore[method-assign]


@pass_context
def _dispatch(context: Context, macro_name: str, macro_namespace: str | None = None) -> Any:
    for candidate in (f"{ADAPTER_TYPE}__{macro_name}", f"default__{macro_name}"):
        found = context.resolve(candidate)
        if not isinstance(found, Undefined):
            return found
    raise LookupError(f"adapter.dispatch: no {ADAPTER_TYPE}__ or default__ macro for {macro_name!r}")


def _raise_compiler_error(message: str) -> None:
    raise RuntimeError(message)


@functools.cache
def _project_vars() -> dict[str, Any]:
    project = Path(__file__).resolve().parents[2] / "dbt_project.yml"
    return yaml.safe_load(project.read_text(encoding="utf-8")).get("vars") or {}


@functools.cache
def _graph_sources() -> dict[str, dict[str, Any]]:
    """graph.sources as dbt builds it, from the sources' YAML: {unique_id: {source_name, name, columns}}, the
    columns by name in their declared order."""
    models = Path(__file__).resolve().parents[2] / "models"
    nodes: dict[str, dict[str, Any]] = {}
    for path in sorted(models.rglob("_*__sources.yml")):
        for source in yaml.safe_load(path.read_text(encoding="utf-8")).get("sources") or []:
            for table in source.get("tables") or []:
                nodes[f"source.customer_journey.{source['name']}.{table['name']}"] = {
                    "source_name": source["name"],
                    "name": table["name"],
                    "columns": {column["name"]: dict(column) for column in table.get("columns") or []},
                }
    return nodes


def var(name: str, default: Any = None) -> Any:
    """As in dbt: the var dbt_project.yml sets (e.g. the feed schema `feeds`), else the default."""
    value = _project_vars().get(name)
    return default if value is None else value


def env_var(name: str, default: str = "") -> str:
    return default


def _listagg(
    measure: str,
    delimiter_text: str = "','",
    order_by_clause: str | None = None,
    limit_num: int | None = None,
) -> str:
    ordered = f" {order_by_clause}" if order_by_clause else ""
    if limit_num:
        return f"list_aggr((array_agg({measure}{ordered}))[1:{limit_num}], 'string_agg', {delimiter_text})"
    return f"string_agg({measure}, {delimiter_text}{ordered})"


def _datediff(first_date: str, second_date: str, datepart: str) -> str:
    return f"(date_diff('{datepart}', {first_date}::timestamp, {second_date}::timestamp))"


def _dateadd(datepart: str, interval: object, from_date_or_timestamp: str) -> str:
    unit = datepart.lower()
    if unit == "quarter":
        return f"({from_date_or_timestamp} + (cast({interval} as bigint) * 3) * interval 1 month)"
    if unit == "week":
        return f"({from_date_or_timestamp} + (cast({interval} as bigint) * 7) * interval 1 day)"
    return f"({from_date_or_timestamp} + cast({interval} as bigint) * interval 1 {unit})"


def _hash(field: str) -> str:
    return f"md5(cast({field} as text))"


def _date_trunc(datepart: str, date: str) -> str:
    return f"date_trunc('{datepart}', {date})"


adapter = SimpleNamespace(dispatch=_dispatch)
exceptions = SimpleNamespace(raise_compiler_error=_raise_compiler_error)
target = SimpleNamespace(type=ADAPTER_TYPE, name=ADAPTER_TYPE, schema="main", database="journey")
flags = SimpleNamespace(WHICH="compile")
execute = False
graph = {"sources": _graph_sources(), "nodes": {}}
dbt = SimpleNamespace(
    listagg=_listagg,
    datediff=_datediff,
    dateadd=_dateadd,
    hash=_hash,
    date_trunc=_date_trunc,
    type_string=lambda: "text",
)


def _opaque_call(name: str, *, quoted: tuple[int, ...] = ()) -> Any:
    """A stand-in for a macro of macros/statistics.sql: `name(arguments)`, the arguments at the positions
    `quoted` as string literals (the others are SQL expressions)."""

    def render(*arguments: object) -> str:
        parts = [
            f"'{argument}'" if index in quoted else str(argument) for index, argument in enumerate(arguments)
        ]
        return f"{name}({', '.join(parts)})"

    return render


normal_cdf = _opaque_call("normal_cdf")
normal_quantile = _opaque_call("normal_quantile")
t_quantile = _opaque_call("t_quantile")
t_two_sided_p_value = _opaque_call("t_two_sided_p_value")
chi_square_1df_p_value = _opaque_call("chi_square_1df_p_value")
wilson_lower = _opaque_call("wilson_lower")
wilson_upper = _opaque_call("wilson_upper")
json_text_at = _opaque_call("json_text_at", quoted=(1,))
