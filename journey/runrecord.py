"""The run record: inputs with sizes and checksums, stage timings, row counts, outcome — as ops.runs."""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import duckdb

from journey.feeds import feed_specs

FEEDS = tuple(feed_specs())  # the feed schema (dbt_project.yml var `feeds`)

OPS_RUNS_DDL = """
create schema if not exists ops;
create or replace table ops.runs (
    run_id varchar primary key,
    started_at timestamp,
    finished_at timestamp,
    as_of_date date,
    input_dir varchar,
    inputs json,
    stage_timings json,
    row_counts json,
    status varchar,
    exit_code integer,
    message varchar,
    published boolean
);
"""


def file_digest(path: Path, chunk_size: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def describe_inputs(input_dir: Path) -> dict[str, dict[str, Any]]:
    """Size and sha256 of each feed file (missing files are recorded as missing)."""
    inputs: dict[str, dict[str, Any]] = {}
    for feed in FEEDS:
        path = input_dir / f"{feed}.json"
        if path.exists():
            inputs[feed] = {
                "path": str(path.resolve()),
                "bytes": path.stat().st_size,
                "sha256": file_digest(path),
            }
        else:
            inputs[feed] = {"path": str(path.resolve()), "missing": True}
    return inputs


def new_run_id(now: datetime | None = None) -> str:
    moment = now or datetime.now(UTC)
    return moment.strftime("%Y%m%dT%H%M%S%fZ")


@dataclass
class RunRecord:
    run_id: str
    started_at: str
    input_dir: str
    as_of_date: str | None = None
    finished_at: str | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    stage_timings: dict[str, float] = field(default_factory=dict)
    row_counts: dict[str, Any] = field(default_factory=dict)
    status: str = "running"
    exit_code: int | None = None
    message: str = ""
    published: bool = False

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, default=str)


class LedgerLine(Protocol):
    def to_json(self) -> str: ...


def append_to_ledger(ledger: Path, record: LedgerLine) -> None:
    """One JSON line at the end of a ledger beside the serving database (the runs', the checks')."""
    ledger.parent.mkdir(parents=True, exist_ok=True)
    with ledger.open("a", encoding="utf-8") as handle:
        handle.write(record.to_json() + "\n")


def read_ledger(ledger: Path) -> list[dict[str, Any]]:
    """Every line of a ledger; a line that is not JSON (a run killed mid-write, a full disk) is skipped with a
    note naming the file and line, not fatal."""
    if not ledger.exists():
        return []
    lines = []
    for number, line in enumerate(ledger.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            lines.append(json.loads(line))
        except json.JSONDecodeError:
            print(
                f"journey run: {ledger} line {number} is not JSON (a run cut short?); skipped",
                file=sys.stderr,
            )
    return lines


def write_ops_runs(db: Path, ledger: Path, current: RunRecord) -> None:
    """Rebuild ops.runs in the working database from the ledger plus the current run (one transaction)."""
    records = [record for record in read_ledger(ledger) if record["run_id"] != current.run_id]
    records.append(json.loads(current.to_json()))
    columns = (
        "run_id, started_at, finished_at, as_of_date, input_dir, inputs, stage_timings, row_counts, status,"
        " exit_code, message, published"
    )
    with duckdb.connect(str(db)) as connection:
        connection.execute("begin")
        connection.execute(OPS_RUNS_DDL)
        connection.executemany(
            f"insert into ops.runs ({columns}) values "
            "(?, cast(? as timestamp), cast(? as timestamp), cast(? as date), ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    record["run_id"],
                    record["started_at"],
                    record.get("finished_at"),
                    record.get("as_of_date"),
                    record["input_dir"],
                    json.dumps(record.get("inputs", {})),
                    json.dumps(record.get("stage_timings", {})),
                    json.dumps(record.get("row_counts", {})),
                    record["status"],
                    record.get("exit_code"),
                    record.get("message", ""),
                    record.get("published", False),
                ]
                for record in records
            ],
        )
        connection.execute("commit")
