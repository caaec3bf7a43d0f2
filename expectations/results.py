"""What a data-quality run found: plain dataclasses, independent of Great Expectations."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from expectations.config import Severity
from journey.exit_codes import ExitCode

EXIT_OK = ExitCode.OK
EXIT_ERRORS = ExitCode.DQ_ERRORS
EXIT_USAGE = ExitCode.USAGE
EXIT_DB_UNREADABLE = ExitCode.BAD_INPUT


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    # GE could not evaluate the expectation (bad SQL, missing column, ...): always fails the run.
    EXCEPTION = "exception"
    SKIPPED = "skipped"


@dataclass
class ExpectationOutcome:
    suite: str
    expectation_id: str
    severity: Severity
    table: str
    kind: str
    description: str
    status: Status
    unexpected_count: int | None = None
    offending_keys: list[str] = field(default_factory=list)
    offending_labels: list[str] = field(default_factory=list)
    keys_truncated: bool = False
    observed: Any = None
    exception: str | None = None
    # From an informational suite: a failed warning is an operational flag, listed apart from the
    # data-quality warnings (an error-severity failure still fails the run).
    informational: bool = False

    @property
    def is_error(self) -> bool:
        """Fails the run: a failed error-severity expectation, or any expectation that could not run."""
        return self.status is Status.EXCEPTION or (
            self.status is Status.FAILED and self.severity is Severity.ERROR
        )

    @property
    def is_warning(self) -> bool:
        """A data-quality warning: reported, never fails the run."""
        return self.status is Status.FAILED and self.severity is Severity.WARNING and not self.informational

    @property
    def is_notice(self) -> bool:
        """A failed warning of an informational suite: an operational flag, not a data defect."""
        return self.status is Status.FAILED and self.severity is Severity.WARNING and self.informational


@dataclass
class SuiteRun:
    name: str
    description: str
    outcomes: list[ExpectationOutcome]
    seconds: float = 0.0
    skipped_reason: str | None = None
    informational: bool = False

    @property
    def skipped(self) -> bool:
        """Nothing in the suite ran (its note says why); some expectations alone may be skipped too."""
        return self.skipped_reason is not None


@dataclass
class DqResult:
    db_path: Path
    out_dir: Path
    suites: list[SuiteRun]
    timings: dict[str, float]
    started_at: str
    ge_version: str
    data_docs_index: Path | None = None

    @property
    def outcomes(self) -> list[ExpectationOutcome]:
        return [outcome for suite in self.suites for outcome in suite.outcomes]

    @property
    def errors(self) -> list[ExpectationOutcome]:
        return [outcome for outcome in self.outcomes if outcome.is_error]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [outcome for outcome in self.outcomes if outcome.is_warning]

    @property
    def notices(self) -> list[ExpectationOutcome]:
        return [outcome for outcome in self.outcomes if outcome.is_notice]

    @property
    def exit_code(self) -> int:
        return EXIT_ERRORS if self.errors else EXIT_OK


class DatabaseUnreadableError(RuntimeError):
    """The DuckDB file is missing, is not a DuckDB database, or is locked by a writer."""
