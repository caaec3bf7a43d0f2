"""Faults an operator meets: one clear line and the documented exit code, nothing lost, nothing half-done.

Every command is the installed `journey` script in a subprocess, as a scheduler or a person runs it, so what is
asserted is what they see on stderr. The damage is real: a corrupted file, a second process holding the lock,
a file-size limit that makes the copy fail the way a full disk does.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from journey.exit_codes import ExitCode
from journey.publish import Workspace
from policy.config import DEFAULT_CONFIG_PATH
from policy.run import PolicyRequest, run_policy
from tests.conftest import SAMPLE_DIR, copy_db, query
from tests.faults import corrupt_blocks

JOURNEY = str(Path(sys.executable).with_name("journey"))
PENDING = "P2f2c8d22b36a219c"  # the policy's intervention for C001 on the sample, awaiting approval


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any JOURNEY_ setting (so none leaks in), the reviewer named."""
    return {k: v for k, v in os.environ.items() if not k.startswith("JOURNEY_")} | {"USER": "alice", **extra}


def journey(
    *args: str, cwd: Path, env: dict[str, str] | None = None, **popen: object
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [JOURNEY, *args],
        cwd=cwd,
        env=env or clean_env(JOURNEY_LOG_DIR=str(cwd / "logs")),
        capture_output=True,
        text=True,
        timeout=600,
        **popen,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The command's stderr, which must be exactly one line and no traceback."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr[-3000:]
    return lines[0]


@pytest.fixture
def serving(sample_db: Path, tmp_path: Path) -> Path:
    """A serving database as after the policy ran on the sample: C001's intervention awaits approval."""
    db = copy_db(sample_db, tmp_path)  # sample.duckdb: the views name their database by the file's stem
    run_policy(PolicyRequest(db=db, dq_summary=None, run_id="faults"))
    return db


def approval_of(db: Path) -> str:
    return query(db, f"select approval_status from policy.interventions where intervention_id = '{PENDING}'")[
        0
    ][0]


def test_a_review_during_a_run_waits_for_it_and_is_never_lost(serving: Path, tmp_path: Path) -> None:
    """A run builds a working copy and replaces the serving file when it publishes: a review written to the
    serving file meanwhile would be undone. Reviews take the run's lock: refused at once, or --wait for it."""
    background = subprocess.Popen(
        [JOURNEY, "run", "--db", str(serving), "--out", str(tmp_path / "out"), "--quiet"],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lock = Workspace(serving).lock_file
    deadline = time.monotonic() + 60
    while not (lock.exists() and lock.read_text().startswith("journey run")):
        assert time.monotonic() < deadline and background.poll() is None, "the run never took its lock"
        time.sleep(0.1)

    second = journey(
        "run", "--db", str(serving), "--out", "out2", cwd=tmp_path, env=clean_env(JOURNEY_LOCK_WAIT_S="1")
    )
    assert second.returncode == ExitCode.LOCKED
    assert "journey run 20" in second.stderr and f"is writing {serving}" in second.stderr
    assert "Traceback" not in second.stderr + second.stdout and "KeyError" not in second.stderr

    refused = journey("review", "approve", PENDING, "--db", str(serving), cwd=tmp_path)
    assert refused.returncode == ExitCode.LOCKED
    assert one_line(refused).startswith("error: the review was NOT recorded: journey run ")
    assert approval_of(serving) == "pending"

    waited = journey("review", "approve", PENDING, "--db", str(serving), "--wait", "300", cwd=tmp_path)
    assert waited.returncode == 0, waited.stderr
    assert background.wait(timeout=300) == 0, background.stderr
    assert approval_of(serving) == "approved"  # after the run's publish, not undone by it
    assert query(
        serving, "select reviewed_by from policy.interventions where approval_status = 'approved'"
    ) == [("alice",)]
    statuses = [
        json.loads(line)["status"] for line in (tmp_path / "sample.runs.jsonl").read_text().splitlines()
    ]
    assert sorted(statuses) == ["locked", "ok"]


def test_a_corrupt_database_is_named_as_such_by_every_command(serving: Path, tmp_path: Path) -> None:
    corrupt_blocks(serving)
    before = serving.read_bytes()
    for argv in (
        ["run", "--db", "sample.duckdb", "--out", "out"],
        ["dq", "--db", "sample.duckdb", "--out", "dq"],
        ["policy", "--db", "sample.duckdb"],
        ["policy", "--db", "sample.duckdb", "--dry-run"],
        ["review", "list", "--db", "sample.duckdb"],
        ["review", "approve", PENDING, "--db", "sample.duckdb"],
    ):
        result = journey(*argv, cwd=tmp_path)
        assert result.returncode == ExitCode.BAD_INPUT, (argv, result.stderr[-2000:])
        first = result.stderr.strip().splitlines()[0]
        assert "is corrupt or not a DuckDB database file" in first and "locked" not in first, argv
        assert "Traceback" not in result.stderr, argv
        one_line(result)
    assert serving.read_bytes() == before
    assert not Workspace(serving).working.exists()


BAD_POLICIES = {
    "share_out_of_range": (("holdout", "share"), 1.5, "holdout.share: must be <= 0.5, got 1.5"),
    "unknown_action": (
        ("catalog", "onboarding", "critical"),
        "call_the_ceo",
        "catalog.onboarding.critical: 'call_the_ceo' is not in ref_actions",
    ),
    "missing_key": (
        ("suppression", "cooldown_days"),
        None,
        "suppression.cooldown_days: required key is missing",
    ),
}


@pytest.mark.parametrize("case", list(BAD_POLICIES))
def test_a_bad_policy_config_stops_the_run_before_any_stage(case: str, tmp_path: Path) -> None:
    keys, value, expected = BAD_POLICIES[case]
    config = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    parent = config
    for key in keys[:-1]:
        parent = parent[key]
    if value is None:
        del parent[keys[-1]]
    else:
        parent[keys[-1]] = value
    bad = tmp_path / "policy.yml"
    bad.write_text(yaml.safe_dump(config), encoding="utf-8")

    began = time.monotonic()
    result = journey(
        "run", "--db", "journey.duckdb", "--out", "out", "--policy-config", "policy.yml", cwd=tmp_path
    )
    assert result.returncode == ExitCode.USAGE
    line = one_line(result)
    assert line.startswith(f"journey run: preflight failed: {bad}: ") and expected in line
    if case == "unknown_action":  # the allowed values are named
        assert "allowed: onboarding_nudge_email, onboarding_specialist_call, " in line
    assert time.monotonic() - began < 20  # seconds, not a dbt build (the preflight reads two YAML files)
    assert (
        not (tmp_path / "journey.duckdb").exists()
        and not Workspace(tmp_path / "journey.duckdb").working.exists()
    )
    (record,) = [json.loads(line) for line in (tmp_path / "journey.runs.jsonl").read_text().splitlines()]
    assert record["status"] == "bad_config" and expected in record["message"]


def _limit_file_size() -> None:
    """In the child: writing a file past 1 MiB fails with EFBIG, as a full disk fails a write with ENOSPC."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))


def test_a_full_disk_while_the_working_copy_is_made_is_exit_4_and_cleaned_up(
    serving: Path, tmp_path: Path
) -> None:
    assert serving.stat().st_size > 1 << 20
    before = serving.read_bytes()
    result = journey(
        "run", "--db", "sample.duckdb", "--out", "out", cwd=tmp_path, preexec_fn=_limit_file_size
    )
    assert result.returncode == ExitCode.MACHINERY
    line = one_line(result)
    assert line.startswith("journey run: working copy failed: File too large: ") and ".journey-work" in line
    assert not Workspace(serving).working.exists()  # no partial copy left behind
    assert serving.read_bytes() == before
    (record,) = [json.loads(line) for line in (tmp_path / "sample.runs.jsonl").read_text().splitlines()]
    assert record["status"] == "failed" and record["exit_code"] == 4 and "File too large" in record["message"]


def test_a_failed_dbt_stage_is_summed_up_from_its_structured_result(tmp_path: Path) -> None:
    feeds = tmp_path / "feeds"
    shutil.copytree(SAMPLE_DIR, feeds, ignore=shutil.ignore_patterns("*.csv"))
    (feeds / "customers.json").write_text('[{"customer_id": "C1",')
    result = journey("run", "--input-dir", "feeds", "--db", "journey.duckdb", "--out", "out", cwd=tmp_path)
    assert result.returncode == ExitCode.BAD_INPUT
    line = one_line(result)
    assert line.startswith("journey run: dbt build failed: ") and "customers.json" in line
    assert "\x1b[" not in result.stdout + result.stderr
    note = next(text for text in result.stdout.splitlines() if text.strip().startswith("note:"))
    assert "customers.json" in note and note.strip() != "note: Encountered an error:"


def test_a_review_of_a_missing_database_writes_nothing_anywhere(tmp_path: Path) -> None:
    db = tmp_path / "typo" / "journey.duckdb"
    for argv in (["review", "approve", PENDING, "--db", str(db)], ["policy", "--db", str(db)]):
        result = journey(*argv, cwd=tmp_path)
        assert result.returncode == ExitCode.BAD_INPUT
        assert one_line(result) == f"error: {db}: no such database file; build it first (`journey run`)"
    assert not db.parent.exists()  # no lock folder beside a database that is not there
