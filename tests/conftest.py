"""Shared fixtures: real dbt builds on temporary DuckDB files (no mocks)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from journey.project import PROJECT_DIR, DbtResult, run_dbt

SAMPLE_DIR = PROJECT_DIR / "seeds"
FEEDS = ("customers", "journey_state_log", "signals", "interventions", "outcomes")


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


@pytest.fixture
def dbt_build(tmp_path: Path) -> Callable[..., DbtResult]:
    """Run `dbt build` into a database under tmp_path; targets stay out of the repo."""

    def build(
        db: Path, input_dir: Path = SAMPLE_DIR, *, as_of: str | None = None, args: list[str] | None = None
    ) -> DbtResult:
        return run_dbt(
            ["build", *(args or [])],
            db=db,
            input_dir=input_dir,
            as_of=as_of,
            target_path=tmp_path / "target",
            echo=False,
        )

    return build


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample, built once per test session. Treat it as read-only."""
    folder = tmp_path_factory.mktemp("sample")
    db = folder / "sample.duckdb"
    result = run_dbt(["build"], db=db, input_dir=SAMPLE_DIR, target_path=folder / "target", echo=False)
    assert result.ok, result.output[-4000:]
    return db


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
