"""`journey bench`: the whole pipeline at several sizes, per stage, against the floor; writes docs/benchmarks.md.

For each size the feeds are generated once into a cache folder (reused when its manifest matches) and the
pipeline runs stage by stage on a fresh database, the way ``journey run`` runs it:

    load+staging   the start of `dbt build` up to the end of the last staging-layer node (on-run-start feed
                   checks, seeds, base_*/stg_* models, their unit and data tests)
    marts          the rest of that `dbt build` (intermediate, marts, quality models and their tests), plus
                   the `dbt build -s source:policy+` after the policy
    data quality   the Great Expectations suites (in this process, as `journey run` does): the phase before
                   the policy and the phase after it
    policy         the policy step (skipped, and said so, when policy.run cannot be imported)
    report         the HTML report
    publish        ops.runs + checkpoint + atomic rename

The two SQL stages are split inside one `dbt build` by the node timings dbt writes to run_results.json, rather
than by running dbt twice with selectors: two invocations would pay dbt's start-up and parse twice and so
measure something `journey run` does not do.

The floor: the very SQL dbt compiled (run_results.json) executed directly in one DuckDB connection, nothing
around it: every model as ``create table/view ... as <compiled sql>`` and every data test as
``select count(*) from (<compiled sql>)``, in the order dbt ran them, split into the same two layers (plus the
models and data tests of the build after the policy, which `journey run` builds only there); for the
policy, the decision function alone (its ``decide`` timing). Peak memory is the resident set of this process
and all its children (dbt), sampled from /proc every 50 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from journey.project import PROJECT_DIR
from journey.sql import literal
from policy.db import memory_settings

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
SMOKE_SIZES = (10_000,)
DEFAULT_CACHE = Path(os.environ.get("JOURNEY_BENCH_CACHE", "/tmp/journey-bench"))
DEFAULT_OUTPUT = PROJECT_DIR / "docs" / "benchmarks.md"
SEED = 7
STAGES = ("load+staging", "marts", "data quality", "policy", "report", "publish")
SQL_STAGES = ("load+staging", "marts")
STAGING_PATH = "models/staging/"
JSON_BEGIN = "<!-- bench-json"
JSON_END = "-->"


# ---------------------------------------------------------------------------------------------- memory


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(part) for part in text.split()]


def tree_rss_bytes(root: int) -> int:
    """Resident set size of a process and all its descendants (Linux /proc; 0 where unreadable)."""
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
                    break
        except (OSError, ValueError):
            continue
        stack.extend(_children(pid))
    return total


class MemorySampler:
    """Samples the process tree's RSS in a thread; `window()` gives the peak since it was last called.
    ``children_only``: leave this process out (a daily run's own process, not the benchmark holding it)."""

    def __init__(self, interval: float = 0.05, children_only: bool = False) -> None:
        self.interval = interval
        self.children_only = children_only
        self._peak = 0
        self._overall = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        if self.children_only:
            rss = sum(tree_rss_bytes(child) for child in _children(os.getpid()))
        else:
            rss = tree_rss_bytes(os.getpid())
        with self._lock:
            self._peak = max(self._peak, rss)
            self._overall = max(self._overall, rss)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def window(self) -> int:
        self.sample()
        with self._lock:
            peak, self._peak = self._peak, 0
        return peak

    @property
    def overall(self) -> int:
        with self._lock:
            return self._overall


# ---------------------------------------------------------------------------------------------- results


@dataclass
class StageResult:
    seconds: float | None = None
    peak_mib: float | None = None
    floor_seconds: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.seconds is None or not self.floor_seconds:
            return None
        return self.seconds / self.floor_seconds


@dataclass
class SizeResult:
    customers: int
    input_mb: float
    records: dict[str, int]
    stages: dict[str, StageResult] = field(default_factory=dict)
    total_seconds: float = 0.0
    peak_mib: float = 0.0
    floor_peak_mib: float | None = None
    status: str = "ok"
    dbt_nodes: dict[str, dict[str, int]] = field(default_factory=dict)
    daily: list[DayResult] = field(default_factory=list)


@dataclass
class DayResult:
    """One `journey run --load-mode append` of the daily simulation, in a process of its own."""

    day: int
    seconds: float
    peak_mib: float
    db_mib: float
    exit_code: int
    stage_timings: dict[str, float] = field(default_factory=dict)
    customers: int = 0  # customers scored that day (the base grows with the generated days' new customers)


def _mib(value: int) -> float:
    return round(value / 2**20, 1)


# ---------------------------------------------------------------------------------------------- inputs


def feeds_for(size: int, cache: Path, fmt: str = "ndjson", days: int = 0) -> Path:
    """The generated feeds for `size` customers (generated on first use, then reused). With `days`, the folder
    holds the base set in day_000 and one daily increment per day in day_001 ... (journey generate --days)."""
    folder = cache / (f"feeds_{size}_{fmt}_seed{SEED}" + (f"_days{days}" if days else ""))
    manifest = folder / "manifest.json"
    if manifest.exists():
        try:
            data = json.loads(manifest.read_text())
            if (
                int(data.get("customers", -1)) == size
                and data.get("seed") == SEED
                and data.get("format") == fmt
                and int(data.get("days") or 0) == days
            ):
                return folder
        except (ValueError, TypeError):
            pass
    from journey.generate import generate

    shutil.rmtree(folder, ignore_errors=True)
    generate(folder, size, SEED, fmt, days)
    return folder


def day_folder(feeds: Path, day: int) -> Path:
    """The input folder of day `day` of a generated set (the set itself when it has no daily increments)."""
    folder = feeds / f"day_{day:03d}"
    return folder if folder.is_dir() else feeds


def _input_stats(folder: Path) -> tuple[float, dict[str, int]]:
    size = sum(path.stat().st_size for path in folder.glob("*.json") if path.name != "manifest.json")
    records: dict[str, int] = {}
    manifest, rows = folder / "manifest.json", {}
    if manifest.exists():
        rows = json.loads(manifest.read_text()).get("rows") or {}
    elif (folder.parent / "manifest.json").exists():  # a day of a set generated with --days
        daily = json.loads((folder.parent / "manifest.json").read_text()).get("daily") or []
        rows = next((day.get("rows") or {} for day in daily if day.get("dir") == folder.name), {})
    for feed, value in rows.items():
        if isinstance(value, int):
            records[feed] = value
    return round(size / 1e6, 1), records


# ---------------------------------------------------------------------------------------------- pipeline


def _parse_time(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _is_staging_node(result: dict[str, Any], manifest_nodes: dict[str, Any]) -> bool:
    unique_id = result["unique_id"]
    if unique_id.startswith(("seed.", "operation.")):
        return True
    node = manifest_nodes.get(unique_id, {})
    if unique_id.startswith("model."):
        return str(node.get("original_file_path", "")).startswith(STAGING_PATH)
    parents = (node.get("depends_on") or {}).get("nodes") or []
    if unique_id.startswith("unit_test."):
        parents = [node.get("tested_node_unique_id") or "", *parents]
    models = [parent for parent in parents if parent.startswith("model.")]
    return bool(models) and all(
        str(manifest_nodes.get(parent, {}).get("original_file_path", "")).startswith(STAGING_PATH)
        for parent in models
    )


def _node_span(result: dict[str, Any]) -> tuple[float, float] | None:
    spans = [
        (_parse_time(item["started_at"]), _parse_time(item["completed_at"]))
        for item in result.get("timing", [])
        if item.get("started_at") and item.get("completed_at")
    ]
    if not spans:
        return None
    return min(start for start, _ in spans), max(end for _, end in spans)


def split_build(target: Path, started: float, finished: float) -> tuple[float, float]:
    """(load+staging seconds, marts seconds) of one `dbt build` from its run_results.json."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    manifest = json.loads((target / "manifest.json").read_text())
    nodes = {**manifest.get("nodes", {}), **manifest.get("unit_tests", {})}
    staging_end = started
    for result in results:
        span = _node_span(result)
        if span is not None and _is_staging_node(result, nodes):
            staging_end = max(staging_end, span[1])
    staging_end = min(max(staging_end, started), finished)
    return staging_end - started, finished - staging_end


@contextmanager
def _timed(stage: str, result: SizeResult, sampler: MemorySampler) -> Iterator[StageResult]:
    entry = result.stages.setdefault(stage, StageResult())
    sampler.window()
    began = time.perf_counter()
    try:
        yield entry
    finally:
        elapsed = time.perf_counter() - began
        entry.seconds = round((entry.seconds or 0.0) + elapsed, 3)
        entry.peak_mib = max(entry.peak_mib or 0.0, _mib(sampler.window()))


def _policy_available() -> tuple[bool, str]:
    try:
        from policy.run import PolicyRequest, run_policy  # noqa: F401
    except Exception as exc:
        return False, f"skipped: policy.run not importable ({type(exc).__name__}: {exc})"
    return True, ""


def run_pipeline(
    feeds: Path, work: Path, target: Path, result: SizeResult, sampler: MemorySampler, quiet: bool
) -> Path:
    """Run every stage of `journey run` on a fresh database in `work` (emptied by the caller, before the clock
    starts: removing the last run's files is not part of a run); return the dbt target folder.

    `target` is dbt's target folder, shared by every size so that dbt's partial parsing works as it does
    for repeated runs of `journey run` (a first run in a fresh checkout also pays a full parse)."""
    from journey import run as journey_run
    from journey.publish import Workspace, prepare_working_copy, publish
    from journey.runrecord import RunRecord, describe_inputs, new_run_id, write_ops_runs

    work.mkdir(parents=True, exist_ok=True)
    options = journey_run.RunOptions(
        db=work / "journey.duckdb", input_dir=feeds, out=work / "out", quiet=quiet, target_path=target
    )
    started_at = dt.datetime.now(dt.UTC)
    record = RunRecord(run_id=new_run_id(started_at), started_at=started_at.isoformat(), input_dir=str(feeds))
    workspace = Workspace(options.db.resolve())
    ctx = journey_run.RunContext(
        options=options, workspace=workspace, record=record, out_dir=options.out.resolve() / record.run_id
    )
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    workspace.folder.mkdir(parents=True, exist_ok=True)
    record.inputs = describe_inputs(feeds)
    prepare_working_copy(workspace)
    from expectations.gx_build import prewarm

    prewarm()  # as journey run does: Great Expectations' import overlaps the dbt build

    # load+staging and marts: one dbt build, split by node timings
    sampler.window()
    wall_start = time.time()
    began = time.perf_counter()
    journey_run.build_stage(ctx)
    build_seconds = time.perf_counter() - began
    peak = _mib(sampler.window())
    staging_s, marts_s = split_build(target, wall_start, wall_start + build_seconds)
    result.stages["load+staging"] = StageResult(seconds=round(staging_s, 3), peak_mib=peak)
    result.stages["marts"] = StageResult(seconds=round(marts_s, 3), peak_mib=peak, note="build")
    shutil.copyfile(target / "run_results.json", work / "run_results.build.json")

    with _timed("data quality", result, sampler):
        journey_run.dq_stage(ctx)

    available, why = _policy_available()
    if available:
        with _timed("policy", result, sampler):
            outcome_holder: dict[str, Any] = {}
            _policy_with_timings(ctx, outcome_holder)
        decide = (outcome_holder.get("timings") or {}).get("decide")
        result.stages["policy"].floor_seconds = decide
        with _timed("marts", result, sampler) as marts:
            journey_run.downstream_stage(ctx)
            marts.note = "build + downstream build"
        shutil.copyfile(target / "run_results.json", work / "run_results.downstream.json")
        with _timed("data quality", result, sampler) as quality:
            journey_run.dq_after_policy_stage(ctx)
            quality.note = "before + after the policy"
    else:
        result.stages["policy"] = StageResult(note=why)

    with _timed("data quality", result, sampler) as quality:
        journey_run.history_stage(ctx)
        quality.note = f"{quality.note or 'before the policy'} + check history"

    with _timed("report", result, sampler):
        journey_run.report_stage(ctx)

    with _timed("publish", result, sampler):
        record.status, record.exit_code, record.published = "ok", 0, True
        record.finished_at = dt.datetime.now(dt.UTC).isoformat()
        write_ops_runs(ctx.working, workspace.ledger, record)
        publish(workspace)
    if ctx.summary.get("dq_exit_code"):
        result.status = "data-quality errors (published anyway by the benchmark)"
    result.dbt_nodes = record.row_counts.get("dbt_nodes", {})
    return target


def _policy_with_timings(ctx: Any, holder: dict[str, Any]) -> None:
    from policy.run import PolicyRequest, run_policy

    outcome = run_policy(
        PolicyRequest(
            db=ctx.working,
            as_of=ctx.record.as_of_date,
            dq_summary=ctx.out_dir / "dq" / "dq_summary.json",
            force=True,
            run_id=ctx.record.run_id,
            export=ctx.out_dir / "policy_interventions.json",
        )
    )
    ctx.record.row_counts["policy"] = outcome.counts
    holder["timings"] = outcome.timings_s


# ---------------------------------------------------------------------------------------------- daily


def run_daily(feeds: Path, work: Path, target: Path, days: int, result: SizeResult, quiet: bool) -> None:
    """The daily simulation: day 1 ... `days` of the generated set, each a `journey run --load-mode append`
    on the database the base run published, in a process of its own as a scheduled job runs it (start-up,
    dbt parse and all). Records each day's wall time, peak memory, stage timings and database size."""
    serving = work / "journey.duckdb"
    env = {**os.environ, "DBT_TARGET_PATH": str(target)}
    for day in range(1, days + 1):
        command = [
            sys.executable, "-m", "journey.cli", "run", "--db", str(serving), "--input-dir",
            str(day_folder(feeds, day)), "--load-mode", "append", "--out", str(work / "daily-out"), "--json",
        ]  # fmt: skip
        with MemorySampler(children_only=True) as sampler:
            began = time.perf_counter()
            finished = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            seconds = time.perf_counter() - began
        try:
            summary = json.loads(finished.stdout[finished.stdout.index("{") :])
        except ValueError:
            summary = {}
        if not quiet or finished.returncode:
            print(finished.stderr.strip()[-2000:], file=sys.stderr)
        result.daily.append(
            DayResult(
                day=day,
                seconds=round(seconds, 3),
                peak_mib=_mib(sampler.overall),
                db_mib=_mib(serving.stat().st_size) if serving.exists() else 0.0,
                exit_code=finished.returncode,
                stage_timings=summary.get("stage_timings") or {},
                customers=int((summary.get("row_counts") or {}).get("customers_scored") or 0),
            )
        )
        if finished.returncode:
            result.status += f"; daily run of day {day} failed (exit {finished.returncode})"
            return


def _day_costs(daily: list[DayResult], per_customer: bool) -> dict[int, float]:
    """Each successful day's wall time, or its wall time per customer scored (days without a count left out)."""
    return {
        entry.day: entry.seconds / entry.customers if per_customer else entry.seconds
        for entry in daily
        if entry.exit_code == 0 and (entry.customers or not per_customer)
    }


def daily_ratio(daily: list[DayResult], per_customer: bool = False) -> float | None:
    """The last day's wall time over day 2's (day 1 may pay a first parse of append mode); None if too few.
    per_customer: the same for the time per customer scored, which takes out the growth of the customer base."""
    by_day = _day_costs(daily, per_customer)
    last = max(by_day, default=0)
    if 2 not in by_day or last <= 2:
        return None
    return by_day[last] / by_day[2]


# Days in each window of the month's median ratio (single days vary by several seconds).
MEDIAN_WINDOW = 3


def daily_ratio_median(
    daily: list[DayResult], window: int = MEDIAN_WINDOW, per_customer: bool = False
) -> float | None:
    """The same comparison with the noise of single days taken out: the median wall time of the last `window`
    days over that of days 2 .. 1 + window; None until the two windows do not overlap."""
    by_day = _day_costs(daily, per_customer)
    last = max(by_day, default=0)
    early = [by_day[day] for day in range(2, 2 + window) if day in by_day]
    late = [by_day[day] for day in range(last - window + 1, last + 1) if day in by_day]
    if len(early) < window or len(late) < window or last - window + 1 < 2 + window:
        return None
    return statistics.median(late) / statistics.median(early)


# ---------------------------------------------------------------------------------------------- floor


def _compiled_nodes(run_results: Path, manifest: Path) -> list[tuple[str, str, str, str]]:
    """(layer, kind, relation, sql) for each model and data test, in the order dbt completed them."""
    results = json.loads(run_results.read_text())["results"]
    nodes = json.loads(manifest.read_text()).get("nodes", {})
    ordered = sorted(
        (result for result in results if _node_span(result) is not None), key=lambda r: _node_span(r)[1]
    )
    out = []
    for result in ordered:
        unique_id = result["unique_id"]
        node = nodes.get(unique_id)
        code = result.get("compiled_code") or (node or {}).get("compiled_code")
        if not node or not code:
            continue
        layer = "load+staging" if _is_staging_node(result, nodes) else "marts"
        if unique_id.startswith("model."):
            relation = f'"{node["schema"]}"."{node.get("alias") or node["name"]}"'
            kind = (node.get("config") or {}).get("materialized", "table")
            out.append((layer, "view" if kind == "view" else "table", relation, code))
        elif unique_id.startswith("test."):
            out.append((layer, "test", unique_id, code))
    return out


def run_floor(built_db: Path, target: Path, work: Path, result: SizeResult, sampler: MemorySampler) -> None:
    """Run dbt's compiled SQL straight in one DuckDB connection; record the time per SQL stage."""
    floor_dir = work / "floor"
    shutil.rmtree(floor_dir, ignore_errors=True)
    floor_dir.mkdir(parents=True)
    # same file name: the compiled SQL names the database by its file stem
    floor_db = floor_dir / built_db.name
    statements = _compiled_nodes(work / "run_results.build.json", target / "manifest.json")
    # journey run builds the nodes downstream of the policy once, in the build after it: they count too
    downstream = work / "run_results.downstream.json"
    if downstream.exists():
        statements += _compiled_nodes(downstream, target / "manifest.json")
    times = dict.fromkeys(SQL_STAGES, 0.0)
    sampler.window()
    with duckdb.connect(str(floor_db)) as connection:
        _apply_settings(connection)
        connection.execute(f"attach {literal(built_db)} as built (read_only)")
        schemas = {
            row[0]
            for row in connection.execute(
                "select distinct schema_name from duckdb_schemas() where database_name = 'built'"
            ).fetchall()
        }
        for schema in sorted(schemas - {"information_schema", "pg_catalog", "main"}):
            connection.execute(f'create schema if not exists "{schema}"')
        # seeds and the policy's tables are inputs, not work: copied, not timed
        for schema, table in connection.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where database_name = 'built' and schema_name in ('reference', 'policy')"
        ).fetchall():
            connection.execute(
                f'create table "{schema}"."{table}" as select * from built."{schema}"."{table}"'
            )
        connection.execute("detach built")
        for layer, kind, relation, sql in statements:
            began = time.perf_counter()
            if kind == "test":
                connection.execute(f"select count(*) from ({sql})").fetchall()
            else:
                connection.execute(f"create or replace {kind} {relation} as {sql}")
            times[layer] += time.perf_counter() - began
        began = time.perf_counter()
        connection.execute("checkpoint")
        times["marts"] += time.perf_counter() - began
    result.floor_peak_mib = _mib(sampler.window())
    for layer, seconds in times.items():
        result.stages.setdefault(layer, StageResult()).floor_seconds = round(seconds, 3)


def _apply_settings(connection: duckdb.DuckDBPyConnection) -> None:
    """The same DuckDB settings profiles.yml gives dbt."""
    connection.execute("set preserve_insertion_order = false")
    for name, value in memory_settings().items():
        connection.execute(f"set {name} = {literal(value)}")


# ---------------------------------------------------------------------------------------------- report


def machine_info() -> dict[str, Any]:
    memory_kib = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kib = int(line.split()[1])
    except OSError:
        pass
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(memory_kib / 2**20, 1),
        "cpu": cpu,
        "platform": platform.platform(),
        "load_average_at_start": [round(value, 2) for value in load],
    }


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version(), "duckdb": duckdb.__version__}
    for package in ("dbt-core", "dbt-duckdb", "great-expectations", "pyarrow"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found


def _fmt(value: float | None, digits: int = 1, suffix: str = "") -> str:
    return "-" if value is None else f"{value:.{digits}f}{suffix}"


def render_table(results: list[SizeResult]) -> str:
    lines = [
        "| customers | stage | wall s | peak MiB | floor s | ours / floor | note |",
        "|---:|---|---:|---:|---:|---:|---|",
    ]
    for size in results:
        for stage in STAGES:
            entry = size.stages.get(stage, StageResult(note="not run"))
            lines.append(
                f"| {size.customers:,} | {stage} | {_fmt(entry.seconds)} | {_fmt(entry.peak_mib, 0)} | "
                f"{_fmt(entry.floor_seconds, 2)} | {_fmt(entry.ratio, 1, 'x')} | {entry.note} |"
            )
        lines.append(
            f"| {size.customers:,} | **total** | **{size.total_seconds:.1f}** | **{size.peak_mib:.0f}** | "
            f"{_fmt(sum(size.stages[s].floor_seconds or 0 for s in SQL_STAGES if s in size.stages), 2)} "
            f"(SQL) | | {size.status}; {size.input_mb:,.0f} MB input |"
        )
    return "\n".join(lines)


DAILY_STAGES = ("working copy", "dbt build", "policy", "downstream models", "publish")


def render_nodes(results: list[SizeResult]) -> str:
    """dbt nodes run by each dbt stage of `journey run` (models, seeds and data tests, from run_results)."""
    lines = [
        "| customers | dbt stage | models | seeds | data tests | all nodes |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for size in results:
        for stage, counts in size.dbt_nodes.items():
            lines.append(
                f"| {size.customers:,} | {stage} | {counts.get('model', 0)} | {counts.get('seed', 0)} | "
                f"{counts.get('test', 0)} | {sum(counts.values())} |"
            )
    return "\n".join(lines)


def render_daily(results: list[SizeResult]) -> str:
    header = " | ".join(f"{stage} s" for stage in DAILY_STAGES)
    lines = [
        f"| customers | day | wall s | {header} | peak MiB | database MiB | customers scored | exit |",
        "|---:|---:|---:|" + "---:|" * len(DAILY_STAGES) + "---:|---:|---:|---:|",
    ]
    for size in results:
        for entry in size.daily:
            stages = " | ".join(_fmt(entry.stage_timings.get(stage)) for stage in DAILY_STAGES)
            lines.append(
                f"| {size.customers:,} | {entry.day} | {entry.seconds:.1f} | {stages} | {entry.peak_mib:.0f} | "
                f"{entry.db_mib:,.0f} | {entry.customers:,} | {entry.exit_code} |"
            )
        last = size.daily[-1].day if size.daily else 0
        padding = " |" * (len(DAILY_STAGES) + 4)
        for label, ratio, per_customer_ratio in (
            (f"day {last} / day 2", daily_ratio(size.daily), daily_ratio(size.daily, per_customer=True)),
            (
                f"median of days {last - MEDIAN_WINDOW + 1}-{last} / of days 2-{1 + MEDIAN_WINDOW}",
                daily_ratio_median(size.daily),
                daily_ratio_median(size.daily, per_customer=True),
            ),
        ):
            if ratio is not None:
                per_customer = (
                    f" ({per_customer_ratio:.2f}x per customer scored)" if per_customer_ratio else ""
                )
                lines.append(
                    f"| {size.customers:,} | **{label}** | **{ratio:.2f}x**{per_customer} |" + padding
                )
    return "\n".join(lines)


def render_markdown(results: list[SizeResult], meta: dict[str, Any], notes: str) -> str:
    payload = {"meta": meta, "results": [asdict(result) for result in results]}
    machine = meta["machine"]
    version_text = ", ".join(f"{name} {value}" for name, value in meta["versions"].items())
    parts = [
        "# Benchmarks",
        "",
        f"Measured {meta['date']} on {machine['nproc']} cores, {machine['memory_gib']} GiB "
        f"({machine['cpu'] or 'unknown CPU'}; load average at start {machine['load_average_at_start']}).",
        f"Versions: {version_text}.",
        "",
        "Reproduce:",
        "",
        "```",
        meta["command"],
        "```",
        "",
        render_table(results),
        "",
        "Stages as in `journey run`. *wall s*: elapsed time of the stage; *peak MiB*: highest resident memory of "
        "the process tree (dbt runs inside this process) during the stage; *floor s*: the same compiled SQL run directly in "
        "one DuckDB connection (models and data tests; for the policy, the decision function alone). "
        "`load+staging` and `marts` come from one `dbt build` split by its node timings (see journey/bench.py); "
        "`marts` also holds the `dbt build -s source:policy+` after the policy.",
        "",
        "dbt nodes per dbt stage of `journey run` (unit tests are CI's, not a run's):",
        "",
        render_nodes(results),
        "",
    ]
    if any(size.daily for size in results):
        parts += [
            "Daily simulation: after the base run, one `journey run --load-mode append` per generated day "
            "(`journey generate --days`, about 1 % new records a day), each in a process of its own; "
            "stage times from the run's own summary, *database MiB* the serving file after the day.",
            "",
            render_daily(results),
            "",
        ]
    if notes:
        parts += [notes.strip(), ""]
    parts += [JSON_BEGIN, json.dumps(payload, indent=1, default=str), JSON_END, ""]
    return "\n".join(parts)


def _existing_notes(path: Path) -> str:
    """Hand-written analysis kept between runs: everything under a '## Analysis' heading."""
    if not path.exists():
        return ""
    text = path.read_text()
    marker = "## Analysis"
    if marker not in text:
        return ""
    notes = text[text.index(marker) :]
    return notes.split(JSON_BEGIN)[0].rstrip()


# ---------------------------------------------------------------------------------------------- cli


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sizes",
        default=",".join(str(size) for size in DEFAULT_SIZES),
        help="comma-separated customer counts (default: 10000,100000,1000000)",
    )
    parser.add_argument("--smoke", action="store_true", help="only 10,000 customers, quickly (CI smoke test)")
    parser.add_argument(
        "--cache-dir", type=Path, default=DEFAULT_CACHE, help="generated feeds and work folders"
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="markdown file to write")
    parser.add_argument("--no-floor", action="store_true", help="skip the floor runs")
    parser.add_argument(
        "--daily",
        type=int,
        default=0,
        metavar="DAYS",
        help="after the base run of each size, DAYS daily runs in append mode (journey generate --days: "
        "about 1%% new records a day), each in its own process",
    )
    parser.add_argument("--format", choices=("json", "ndjson"), default="ndjson", help="feed format")
    parser.add_argument("--verbose", action="store_true", help="print each stage's own output")


def _sizes(args: argparse.Namespace) -> list[int]:
    if args.smoke:
        return list(SMOKE_SIZES)
    return [int(part.replace("_", "")) for part in str(args.sizes).split(",") if part.strip()]


def run(args: argparse.Namespace) -> int:
    sizes = _sizes(args)
    cache: Path = args.cache_dir
    cache.mkdir(parents=True, exist_ok=True)
    results: list[SizeResult] = []
    say: Callable[[str], None] = lambda text: print(text, flush=True)  # noqa: E731
    for size in sizes:
        say(f"bench: {size:,} customers")
        began = time.perf_counter()
        generated = feeds_for(size, cache, args.format, args.daily)
        feeds = day_folder(generated, 0)
        say(f"  feeds {feeds} ({time.perf_counter() - began:.1f}s)")
        input_mb, records = _input_stats(feeds)
        result = SizeResult(customers=size, input_mb=input_mb, records=records)
        work = cache / f"work_{size}"
        shutil.rmtree(work, ignore_errors=True)
        with MemorySampler() as sampler:
            began = time.perf_counter()
            try:
                target = run_pipeline(feeds, work, cache / "target", result, sampler, quiet=not args.verbose)
            except Exception as exc:
                result.status = f"failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
                target = None
            result.total_seconds = round(time.perf_counter() - began, 3)
            result.peak_mib = _mib(sampler.overall)
            if target is not None and not args.no_floor:
                try:
                    run_floor(work / "journey.duckdb", target, work, result, sampler)
                except Exception as exc:
                    result.status += f"; floor failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
        for stage in STAGES:
            entry = result.stages.get(stage)
            if entry is not None:
                say(
                    f"  {stage:13} {_fmt(entry.seconds):>7}s  peak {_fmt(entry.peak_mib, 0):>6} MiB  "
                    f"floor {_fmt(entry.floor_seconds, 2):>6}s  {entry.note}"
                )
        say(f"  total {result.total_seconds:.1f}s, peak {result.peak_mib:.0f} MiB, {result.status}")
        if args.daily and target is not None:
            run_daily(generated, work, cache / "target", args.daily, result, quiet=not args.verbose)
            for entry in result.daily:
                say(
                    f"  day {entry.day:3}  {entry.seconds:7.1f}s  peak {entry.peak_mib:6.0f} MiB  "
                    f"db {entry.db_mib:7.0f} MiB  exit {entry.exit_code}"
                )
        results.append(result)

    command = "journey bench " + (
        "--smoke" if args.smoke else "--sizes " + ",".join(str(size) for size in sizes)
    )
    if args.daily:
        command += f" --daily {args.daily}"
    meta = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_info(),
        "versions": versions(),
        "command": command,
        "settings": {
            "JOURNEY_MEMORY_LIMIT": os.environ.get("JOURNEY_MEMORY_LIMIT", "profiles.yml default"),
            "JOURNEY_DBT_THREADS": os.environ.get("JOURNEY_DBT_THREADS", "profiles.yml default"),
        },
    }
    output: Path = args.output
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_markdown(results, meta, _existing_notes(output)))
    say(f"bench: wrote {output}")
    return 0 if all(not result.status.startswith("failed") for result in results) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="journey bench", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
