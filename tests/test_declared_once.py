"""The interventions' and the policy tables' column lists are derived from their one declaration (issue 18).

The interventions feed's fields are declared in the var `feeds` of dbt_project.yml, the policy's tables in
models/staging/_policy__sources.yml. A list pasted elsewhere would agree with them today, so agreement proves
nothing: these tests add a column to the declarations in a copy of the project and check that the SQL models and
the Python write-back pick it up. Real dbt (compile) and real imports of the copy's modules, no stand-ins.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from journey.dbt_session import DbtSession
from journey.project import PROJECT_DIR
from tests.conftest import SAMPLE_DIR
from tests.test_constraints import project_copy

SOURCES = Path("models") / "staging" / "_policy__sources.yml"
# a declared column of policy.interventions that nothing writes yet (the policy leaves it null, like the review
# columns), and one of policy.decision_log (a decision column: decide's output would have to carry it)
NEW_INTERVENTION_COLUMN = """          - name: channel
            description: Added by the test.
            data_type: string
"""
NEW_LOG_COLUMN = """          - name: decision_note
            description: Added by the test.
            data_type: string
"""


def _insert_before(path: Path, anchor: str, text: str) -> None:
    content = path.read_text(encoding="utf-8")
    assert content.count(anchor) == 1, anchor
    path.write_text(content.replace(anchor, text + anchor), encoding="utf-8")


def _declare_new_columns(project: Path) -> None:
    sources = project / SOURCES
    _insert_before(sources, "          - name: reviewed_by\n", NEW_INTERVENTION_COLUMN)
    _insert_before(sources, "          - name: is_holdout\n", NEW_LOG_COLUMN)
    _insert_before(
        project / "dbt_project.yml",
        "    outcomes:\n",
        "        - {name: channel, kind: string}\n",
    )


def _select_list(sql: str, cte: str) -> list[str]:
    """The output names of the first select of a CTE of compiled SQL (one column a line)."""
    body = sql.split(f"{cte} as (", 1)[1].split("select", 1)[1].split("\n    from ", 1)[0]
    return [line.strip().rstrip(",").split(" as ")[-1].split(".")[-1] for line in body.strip().splitlines()]


def test_the_sql_models_take_the_interventions_columns_from_the_declarations(tmp_path: Path) -> None:
    project = project_copy(tmp_path / "project")
    _declare_new_columns(project)
    target = tmp_path / "target"
    session = DbtSession(
        db=tmp_path / "db" / "journey.duckdb", input_dir=SAMPLE_DIR, target_path=target, project_dir=project
    )
    (tmp_path / "db").mkdir()
    result = session.invoke(["compile", "-s", "stg_policy__interventions", "int_interventions__combined"])
    assert result.ok, result.output[-3000:]
    compiled = target / "compiled" / "customer_journey" / "models"
    staging = (compiled / "staging" / "stg_policy__interventions.sql").read_text()
    # the policy source's columns in their declared order, less the review columns
    assert _select_list(staging, "final") == [
        "intervention_id", "customer_id", "journey_stage", "recommended_action", "confidence",
        "requires_human_approval", "triggered_by_signals", "evaluation_latency_ms", "generated_at",
        "policy_version", "reason", "decision_id", "approval_status", "run_id", "decided_at", "channel",
    ]  # fmt: skip
    assert "cast(null as string) as channel" in staging  # the empty fallback relation before the policy ran
    combined = (compiled / "intermediate" / "outcomes" / "int_interventions__combined.sql").read_text()
    feed_part, policy_part = combined.split("union all")
    fields = [
        "intervention_id", "customer_id", "journey_stage", "recommended_action", "confidence",
        "requires_human_approval", "triggered_by_signals", "evaluation_latency_ms", "generated_at", "channel",
    ]  # fmt: skip
    extras = ["origin", "policy_version", "decision_id", "approval_status", "reason"]
    assert _select_list(feed_part, "combined") == fields + extras
    assert _select_list("policy as (" + policy_part, "policy") == fields + extras


_PROBE = """
import json
from policy import decide, spark_policy, tables, writeback

print(json.dumps({
    "sources": str(tables.SOURCES_FILE),
    "decision_columns": decide.DECISION_OUTPUT_SCHEMA.names,
    "intervention_rows": writeback._INTERVENTION_ROWS,
    "log_rows": writeback.LOG_ROWS_SQL,
    "spark_interventions": spark_policy._INTERVENTION_COLUMNS,
}))
"""


def test_the_write_back_takes_the_policy_tables_columns_from_the_declaration(tmp_path: Path) -> None:
    """The copy's own policy package reads the copy's declaration (policy/tables.py finds it next to itself)."""
    copy = tmp_path / "copy"
    for part in ("policy", "journey", "models"):
        shutil.copytree(PROJECT_DIR / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(PROJECT_DIR / "dbt_project.yml", copy / "dbt_project.yml")
    _declare_new_columns(copy)
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=copy,
        env={**os.environ, "PYTHONPATH": str(copy)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    found = json.loads(probe.stdout)
    assert found["sources"] == str(copy / SOURCES)
    # a decision column: decide's output schema has it (in the declared order), the log rows write it
    names = found["decision_columns"]
    assert names.index("config_hash") < names.index("decision_note") < names.index("is_holdout")
    assert "decision_log_id" not in names and "inputs" not in names  # what the write-back records
    assert "        decision_note,\n" in found["log_rows"]
    # an intervention column the policy does not write: null, on DuckDB and on Spark, before the review columns
    for rows in (found["intervention_rows"], found["spark_interventions"]):
        assert "cast(null as string) as channel" in rows
        assert rows.index("decided_at") < rows.index("as channel") < rows.index("as reviewed_by")
