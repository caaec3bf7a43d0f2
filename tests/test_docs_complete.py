"""Every model, seed and source is described, and so is every column of every relation they build.

Read from what dbt parsed (target/manifest.json of the session's sample build) and from what the database holds
(information_schema.columns), so a model or a column added without a YAML description fails here: the README's
promise that the docs are complete cannot quietly stop being true.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb

from journey.project import run_dbt
from journey.runrecord import RunRecord, write_ops_runs
from policy.run import PolicyRequest, run_policy
from tests.conftest import SAMPLE_DIR, copy_db

DOCUMENTED_TYPES = ("model", "seed", "snapshot")
# The models with no primary key, by design: each says so, and why, in its description ("No primary key").
WITHOUT_A_KEY = {"rejected_rows"}
KEY_TESTS = ("unique", "unique_combination", "primary_key")


def built_columns(db: Path) -> dict[tuple[str, str], list[str]]:
    with duckdb.connect(str(db), read_only=True) as connection:
        rows = connection.sql(
            "select table_schema, table_name, column_name from information_schema.columns "
            "order by table_schema, table_name, ordinal_position"
        ).fetchall()
    columns: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in rows:
        columns.setdefault((schema.lower(), table.lower()), []).append(column.lower())
    return columns


def undocumented(manifest: dict, columns: dict[tuple[str, str], list[str]]) -> list[str]:
    """What has no description: models/seeds and their built columns, sources and their declared or built columns."""
    problems: list[str] = []
    nodes = [node for node in manifest["nodes"].values() if node["resource_type"] in DOCUMENTED_TYPES]
    for node in [*nodes, *manifest["sources"].values()]:
        name = node["unique_id"]
        if not (node.get("description") or "").strip():
            problems.append(f"{name}: no description")
        described = {
            column.lower(): (spec.get("description") or "").strip()
            for column, spec in node["columns"].items()
        }
        problems += [
            f"{name}: column {column} has no description" for column, text in described.items() if not text
        ]
        relation = (
            node["schema"].lower(),
            (node.get("alias") or node.get("identifier") or node["name"]).lower(),
        )
        if node["resource_type"] != "source" and relation not in columns:
            problems.append(f"{name}: not built in the test database ({'.'.join(relation)})")
            continue
        problems += [
            f"{name}: built column {column} is not in its YAML"
            for column in columns.get(relation, [])
            if column not in described
        ]
    return problems


def test_every_model_and_column_is_described(sample_db: Path, tmp_path: Path, dbt_target: Path) -> None:
    parsed = run_dbt(["parse"], db=sample_db, input_dir=SAMPLE_DIR, target_path=dbt_target, echo=False)
    assert parsed.ok, parsed.output[-3000:]
    manifest = json.loads((dbt_target / "manifest.json").read_text())
    # The policy and ops tables are written by Python: write them on a copy so their columns are checked too.
    db = copy_db(sample_db, tmp_path / "db")
    run_policy(PolicyRequest(db=db, dq_summary=None, run_id="docs-check"))
    record = RunRecord(run_id="docs-check", started_at="2025-01-20T06:00:00+00:00", input_dir="seeds")
    write_ops_runs(db, tmp_path / "ledger.jsonl", record)
    columns = built_columns(db)
    for source in ("policy.interventions", "policy.decision_log", "ops.runs"):
        assert tuple(source.split(".")) in columns, source

    problems = undocumented(manifest, columns)
    assert problems == [], "\n".join(problems)

    # The check itself finds a gap: a model with an undocumented column, and one with no description at all.
    node = next(n for n in manifest["nodes"].values() if n["name"] == "journey_states")
    node["columns"].pop("segment")
    node["description"] = ""
    assert undocumented(manifest, columns) == [
        "model.customer_journey.journey_states: no description",
        "model.customer_journey.journey_states: built column segment is not in its YAML",
    ]


def test_only_staging_models_read_sources(dbt_target: Path, sample_db: Path) -> None:
    """The feeds, the policy's tables and ops.runs are each read by staging models only; everything else refs."""
    parsed = run_dbt(["parse"], db=sample_db, input_dir=SAMPLE_DIR, target_path=dbt_target, echo=False)
    assert parsed.ok, parsed.output[-3000:]
    manifest = json.loads((dbt_target / "manifest.json").read_text())
    readers = {
        node["original_file_path"]: sorted(p for p in node["depends_on"]["nodes"] if p.startswith("source."))
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }
    outside = {
        path: sources
        for path, sources in readers.items()
        if sources and not path.startswith("models/staging/")
    }
    assert outside == {}
    read = {source for sources in readers.values() for source in sources}
    assert read == set(manifest["sources"])  # every declared source has its staging model


def test_no_model_names_a_relation_where_ref_or_source_belongs(dbt_target: Path, sample_db: Path) -> None:
    """A model or singular test reads the project's relations through ref/source, never by a hard-coded
    schema.table (which dbt's lineage, selectors and the policy-first build order could not see)."""
    manifest = json.loads((dbt_target / "manifest.json").read_text())
    schemas = {node["schema"].lower() for node in manifest["nodes"].values() if node.get("schema")}
    schemas |= {source["schema"].lower() for source in manifest["sources"].values()}
    pattern = re.compile(rf"\b(?:from|join)\s+\"?({'|'.join(sorted(schemas))})\"?\.\"?\w+", re.IGNORECASE)
    comments = re.compile(r"\{#.*?#\}|--[^\n]*|/\*.*?\*/", re.DOTALL)
    found = {
        node["original_file_path"]: pattern.findall(comments.sub("", node["raw_code"]))
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "test") and node.get("raw_code")
    }
    assert "models/marts/risk/customer_risk_scores.sql" in found and len(found) > 50  # every model was read
    assert {path: names for path, names in found.items() if names} == {}


def models_without_a_key(manifest: dict) -> list[str]:
    """The models with no primary-key test: neither a `unique` test on a column (declared under the column, or at
    the model level with column_name) nor a `unique_combination` or `primary_key` test attached to them."""
    keyed = set()
    for node in manifest["nodes"].values():
        metadata = node.get("test_metadata") or {}
        kwargs = metadata.get("kwargs") or {}
        if node["resource_type"] != "test" or metadata.get("name") not in KEY_TESTS:
            continue
        columns = kwargs.get("columns") if metadata["name"] != "unique" else None
        if columns or node.get("column_name") or kwargs.get("column_name"):
            keyed.add(node.get("attached_node"))
    return sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["unique_id"] not in keyed
    )


def test_every_model_declares_a_tested_primary_key(dbt_target: Path, sample_db: Path) -> None:
    """Issue 18: every model's grain is a declared, tested key (a `unique` column test, or `unique_combination`
    over several columns), so dbt's tooling can check it; the exceptions say why in their description."""
    parsed = run_dbt(["parse"], db=sample_db, input_dir=SAMPLE_DIR, target_path=dbt_target, echo=False)
    assert parsed.ok, parsed.output[-3000:]
    manifest = json.loads((dbt_target / "manifest.json").read_text())
    models = {node["name"]: node for node in manifest["nodes"].values() if node["resource_type"] == "model"}
    assert len(models) > 50
    missing = sorted(set(models_without_a_key(manifest)) - WITHOUT_A_KEY)
    assert missing == [], "models without a primary-key test: " + ", ".join(missing)
    for name in WITHOUT_A_KEY:  # an exception is a model that exists, has no key, and says why
        assert name in models and name in models_without_a_key(manifest), name
        assert "No primary key" in models[name]["description"], name

    # The check itself finds a model without one: a key test removed from the real manifest ...
    key_test = next(
        unique_id
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "test"
        and node.get("attached_node") == "model.customer_journey.int_as_of_date"
    )
    del manifest["nodes"][key_test]
    assert "int_as_of_date" in models_without_a_key(manifest)

    # ... and, on a synthetic manifest, tells a key test from any other test on the same model
    def make_test(name: str, model: str, column: str | None = None, **kwargs: object) -> dict:
        return {
            "resource_type": "test",
            "attached_node": f"model.p.{model}",
            "column_name": column,
            "test_metadata": {"name": name, "kwargs": kwargs},
        }

    synthetic = {
        "nodes": {
            **{
                f"model.p.{m}": {"resource_type": "model", "name": m, "unique_id": f"model.p.{m}"}
                for m in "abcde"
            },
            "t1": make_test("unique", "a", "id"),
            "t2": make_test("unique_combination", "b", columns=["id", "day"]),
            "t3": make_test("not_null", "c", "id"),
            "t4": make_test("unique", "d", column_name="id"),  # declared at the model level
            "t5": make_test("accepted_values", "e", "id"),
        }
    }
    assert models_without_a_key(synthetic) == ["c", "e"]
