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
"""

from __future__ import annotations

import datetime as dt
import hashlib

import duckdb
import pyarrow as pa

from policy.duck import query_arrow

__all__ = ["HOLDOUT_HEX_DIGITS", "decision_id_of", "intervention_id_of", "is_holdout_of", "row_hashes"]

HOLDOUT_HEX_DIGITS = 13  # 52 bits: exact in a double, so the comparison with share * 2**52 is exact
_HOLDOUT_SCALE = float(2 ** (4 * HOLDOUT_HEX_DIGITS))

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
