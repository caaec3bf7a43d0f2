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


def save_traceback(exc: BaseException, path: Path) -> str:
    """Write the traceback of ``exc`` to ``path``; the path written, or why nothing was."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
        return str(path)
    except OSError as error:
        return f"not written: {error.strerror or error}"


def report_crash(command: str, exc: BaseException) -> int:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    saved = save_traceback(exc, crash_log_dir() / f"journey-{command}-{stamp}.log")
    where = f"details in {saved}" if not saved.startswith("not written") else f"no log {saved}"
    summary = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    print(
        f"journey {command}: internal error {type(exc).__name__}{': ' + summary if summary else ''} ({where})",
        file=sys.stderr,
    )
    return EXIT_MACHINERY
