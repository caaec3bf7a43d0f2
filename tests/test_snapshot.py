"""journey.snapshot: run metadata and row order do not change a digest; data does."""

from __future__ import annotations

from pathlib import Path

import duckdb

from journey.snapshot import compare, snapshot


def make_db(path: Path, rows: list[tuple], *, loaded_at: str, folder: str) -> Path:
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema staging")
        connection.execute(
            "create table staging.items (id integer, score double, loaded_from varchar, loaded_at timestamp)"
        )
        for item_id, score in rows:
            connection.execute(
                "insert into staging.items values (?, ?, ?, ?)",
                [item_id, score, f"{folder}/items.json", loaded_at],
            )
        connection.execute("create schema scratch")  # not a snapshotted schema
        connection.execute("create table scratch.other as select 1 as x")
    return path


def test_metadata_order_and_last_bits_do_not_count(tmp_path: Path) -> None:
    first = make_db(tmp_path / "a.duckdb", [(1, 0.1 + 0.2), (2, 1.0)], loaded_at="2026-01-01", folder="/x")
    second = make_db(tmp_path / "b.duckdb", [(2, 1.0), (1, 0.3)], loaded_at="2026-02-02", folder="/y/z")
    before, after = snapshot(first), snapshot(second)
    assert list(before) == ["staging.items"]
    assert before["staging.items"]["rows"] == 2
    assert before["staging.items"]["excluded"] == ["loaded_at"]
    assert compare(before, after) == []


def test_changed_rows_and_missing_tables_are_reported(tmp_path: Path) -> None:
    first = make_db(tmp_path / "a.duckdb", [(1, 0.5)], loaded_at="2026-01-01", folder="/x")
    second = make_db(tmp_path / "b.duckdb", [(1, 0.6)], loaded_at="2026-01-01", folder="/x")
    before, after = snapshot(first), snapshot(second)
    assert compare(before, after) == ["staging.items: rows differ (digest)"]
    assert compare(before, {}) == ["staging.items: only in the first snapshot"]
    assert snapshot(second, extra_excluded=frozenset({"staging.items.score"})) == snapshot(
        first, extra_excluded=frozenset({"score"})
    )
