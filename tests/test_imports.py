"""The layers stay apart: nothing in tracer or replay loads Textual."""

from __future__ import annotations

import subprocess
import sys


def test_tracer_and_replay_do_not_load_textual() -> None:
    code = (
        "import importlib, pkgutil, sys, tracer, replay\n"
        "for package in (tracer, replay):\n"
        "    for module in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
        "        importlib.import_module(module.name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'tui'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
