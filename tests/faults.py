"""Ways to break things on purpose, for the fault tests: real files, real damage, no mocks."""

from __future__ import annotations

import os
from pathlib import Path


def corrupt_blocks(db: Path, every: int = 262_144, size: int = 4096) -> None:
    """Overwrite a block of random bytes every ``every`` bytes after the file header: DuckDB's checksums fail."""
    length = db.stat().st_size
    with db.open("r+b") as handle:
        for offset in range(8192, length, every):
            handle.seek(offset)
            handle.write(os.urandom(size))
