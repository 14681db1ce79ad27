"""What the examples share: live model or scripted one, where to record, how to look.

Every example runs against OpenAI when ``OPENAI_API_KEY`` is set (or any
OpenAI-compatible server through ``OPENAI_BASE_URL``: vLLM, Ollama, Azure), and on a
scripted model otherwise, so it works offline with no key.
"""

from __future__ import annotations

import argparse
import os
import shlex
from collections.abc import Sequence

import tracer
from tracer.runner.models import default_model_name
from tracer.runner.models.scripted import Step


def live() -> bool:
    """Whether to call a real model endpoint."""
    if os.environ.get("OPENAI_BASE_URL") and not os.environ.get("OPENAI_API_KEY"):
        # Local OpenAI-compatible servers ignore the key, but the client insists on one.
        os.environ["OPENAI_API_KEY"] = "unused-by-local-server"
    return bool(os.environ.get("OPENAI_API_KEY"))


def model(script: Sequence[Step]) -> str | tracer.ScriptedModel:
    """The model for one agent: the live model (``$OPENAI_DEFAULT_MODEL``, as for any agent
    without a model), or ``script`` played back."""
    if live():
        return default_model_name()
    return tracer.ScriptedModel(script)


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--store", help="the store to record into (default: $BATON_STORE, else your user store)"
    )
    return parser.parse_args()


def start_recording(store: str | None) -> tracer.Store:
    """Record everything this process runs into ``store``; returns it."""
    where = tracer.Store(store)
    tracer.setup(where)
    mode = "live model" if live() else "scripted model (set OPENAI_API_KEY to use OpenAI)"
    print(f"recording into {where.path} · {mode}")
    return where


def finish(result: tracer.RunResult, store: tracer.Store) -> None:
    """Flush the recording and say how to open it."""
    tracer.shutdown()
    flag = f" --store {shlex.quote(str(store.path))}"
    print(f"\n{result.last_agent.name}: {result.final_output}\n")
    print("Recorded. Open it with:")
    print(f"  baton tui{flag} {result.conversation_id}")
    print(
        f'  baton sql{flag} "select seq, from_agent, to_agent from handoffs '
        f"where conversation_id = '{result.conversation_id}' order by seq\""
    )
