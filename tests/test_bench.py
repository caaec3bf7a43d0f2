"""`journey bench` end to end: the whole pipeline and the floor at one size; no timing assertions.

`make test` runs it at 1,000 customers, enough to check the wiring (every stage timed, the floor run, the
markdown and its JSON written); `journey bench --smoke` (10,000 customers) is the slow test (make test-slow).

The benchmark's cache folder is the session's dbt folder (tests/conftest.py ``dbt_target`` is <cache>/target,
where the benchmark keeps its dbt target), so the benchmark reuses the session's parse of the project."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from journey import bench


def run_bench(tmp_path: Path, dbt_target: Path, *argv: str) -> str:
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    output = tmp_path / "benchmarks.md"
    args = parser.parse_args([*argv, "--cache-dir", str(dbt_target.parent), "--output", str(output)])
    assert bench.run(args) == 0
    return output.read_text()


def assert_every_stage(text: str, customers: int, command: str) -> None:
    assert "| customers | stage | wall s | peak MiB | floor s | ours / floor | note |" in text
    for stage in bench.STAGES:
        assert f"| {customers:,} | {stage} |" in text, stage
    assert command in text

    payload = json.loads(text.split(bench.JSON_BEGIN)[1].split(bench.JSON_END)[0])
    (result,) = payload["results"]
    assert result["customers"] == customers
    assert not result["status"].startswith("failed"), result["status"]
    for stage in bench.SQL_STAGES:
        assert result["stages"][stage]["seconds"] > 0
        assert result["stages"][stage]["floor_seconds"] > 0
        assert result["stages"][stage]["peak_mib"] > 0
    assert payload["meta"]["machine"]["nproc"] >= 1
    assert payload["meta"]["versions"]["duckdb"]


def test_bench_writes_every_stage(tmp_path: Path, dbt_target: Path) -> None:
    """One size, its floor, the dbt node count of each dbt stage and a daily simulation of one day (the wiring of
    a day is the same for every day; a second one cost this suite about 15 s)."""
    text = run_bench(tmp_path, dbt_target, "--sizes", "1000", "--daily", "1")
    assert_every_stage(text, 1_000, "journey bench --sizes 1000 --daily 1")
    (result,) = json.loads(text.split(bench.JSON_BEGIN)[1].split(bench.JSON_END)[0])["results"]
    nodes = result["dbt_nodes"]
    assert set(nodes) == {"dbt build", "downstream models"}
    assert nodes["dbt build"]["model"] > 10 and nodes["downstream models"]["model"] > 10
    assert f"| 1,000 | dbt build | {nodes['dbt build']['model']} |" in text
    assert [day["day"] for day in result["daily"]] == [1]
    assert all(day["exit_code"] == 0 for day in result["daily"]), result["status"]
    for day in result["daily"]:
        assert day["stage_timings"]["dbt build"] > 0 and day["stage_timings"]["publish"] > 0
        assert day["db_mib"] > 0 and day["peak_mib"] > 0
    assert "| 1,000 | 1 |" in text


@pytest.mark.slow
def test_bench_smoke_writes_every_stage(tmp_path: Path, dbt_target: Path) -> None:
    text = run_bench(tmp_path, dbt_target, "--smoke")
    assert_every_stage(text, 10_000, "journey bench --smoke")


def test_smoke_flag_means_ten_thousand() -> None:
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    assert bench._sizes(parser.parse_args(["--smoke"])) == [10_000]
    assert bench._sizes(parser.parse_args([])) == [10_000, 100_000, 1_000_000]


def test_the_daily_ratios() -> None:
    """Day N / day 2, and the same with medians of three days (single days vary by several seconds)."""
    seconds = {1: 50.0, 2: 10.0, 3: 30.0, 4: 20.0, 5: 99.0, 6: 24.0, 7: 12.0, 8: 36.0}
    daily = [bench.DayResult(day, wall, 1.0, 1.0, 0) for day, wall in seconds.items()]
    assert bench.daily_ratio(daily) == pytest.approx(36.0 / 10.0)
    assert bench.daily_ratio_median(daily) == pytest.approx(
        24.0 / 20.0
    )  # median(24, 12, 36) / median(10, 30, 20)
    assert bench.daily_ratio_median(daily[:6]) is None  # days 4-6 overlap days 2-4
    assert bench.daily_ratio(daily[:2]) is None
    grown = [
        bench.DayResult(day, wall * day, 1.0, 1.0, 0, customers=100 * day) for day, wall in seconds.items()
    ]
    assert bench.daily_ratio(grown) == pytest.approx(36.0 * 8 / (10.0 * 2))
    assert bench.daily_ratio(grown, per_customer=True) == pytest.approx(36.0 / 10.0)
    assert bench.daily_ratio_median(grown, per_customer=True) == pytest.approx(24.0 / 20.0)
    lines = bench.render_daily([bench.SizeResult(100, 1.0, {}, daily=grown)]).splitlines()
    assert "| 100 | **day 8 / day 2** | **14.40x** (3.60x per customer scored) |" in lines[-2]
