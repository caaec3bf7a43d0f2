"""The commands as the README writes them: relative paths, from another folder and from the repository root,
on data made by the project's own generator at its default rates.

Each command is the installed `journey` script in a subprocess, as a person types it: no absolute temporary paths
handed in by the test, no JOURNEY_DB in the environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from journey.cli import absolute_paths, build_parser
from journey.crash import report_crash
from journey.exit_codes import ExitCode
from journey.project import PROJECT_DIR

JOURNEY = str(Path(sys.executable).with_name("journey"))


def journey(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("JOURNEY_")}
    return subprocess.run([JOURNEY, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_generated_data_publishes_and_every_command_takes_relative_paths(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    made = journey("generate", "--customers", "300", "--seed", "11", "--out", "feeds", cwd=work)
    assert made.returncode == 0, made.stderr
    manifest = json.loads((work / "feeds" / "manifest.json").read_text())
    assert manifest["imperfections"]["missing_outcomes"]["interventions"] > 0

    # The generator's defaults: overdue loops, orphans, invalid transitions... warnings, published.
    run = journey("run", "--input-dir", "feeds", "--db", "journey.duckdb", "--out", "out", "--json", cwd=work)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    summary = json.loads(run.stdout)
    assert summary["status"] == "ok" and summary["published"] is True
    assert summary["serving_db"] == str(work / "journey.duckdb")
    assert Path(summary["out_dir"]).parent == work / "out"
    dq = json.loads((Path(summary["out_dir"]) / "dq" / "dq_summary.json").read_text())
    assert dq["totals"]["errors"] == 0 and dq["totals"]["warnings"] > 0
    warned = {failure["expectation_id"] for failure in dq["failures"] if failure["severity"] == "warning"}
    assert {"overdue_outcomes", "orphan_signals", "invalid_transitions"} <= warned

    # `journey dq` with its defaults (journey.duckdb, out/dq) from the folder that holds the database.
    checked = journey("dq", cwd=work)
    assert checked.returncode == 0, checked.stderr[-3000:]
    assert "0 errors" in checked.stdout and "Traceback" not in checked.stderr
    assert (work / "out" / "dq" / "dq_summary.json").is_file()
    assert (work / "out" / "dq" / "data_docs" / "index.html").is_file()

    # The README's line, from the repository root, with paths relative to it.
    relative = Path(os.path.relpath(work, PROJECT_DIR))
    assert not relative.is_absolute()
    again = journey(
        "dq", "--db", str(relative / "journey.duckdb"), "--out", str(relative / "dq"), cwd=PROJECT_DIR
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert (work / "dq" / "dq_junit.xml").is_file()
    assert not (PROJECT_DIR / "journey.duckdb.wal").exists()

    policy = journey(
        "policy", "--db", "journey.duckdb", "--dry-run", "--dq-summary", "out/dq/dq_summary.json", cwd=work
    )
    assert policy.returncode == 0, policy.stderr[-3000:]
    assert "DRY RUN" in policy.stdout and "data-quality gate passed" in policy.stdout
    listed = journey("review", "list", "--db", "journey.duckdb", cwd=work)
    assert listed.returncode == 0, listed.stderr[-3000:]
    assert "awaiting approval" in listed.stdout


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--db", "a.duckdb", "--input-dir", "feeds", "--out", "out"],
        ["build", "--db", "a.duckdb", "--input-dir", "feeds"],
        ["dq", "--db", "a.duckdb", "--out", "out/dq"],
        ["dq"],
        ["policy", "--db", "a.duckdb", "--dq-summary", "x.json", "--export", "e.json", "--config", "p.yml"],
        ["review", "list", "--db", "a.duckdb"],
        ["review", "approve", "P1", "--db", "a.duckdb"],
        ["generate", "--customers", "1", "--out", "feeds"],
        ["bench", "--cache-dir", "cache", "--output", "bench.md"],
    ],
)
def test_every_path_option_is_resolved_against_the_current_folder(argv: list[str]) -> None:
    args = absolute_paths(build_parser().parse_args(argv))
    paths = {name: value for name, value in vars(args).items() if isinstance(value, Path)}
    assert paths, argv
    assert all(value.is_absolute() for value in paths.values()), paths
    given = [argv[i + 1] for i, token in enumerate(argv) if token.startswith("--") and i + 1 < len(argv)]
    for value in given:
        if value.endswith((".duckdb", ".json", ".yml", ".md")) or value in {
            "feeds",
            "out",
            "out/dq",
            "cache",
        }:
            assert Path.cwd() / value in paths.values(), (value, paths)


def test_a_bad_date_is_a_usage_error_before_any_stage(tmp_path: Path) -> None:
    result = journey("run", "--as-of", "2025-13-01", "--db", "j.duckdb", cwd=tmp_path)
    assert result.returncode == 2
    assert "argument --as-of: '2025-13-01' is not a date YYYY-MM-DD" in result.stderr
    assert not (tmp_path / "j.duckdb").exists() and not (tmp_path / ".journey-work").exists()


def test_an_unforeseen_error_is_one_line_and_exit_4(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JOURNEY_LOG_DIR", str(tmp_path / "logs"))
    try:
        {}["missing"]
    except KeyError as exc:
        code = report_crash("run", exc)
    lines = capsys.readouterr().err.splitlines()
    assert code == ExitCode.MACHINERY == 4
    assert len(lines) == 1 and lines[0].startswith(
        "journey run: internal error KeyError: 'missing' (details in "
    )
    (log,) = (tmp_path / "logs").iterdir()
    assert log.name.startswith("journey-run-") and "Traceback" in log.read_text()
    assert str(log) in lines[0]
