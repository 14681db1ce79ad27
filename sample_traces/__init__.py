"""Recorded example runs that ``baton demo`` loads: OTLP/JSON, one span per line.

Produced by ``python sample_traces/generate.py`` from ``scenarios.py`` (baton's runner on
scripted models, fixed ids and timestamps); never edited by hand.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

SUFFIX = ".otlp.json"


def trace_files() -> list[Path]:
    """The sample trace files, in a stable order."""
    folder = Path(str(files(__name__)))
    return sorted(folder.glob(f"*{SUFFIX}"))
