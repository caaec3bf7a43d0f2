"""Deterministic per-row hashes of the policy: holdout assignment, intervention ids and decision ids.

Arrow's compute library has no scalar hash kernel, so the column-wise hashing runs in an in-memory DuckDB over
the Arrow columns (vectorized, no Python loop per row, no I/O). The hash is MD5 of UTF-8 text: not for
security, but standard, so DuckDB, Spark (``md5``) and Python (``hashlib``) all recompute the same values. The
single-row reference functions below are the specification; the tests check that both agree.

- holdout:          int(md5(customer_id || '|' || salt)[0:13], 16) < share * 2**52
- intervention_id:  'P' || md5(customer_id || '|' || as_of_date || '|' || policy_version)[0:16]
- decision_id:      'D' || md5(customer_id || '|' || as_of_date || '|' || policy_version)[16:32]

as_of_date is written as ISO 'YYYY-MM-DD'. intervention_id and decision_id come from one digest: the decision
about a customer on a day under a policy version, and the intervention that decision may create, are both
stable across reruns. A null customer_id or as_of_date gives null ids and is_holdout false.

- inputs_hash:      md5 of the decision inputs (one ``policy.decision_log.inputs`` struct) as canonical text:
  ``name=value`` per field in the declared order, joined by ``;``. A value is ``~`` when null; a string its
  UTF-8 length in bytes, ``:`` and the string (so no separator inside it is ambiguous); a boolean
  ``true``/``false``; an integer in decimal; a double rounded to 9 decimals, written as the integer number of
  10^-9 units, floor(x * 1e9 + 0.5) (the same IEEE operations in DuckDB and Python, so both get the same integer;
  -0.0 and tiny negatives give 0); a date ISO; a list ``[`` its elements' values joined by ``,`` ``]``. Rounding
  doubles to 9 decimals is what makes the hash stable: the marts' parallel sums differ in the last bit between identical runs,
  which the md5 of the JSON text (the log's old inputs_hash) carried into ~3 % of the rows. (Two runs still
  disagree if a value's noise straddles a 9th-decimal rounding boundary: about one value in 10^7.)
  :func:`inputs_hash_of` is the reference, :func:`inputs_hash_sql` the vectorized DuckDB expression.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Mapping
from typing import Any

import duckdb
import pyarrow as pa

from policy.duck import query_arrow

__all__ = [
    "HOLDOUT_HEX_DIGITS",
    "INPUT_DECIMALS",
    "decision_id_of",
    "decision_log_id_sql",
    "inputs_hash_of",
    "inputs_hash_sql",
    "intervention_id_of",
    "is_holdout_of",
    "row_hashes",
]

HOLDOUT_HEX_DIGITS = 13  # 52 bits: exact in a double, so the comparison with share * 2**52 is exact
_HOLDOUT_SCALE = float(2 ** (4 * HOLDOUT_HEX_DIGITS))
INPUT_DECIMALS = 9  # doubles in inputs_hash: the decimals journey.snapshot compares floats to, as well
_NULL = "~"
_UNITS = float(10**INPUT_DECIMALS)

_SQL = f"""
with digests as (
    select
        md5(customer_id || '|' || $salt) as holdout_digest,
        md5(customer_id || '|' || as_of_date::varchar || '|' || $version) as id_digest
    from input_rows
)

select
    coalesce(
        ('0x' || substr(holdout_digest, 1, {HOLDOUT_HEX_DIGITS}))::bigint::double < $threshold, false
    ) as is_holdout,
    'P' || substr(id_digest, 1, 16) as intervention_id,
    'D' || substr(id_digest, 17, 16) as decision_id
from digests
"""


def row_hashes(
    customer_id: pa.Array | pa.ChunkedArray,
    as_of_date: pa.Array | pa.ChunkedArray,
    *,
    policy_version: str,
    holdout_salt: str,
    holdout_share: float,
    con: duckdb.DuckDBPyConnection | None = None,
) -> tuple[pa.ChunkedArray, pa.ChunkedArray, pa.ChunkedArray]:
    """Return (is_holdout bool, intervention_id string, decision_id string), aligned with the inputs."""
    keys = pa.table(
        {"customer_id": customer_id.cast(pa.string()), "as_of_date": as_of_date.cast(pa.date32())}
    )
    result = query_arrow(
        _SQL,
        keys,
        {"salt": holdout_salt, "threshold": holdout_share * _HOLDOUT_SCALE, "version": policy_version},
        con,
    )
    return result["is_holdout"], result["intervention_id"], result["decision_id"]


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def is_holdout_of(customer_id: str, salt: str, share: float) -> bool:
    """Reference: is this customer in the holdout (control) group?"""
    return int(_md5(f"{customer_id}|{salt}")[:HOLDOUT_HEX_DIGITS], 16) < share * _HOLDOUT_SCALE


def intervention_id_of(customer_id: str, as_of_date: dt.date, policy_version: str) -> str:
    """Reference: the intervention id the policy gives this customer on this day under this version."""
    return "P" + _md5(f"{customer_id}|{as_of_date.isoformat()}|{policy_version}")[:16]


def decision_id_of(customer_id: str, as_of_date: dt.date, policy_version: str) -> str:
    """Reference: the id of the policy's decision about this customer on this day under this version."""
    return "D" + _md5(f"{customer_id}|{as_of_date.isoformat()}|{policy_version}")[16:32]


def _value_text(value: Any, type_: pa.DataType) -> str:
    if value is None:
        return _NULL
    if pa.types.is_string(type_):
        return f"{len(value.encode('utf-8'))}:{value}"
    if pa.types.is_boolean(type_):
        return "true" if value else "false"
    if pa.types.is_integer(type_):
        return str(int(value))
    if pa.types.is_floating(type_):
        return str(math.floor(value * _UNITS + 0.5))
    if pa.types.is_date(type_):
        return value.isoformat()
    if pa.types.is_list(type_):
        return "[" + ",".join(_value_text(item, type_.value_type) for item in value) + "]"
    raise TypeError(f"inputs_hash: no canonical text for type {type_}")


def inputs_hash_of(inputs: Mapping[str, Any], schema: pa.Schema) -> str:
    """Reference: the inputs_hash of one decision-input row (``schema``: policy.decide.DECISION_INPUT_SCHEMA)."""
    text = ";".join(f"{field.name}={_value_text(inputs.get(field.name), field.type)}" for field in schema)
    return _md5(text)


def _value_sql(expression: str, type_: pa.DataType) -> str:
    if pa.types.is_string(type_):
        text = f"strlen({expression})::varchar || ':' || {expression}"
    elif pa.types.is_boolean(type_):
        text = f"case when {expression} then 'true' when not {expression} then 'false' end"
    elif pa.types.is_integer(type_):
        text = f"{expression}::varchar"
    elif pa.types.is_floating(type_):
        text = f"cast(floor({expression} * cast({_UNITS!r} as double) + cast(0.5 as double)) as hugeint)::varchar"
    elif pa.types.is_date(type_):
        text = f"strftime({expression}, '%Y-%m-%d')"
    elif pa.types.is_list(type_):
        item = _value_sql("item", type_.value_type)
        text = f"'[' || array_to_string(list_transform({expression}, item -> {item}), ',') || ']'"
    else:
        raise TypeError(f"inputs_hash: no canonical text for type {type_}")
    return f"coalesce({text}, '{_NULL}')"


def inputs_hash_sql(struct: str, schema: pa.Schema) -> str:
    """The DuckDB expression of inputs_hash over a struct column ``struct`` with the fields of ``schema``."""
    parts: list[str] = []
    for field in schema:
        parts += [f"'{';' if parts else ''}{field.name}='", _value_sql(f"{struct}.{field.name}", field.type)]
    return f"md5(concat({', '.join(parts)}))"  # one concat: a chain of || builds every prefix (2x the time)


def decision_log_id_sql(dq_gate: str) -> str:
    """The DuckDB expression of decision_log_id over a row with decision_id, config_hash, inputs_hash, decision
    and reason (``dq_gate``: the expression of the gate, a column or a parameter):
    'L' || md5(decision_id | config_hash | inputs_hash | dq_gate | decision | reason), a null decision_id as ''."""
    return (
        "'L' || md5(concat_ws('|', coalesce(decision_id, ''), config_hash, inputs_hash, "
        f"{dq_gate}, decision, reason))"
    )
