"""What a command does with an error nobody foresaw: one line on stderr, the traceback in a file, exit 4.

Every failure a user can cause has its own message and exit code where it happens; this is the net under
them, so that a bug still ends in one sentence a person can act on (and a file to attach to a bug report).
"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from datetime import UTC, datetime
from pathlib import Path

from journey.exit_codes import ExitCode

EXIT_MACHINERY = ExitCode.MACHINERY
EXIT_INTERRUPTED = ExitCode.INTERRUPTED


def crash_log_dir() -> Path:
    """Where crash details go: $JOURNEY_LOG_DIR, else the system's temporary folder."""
    return Path(os.environ.get("JOURNEY_LOG_DIR") or tempfile.gettempdir())


def report_crash(command: str, exc: BaseException) -> int:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    detail = "".join(traceback.format_exception(exc))
    where = "no log written"
    try:
        folder = crash_log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"journey-{command}-{stamp}.log"
        path.write_text(detail, encoding="utf-8")
        where = f"details in {path}"
    except OSError as log_error:
        where = f"no log written: {log_error.strerror or log_error}"
    summary = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    print(
        f"journey {command}: internal error {type(exc).__name__}{': ' + summary if summary else ''} ({where})",
        file=sys.stderr,
    )
    return EXIT_MACHINERY
