"""The floor of ``bench/bench_peers.py``, run by baton's venv: the same runs with no tool
recording them (the SDK's processors replaced by the counting one alone)."""

from __future__ import annotations

import argparse

import workflow
from agents.tracing import set_trace_processors


def setup(args: argparse.Namespace) -> workflow.Tool:
    set_trace_processors([])  # the counting processor is added after this

    return workflow.Tool(
        name="no tool",
        package="openai-agents",
        flush=lambda: None,
        count=lambda: (0, 0),
        extra_spans=lambda sdk: 0,
        extra_doc="(nothing recorded)",
        records=False,
    )


if __name__ == "__main__":
    workflow.main(setup)
