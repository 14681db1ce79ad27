"""The bundled sample traces are what their generator makes, from any checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_samples_regenerate_byte_identically_from_another_checkout(tmp_path: Path) -> None:
    checkout = tmp_path / "elsewhere"
    for package in ("tracer", "sample_traces", "examples"):
        shutil.copytree(ROOT / package, checkout / package)
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    result = subprocess.run(
        [sys.executable, str(checkout / "sample_traces" / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=checkout,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "sample traces are up to date" in result.stdout
