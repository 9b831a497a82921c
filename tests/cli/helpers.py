"""Run the real ``assay`` command in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_cli(*args: str | Path, cwd: Path | None = None, timeout: int = 300):
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("ASSAY_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "assay.cli.main", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
    )
