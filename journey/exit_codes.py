"""The exit codes of every `journey` command, declared once (README "Exit codes", docs/operations.md).

A scheduler acts on the code; the one line on stderr says what to fix.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    # data-quality errors: the reports are written, nothing is published
    DQ_ERRORS = 1
    # bad usage or bad config: an argument, policy/policy.yml, a reference CSV, severity.yml
    USAGE = 2
    # bad input: a feed is missing, empty, malformed or truncated, or the database cannot be read
    BAD_INPUT = 3
    # machinery: a dbt model or test failed, a stage crashed, the disk is full
    MACHINERY = 4
    # another run holds the lock on this serving database
    LOCKED = 5
    # stopped by Ctrl-C or SIGINT
    INTERRUPTED = 130
