"""baton's writing side: recording multi-agent runs as OpenTelemetry spans in DuckDB.

The parts, each a subpackage with its own rules (see its docstring):

- ``tracer.store``: the DuckDB store; imports none of the others.
- ``tracer.capture``: other producers' spans into rows, ``setup``, ``record``, the Agents
  SDK processor (``tracer.agents_sdk``), trace files in and out.
- ``tracer.otlp``: the OTLP/HTTP receiver behind ``baton collect`` and its decoders.
- ``tracer.runner``: baton's own agent runner (``Agent``, ``Runner``, models, tools).
- ``tracer.loops``: the one definition of a ping-pong loop, shared by all of them.

The names below are imported on first use, so ``import tracer`` costs nothing until a
part is needed (``baton sql`` never loads the runner, pydantic or openai).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tracer.capture.exporter import StoreExporter
    from tracer.capture.provider import get_tracer, setup, shutdown
    from tracer.capture.recording import record
    from tracer.errors import HandoffLoopError, RunError
    from tracer.loops import LoopSettings
    from tracer.runner.agent import Agent, AgentTool, Handoff, handoff
    from tracer.runner.context import RunContext
    from tracer.runner.errors import (
        MaxTurnsExceeded,
        ModelBehaviorError,
        ModelError,
    )
    from tracer.runner.loop_guard import LoopGuard, LoopPolicy
    from tracer.runner.models import (
        Model,
        ModelRequest,
        ModelResponse,
        ModelSettings,
        OpenAIChatModel,
        ScriptedModel,
        ToolCall,
        Usage,
    )
    from tracer.runner.result import RunResult
    from tracer.runner.run import Runner
    from tracer.runner.tools import FunctionTool, function_tool
    from tracer.store import Store, StoreBusyError, StoreError
    from tracer.store.sanitize import Limits

__all__ = [
    "Agent",
    "AgentTool",
    "FunctionTool",
    "Handoff",
    "HandoffLoopError",
    "Limits",
    "LoopGuard",
    "LoopPolicy",
    "LoopSettings",
    "MaxTurnsExceeded",
    "Model",
    "ModelBehaviorError",
    "ModelError",
    "ModelRequest",
    "ModelResponse",
    "ModelSettings",
    "OpenAIChatModel",
    "RunContext",
    "RunError",
    "RunResult",
    "Runner",
    "ScriptedModel",
    "Store",
    "StoreBusyError",
    "StoreError",
    "StoreExporter",
    "ToolCall",
    "Usage",
    "function_tool",
    "get_tracer",
    "handoff",
    "record",
    "setup",
    "shutdown",
]

#: The module that defines each name of ``__all__`` (the imports above, for the type
#: checker); a test holds the three in step.
_HOMES = {
    "tracer.capture.exporter": ("StoreExporter",),
    "tracer.capture.provider": ("get_tracer", "setup", "shutdown"),
    "tracer.capture.recording": ("record",),
    "tracer.loops": ("LoopSettings",),
    "tracer.runner.agent": ("Agent", "AgentTool", "Handoff", "handoff"),
    "tracer.runner.context": ("RunContext",),
    "tracer.errors": ("HandoffLoopError", "RunError"),
    "tracer.runner.errors": ("MaxTurnsExceeded", "ModelBehaviorError", "ModelError"),
    "tracer.runner.loop_guard": ("LoopGuard", "LoopPolicy"),
    "tracer.runner.models": (
        "Model",
        "ModelRequest",
        "ModelResponse",
        "ModelSettings",
        "OpenAIChatModel",
        "ScriptedModel",
        "ToolCall",
        "Usage",
    ),
    "tracer.runner.result": ("RunResult",),
    "tracer.runner.run": ("Runner",),
    "tracer.runner.tools": ("FunctionTool", "function_tool"),
    "tracer.store": ("Store", "StoreBusyError", "StoreError"),
    "tracer.store.sanitize": ("Limits",),
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'tracer' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
