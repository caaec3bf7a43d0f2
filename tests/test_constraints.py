"""Enforced contract constraints (issue 18): a table model's not_null and check rules are checked by DuckDB as it
writes the table, and a violated one ends `journey run` with one line naming the table and the column.

Bad feed values never reach a constraint (staging rejects them into quality.rejected_rows), so a constraint is a
guard against a bug or a bad configuration. The realistic case here is a reference CSV that lost a row: a copy of
the dbt project whose seeds/ref_kpi_parameters.csv has no human_review_cost, so intermediate.int_kpi_parameters
would hold a null human_review_cost (its not_null constraint). Real dbt, real DuckDB, a temporary database.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from journey.exit_codes import ExitCode
from journey.project import PROJECT_DIR
from journey.run import RunOptions, execute
from tests.conftest import SAMPLE_DIR

# what a dbt project folder holds (dbt_project.yml's paths, profiles.yml)
PROJECT_PARTS = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "data-tests", "analyses")


def project_copy(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for part in PROJECT_PARTS:
        source = PROJECT_DIR / part
        if source.is_dir():
            shutil.copytree(source, folder / part)
        else:
            shutil.copy2(source, folder / part)
    return folder


def test_a_violated_constraint_ends_the_run_with_one_line_naming_table_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = project_copy(tmp_path / "project")
    parameters = project / "seeds" / "ref_kpi_parameters.csv"
    lines = parameters.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith("human_review_cost,")]
    assert len(kept) == len(lines) - 1
    parameters.write_text("".join(kept), encoding="utf-8")
    serving = tmp_path / "serving" / "journey.duckdb"
    options = RunOptions(
        db=serving,
        input_dir=SAMPLE_DIR,
        out=tmp_path / "out",
        quiet=True,
        target_path=tmp_path / "target",
        project_dir=project,
    )
    exit_code, summary = execute(options)
    err = capsys.readouterr().err
    assert exit_code == ExitCode.MACHINERY, (exit_code, err)  # a model failed: nothing is published
    failed = [line for line in err.splitlines() if line.strip()]
    assert len(failed) == 1, err
    line = failed[0]
    assert line.startswith("journey run: dbt build failed: "), line
    assert "Traceback" not in err
    assert "intermediate.int_kpi_parameters.human_review_cost" in line, line
    assert "NOT NULL constraint failed" in line and "__dbt_tmp" not in line, line
    assert summary["status"] == "failed" and not summary["published"], summary
    assert not serving.exists()  # nothing was published


def test_the_constraints_are_in_the_built_tables(sample_db: Path) -> None:
    """The rules are the tables' own: DuckDB lists them, and refuses a row that breaks one."""
    with duckdb.connect(str(sample_db), read_only=True) as connection:
        constraints = set(
            connection.sql(
                "select schema_name || '.' || table_name, constraint_type, constraint_text "
                "from duckdb_constraints() where schema_name in ('marts', 'quality', 'intermediate')"
            ).fetchall()
        )
    assert ("marts.customer_risk_scores", "CHECK", "CHECK((risk_score BETWEEN 0 AND 1))") in constraints
    assert ("quality.rejected_rows", "NOT NULL", "NOT NULL") in constraints
    assert ("intermediate.int_kpi_parameters", "NOT NULL", "NOT NULL") in constraints
    copy = sample_db.parent / "constraints_copy.duckdb"
    shutil.copy2(sample_db, copy)
    with (
        duckdb.connect(str(copy)) as connection,
        pytest.raises(duckdb.ConstraintException, match="CHECK constraint failed"),
    ):
        connection.execute(
            "update marts.customer_risk_scores set risk_score = 1.5 where customer_id = 'C001'"
        )
