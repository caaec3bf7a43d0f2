"""`journey bench --smoke` (10,000 customers) in CI: the whole pipeline and the floor; no timing assertions."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from journey import bench


def test_bench_smoke_writes_every_stage(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    output = tmp_path / "benchmarks.md"
    args = parser.parse_args(["--smoke", "--cache-dir", str(tmp_path / "cache"), "--output", str(output)])
    assert bench.run(args) == 0

    text = output.read_text()
    assert "| customers | stage | wall s | peak MiB | floor s | ours / floor | note |" in text
    for stage in bench.STAGES:
        assert f"| 10,000 | {stage} |" in text, stage
    assert "journey bench --smoke" in text

    payload = json.loads(text.split(bench.JSON_BEGIN)[1].split(bench.JSON_END)[0])
    (result,) = payload["results"]
    assert result["customers"] == 10_000
    assert not result["status"].startswith("failed"), result["status"]
    for stage in bench.SQL_STAGES:
        assert result["stages"][stage]["seconds"] > 0
        assert result["stages"][stage]["floor_seconds"] > 0
        assert result["stages"][stage]["peak_mib"] > 0
    assert payload["meta"]["machine"]["nproc"] >= 1
    assert payload["meta"]["versions"]["duckdb"]


def test_smoke_flag_means_ten_thousand() -> None:
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    assert bench._sizes(parser.parse_args(["--smoke"])) == [10_000]
    assert bench._sizes(parser.parse_args([])) == [10_000, 100_000, 1_000_000]
