"""Build into a working copy, publish by atomic rename: analysts' read-only connections never see half a run.

The serving database (the file analysts open read-only) is never opened for writing. A run copies it into a
working folder beside it (same file name: dbt-duckdb's views name the database by its file stem), builds
there, and on success replaces the serving file with one ``os.replace``. On Linux an analyst who still has
the old file open keeps reading the old, complete version; new connections see the new one.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb


class RunLockedError(RuntimeError):
    """Another `journey run` is building the same serving database."""


@dataclass(frozen=True)
class Workspace:
    """Where a run builds: ``<serving dir>/.journey-work/<serving file name>``."""

    serving: Path

    @property
    def folder(self) -> Path:
        return self.serving.parent / ".journey-work"

    @property
    def working(self) -> Path:
        return self.folder / self.serving.name

    @property
    def lock_file(self) -> Path:
        return self.folder / f"{self.serving.name}.lock"

    @property
    def ledger(self) -> Path:
        """Every run's record, one JSON object per line (failed runs too); loaded into ops.runs on publish."""
        return self.serving.parent / f"{self.serving.stem}.runs.jsonl"

    @property
    def check_ledger(self) -> Path:
        """Every run's check results, one JSON object per run (failed runs too); ops.check_history's source."""
        return self.serving.parent / f"{self.serving.stem}.checks.jsonl"


@contextmanager
def exclusive_run(workspace: Workspace, holder: str = "journey run", wait_s: float = 0) -> Iterator[None]:
    """Hold the workspace's lock while writing: a run for its whole length, and every command that writes the
    serving database outside a run (a review, `journey policy`) for its few milliseconds, so a run's publish
    can never replace what they wrote. ``holder`` is written into the lock file for the one who waits;
    ``wait_s``: how long to wait for the lock before RunLockedError (0: fail at once)."""
    workspace.folder.mkdir(parents=True, exist_ok=True)
    with workspace.lock_file.open("a+") as handle:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError as exc:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    held_by = handle.read().strip() or "another journey command"
                    raise RunLockedError(
                        f"{held_by} is writing {workspace.serving} (lock: {workspace.lock_file})"
                    ) from exc
                time.sleep(0.1)
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"{holder} (pid {os.getpid()}, since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC)")
            handle.flush()
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def prepare_working_copy(workspace: Workspace) -> Path:
    """Start the working database from the serving one (history, policy tables) or from nothing."""
    for leftover in (workspace.working, workspace.working.with_name(workspace.working.name + ".wal")):
        leftover.unlink(missing_ok=True)
    if workspace.serving.exists():
        try:
            shutil.copyfile(workspace.serving, workspace.working)
        except (
            OSError
        ) as exc:  # a full disk: name the copy, not the file copied from, and leave no half of it
            discard(workspace)
            raise OSError(exc.errno, exc.strerror, str(workspace.working)) from exc
    return workspace.working


def publish(workspace: Workspace) -> None:
    """Checkpoint the working database and atomically put it in place of the serving one."""
    with duckdb.connect(str(workspace.working)) as connection:
        connection.execute("checkpoint")
    workspace.serving.parent.mkdir(parents=True, exist_ok=True)
    stale_wal = workspace.serving.with_name(workspace.serving.name + ".wal")
    if stale_wal.exists():
        # someone wrote to the serving file; their log must not be replayed onto the new database
        os.replace(stale_wal, stale_wal.with_name(stale_wal.name + ".stale"))
    os.replace(workspace.working, workspace.serving)


def discard(workspace: Workspace) -> None:
    """Drop a failed run's working copy; the serving database was never touched."""
    workspace.working.unlink(missing_ok=True)
    workspace.working.with_name(workspace.working.name + ".wal").unlink(missing_ok=True)
