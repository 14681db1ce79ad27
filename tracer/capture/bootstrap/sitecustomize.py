"""baton run's bootstrap: Python imports this ``sitecustomize`` at start-up in every
process that ``baton run`` starts (its folder is first on PYTHONPATH, as with
``opentelemetry-instrument``).

It equips the process for recording (``tracer.capture.inprocess``), then takes its
folder off ``sys.path`` and imports the next ``sitecustomize``, so one the user or the
environment already had still runs. A Python without baton installed is left alone: its
OTLP exporters, if any, send to ``baton run``'s receiver.
"""

from __future__ import annotations

import os
import sys


def _equip() -> None:
    try:
        from tracer.capture.inprocess import start
    except ImportError:  # another Python, without baton
        return
    try:
        start()
    except Exception as exc:  # never stop the program
        print(f"baton run: this process is not recorded in-process ({exc})", file=sys.stderr)


def _chain() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    ours = sys.modules.pop("sitecustomize", None)
    try:
        import sitecustomize  # noqa: F401  (the next one on sys.path, if there is one)
    except ImportError as exc:
        if exc.name != "sitecustomize":
            raise
        if ours is not None:
            sys.modules["sitecustomize"] = ours


_equip()
_chain()
