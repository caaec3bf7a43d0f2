"""Values in SQL text, where a statement takes no bound parameters (COPY, ATTACH, SET): quoted, never pasted."""

from __future__ import annotations

from pathlib import Path


def literal(value: str | Path) -> str:
    """A SQL string literal: ``O'Brien`` -> ``'O''Brien'``."""
    return "'" + str(value).replace("'", "''") + "'"
