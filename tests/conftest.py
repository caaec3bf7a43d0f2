"""Shared fixtures: real dbt builds on temporary DuckDB files (no mocks).

What the session shares, and why (a full dbt parse costs ~5-9 s, a build of the sample ~10-15 s):

- ``dbt_target``: one dbt target folder for every dbt command of the session (of each xdist worker). dbt runs
  in this process with the run settings as environment variables (journey/dbt_session.py, as `journey run`
  does), so the project is parsed in full once and every later command re-parses only the files that read a
  changed setting (partial parsing). A test that passes ``--vars`` (a full re-parse) uses its own target.
- ``sample_db``: the bundled sample, built once (every model, data test and unit test). Tests read it, or
  take a private copy with ``copy_db`` instead of building the sample again.
- ``sample_run``: the bundled sample's full `journey run` (~30 s: build, data quality, policy, downstream
  models, report, publish), run once: the serving folder (database, ledger), the out folder, the run's summary
  and the manifest it ran with. Tests read it, or take a private copy of the serving folder with
  ``copy_serving`` (a test that runs again on it, or writes to it) instead of running the sample again.
- Under pytest-xdist (pyproject.toml: two workers) the first worker to need the sample (or its run) builds it
  into the run's shared folder, under a file lock; every worker then works on its own copy of the database,
  and starts its target folder from the builder's saved parse. The build and the run have a lock each: one
  worker can build the sample while the other runs it.
- dbt's debug log goes to the session's temporary folder, not logs/ (two xdist workers would share it).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import duckdb
import pytest

from journey.feeds import feed_specs
from journey.project import PROJECT_DIR, DbtResult, run_dbt
from journey.run import EXIT_OK, RunOptions, execute

SAMPLE_DIR = PROJECT_DIR / "seeds"
FEEDS = tuple(feed_specs())
# each feed's (first) key field, from the feed schema (dbt_project.yml var `feeds`)
KEYS = {feed: spec.key[0] for feed, spec in feed_specs().items()}


# Collected first, longest first (each file's wall time in a full run, measured; pyproject.toml turns off
# pytest-xdist's own reordering, by number of tests, which ran test_run.py fifth): with --dist loadfile the next
# file goes to the first worker free, so the long files start at once and the short ones fill the gaps at the
# end; a long file collected last kept one worker busy long after the other had finished.
LONGEST_FIRST = (
    "test_run.py",
    "test_faults.py",
    "test_bench.py",
    "test_policy_writeback.py",
    "test_learning_prediction.py",
    "test_impact.py",
    "test_incremental.py",
    "test_staging.py",
    "test_report.py",
    "test_risk_marts.py",
    "test_kpis.py",
    "test_readme_paths.py",
    "test_policy_decide.py",
    "test_learning_recovery.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # stable: the order within a file, and of the files not listed, stays
    items.sort(
        key=lambda item: (
            LONGEST_FIRST.index(item.path.name) if item.path.name in LONGEST_FIRST else len(LONGEST_FIRST)
        )
    )


def load_sample(feed: str) -> list[dict]:
    return json.loads((SAMPLE_DIR / f"{feed}.json").read_text())


def write_feeds(
    folder: Path, feeds: dict[str, object], *, ndjson: set[str] = frozenset(), bom: set[str] = frozenset()
) -> Path:
    """Write feeds into `folder`: lists become JSON arrays (or NDJSON), strings are written as-is."""
    folder.mkdir(parents=True, exist_ok=True)
    for feed, content in feeds.items():
        if isinstance(content, str):
            text = content
        elif feed in ndjson:
            text = "".join(json.dumps(record) + "\n" for record in content)
        else:
            text = json.dumps(content, indent=1)
        (folder / f"{feed}.json").write_text(("\ufeff" if feed in bom else "") + text, encoding="utf-8")
    return folder


def query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as connection:
        return connection.sql(sql).fetchall()


def copy_db(db: Path, folder: Path) -> Path:
    """A private copy of a built database in `folder`, under the same file name: dbt-duckdb's views name their
    database by the file's stem, so a renamed copy would break every view."""
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(db, folder / db.name))


@pytest.fixture(scope="session", autouse=True)
def _dbt_log_in_the_session_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """dbt's debug log (DBT_LOG_PATH) in the session's folder: logs/ of the checkout stays untouched."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DBT_LOG_PATH", str(tmp_path_factory.mktemp("dbt-logs")))
        yield


def _shared_folder(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """The folder all xdist workers of this run share (the parent of each worker's temporary folder); None
    when pytest runs without workers (the parent is then shared with other pytest runs on the machine)."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return None
    return tmp_path_factory.getbasetemp().parent


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` among the workers (released when the block ends)."""
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def dbt_target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's one dbt target folder (see the module docstring): its partial_parse.msgpack is reused."""
    target = tmp_path_factory.mktemp("dbt") / "target"
    shared = _shared_folder(tmp_path_factory)
    if shared is not None:
        with _locked(shared / "sample.lock"):
            saved = shared / "sample" / "partial_parse.msgpack"
            if saved.exists():
                target.mkdir()
                shutil.copy(saved, target / saved.name)
    return target


@pytest.fixture(scope="session", autouse=True)
def _dbt_target_for_commands(dbt_target: Path) -> Iterator[None]:
    """DBT_TARGET_PATH for every dbt command that names no target (the `journey` commands the tests run in a
    subprocess, `journey run` in process): the session's folder, never the checkout's target/ (two xdist
    workers would share it)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DBT_TARGET_PATH", str(dbt_target))
        yield


@pytest.fixture
def dbt_build(dbt_target: Path) -> Callable[..., DbtResult]:
    """Run `dbt build` into a database of the test's choosing, with the session's target folder."""

    def build(
        db: Path,
        input_dir: Path = SAMPLE_DIR,
        *,
        as_of: str | None = None,
        args: list[str] | None = None,
        load_mode: str | None = None,
        feed_file_pattern: str | None = None,
    ) -> DbtResult:
        return run_dbt(
            ["build", *(args or [])],
            db=db,
            input_dir=input_dir,
            as_of=as_of,
            target_path=dbt_target,
            echo=False,
            load_mode=load_mode,
            feed_file_pattern=feed_file_pattern,
        )

    return build


def _build_sample(db: Path, target: Path) -> None:
    result = run_dbt(["build"], db=db, input_dir=SAMPLE_DIR, target_path=target, echo=False)
    assert result.ok, result.output[-4000:]


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory: pytest.TempPathFactory, dbt_target: Path) -> Path:
    """The bundled sample, built once per test session. Treat it as read-only (``copy_db`` for a copy)."""
    folder = tmp_path_factory.mktemp("sample")
    shared = _shared_folder(tmp_path_factory)
    if shared is None:
        _build_sample(folder / "sample.duckdb", dbt_target)
        return folder / "sample.duckdb"
    with _locked(shared / "sample.lock"):
        if not (shared / "sample").exists():  # the first worker here builds it (a failed build leaves none)
            building = shared / "sample-building"
            shutil.rmtree(building, ignore_errors=True)
            building.mkdir()
            _build_sample(building / "sample.duckdb", dbt_target)
            shutil.copy(dbt_target / "partial_parse.msgpack", building / "partial_parse.msgpack")
            building.rename(shared / "sample")
    return copy_db(shared / "sample" / "sample.duckdb", folder)


@pytest.fixture
def sample_copy(tmp_path: Path) -> Callable[[], Path]:
    """A fresh copy of the sample feeds that a test may change."""

    def make(name: str = "feeds") -> Path:
        target = tmp_path / name
        target.mkdir()
        for feed in FEEDS:
            shutil.copy(SAMPLE_DIR / f"{feed}.json", target / f"{feed}.json")
        return target

    return make


class SampleRun(NamedTuple):
    """The sample's `journey run` (``sample_run``): read-only, shared by the session (and its xdist workers)."""

    db: Path  # the published serving database, <folder>/serving/journey.duckdb (its ledger beside it)
    summary: dict  # what execute() returned (its out_dir is under <folder>/out)
    folder: Path  # also holds manifest.json: the manifest the run ran with


def _run_sample(folder: Path, target: Path) -> None:
    """One full `journey run` of the sample into ``folder``/serving, with the manifest and summary beside it."""
    db = folder / "serving" / "journey.duckdb"
    options = RunOptions(db=db, input_dir=SAMPLE_DIR, out=folder / "out", quiet=True, target_path=target)
    exit_code, summary = execute(options)
    assert exit_code == EXIT_OK, summary
    # the session's target is rewritten by later commands: keep the manifest this run ran with
    shutil.copy(target / "manifest.json", folder / "manifest.json")
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")


def _sample_run_in(folder: Path) -> SampleRun:
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    return SampleRun(folder / "serving" / "journey.duckdb", summary, folder)


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory: pytest.TempPathFactory, dbt_target: Path) -> SampleRun:
    """The sample's full `journey run` into a fresh serving database, once per pytest run (see the module
    docstring). Treat all of it as read-only: ``copy_serving`` for a serving folder a test may run again on."""
    shared = _shared_folder(tmp_path_factory)
    if shared is None:
        folder = tmp_path_factory.mktemp("sample-run")
        _run_sample(folder, dbt_target)
        return _sample_run_in(folder)
    folder = shared / "sample-run"
    with _locked(shared / "sample-run.lock"):
        # the first worker here runs it; summary.json is written last (a failed run leaves none). The run
        # happens in the folder it is read from: its summary and ops.runs name its paths.
        if not (folder / "summary.json").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            _run_sample(folder, dbt_target)
    return _sample_run_in(folder)


def copy_serving(run: SampleRun, folder: Path) -> Path:
    """A private copy of the run's serving folder in `folder` (the database under its own name, its ledger
    and the run's workspace folder, as the run left them); returns the copy's database."""
    shutil.copytree(run.db.parent, folder)
    return folder / run.db.name
