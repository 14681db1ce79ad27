"""baton's writing side: recording multi-agent runs as OpenTelemetry spans in DuckDB."""

from __future__ import annotations

from tracer.agent import Agent, AgentTool, Handoff, handoff
from tracer.context import RunContext
from tracer.errors import (
    HandoffLoopError,
    MaxTurnsExceeded,
    ModelBehaviorError,
    ModelError,
    RunError,
)
from tracer.exporter import StoreExporter
from tracer.loop_guard import LoopGuard, LoopPolicy
from tracer.loops import LoopSettings
from tracer.models import (
    Model,
    ModelRequest,
    ModelResponse,
    ModelSettings,
    OpenAIChatModel,
    ScriptedModel,
    ToolCall,
    Usage,
)
from tracer.provider import get_tracer, setup, shutdown
from tracer.recording import record
from tracer.result import RunResult
from tracer.run import Runner
from tracer.sanitize import Limits
from tracer.store import Store, StoreBusyError, StoreError
from tracer.tools import FunctionTool, function_tool

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
