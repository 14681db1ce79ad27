"""Models the runner calls: the protocol, Chat Completions over ``openai``, a scripted one."""

from __future__ import annotations

from tracer.runner.models.base import (
    Message,
    Model,
    ModelRequest,
    ModelResponse,
    ModelSettings,
    OutputSchema,
    ToolCall,
    Usage,
)
from tracer.runner.models.openai_chat import OpenAIChatModel, default_model_name
from tracer.runner.models.scripted import ScriptedModel, call_tools, reply, tool_call

_by_name: dict[str, OpenAIChatModel] = {}


def resolve_model(model: str | Model | None) -> Model:
    """An agent's ``model`` as a model object: a name means Chat Completions over the
    default ``openai`` client; None means ``default_model_name()``."""
    if model is None or isinstance(model, str):
        name = model or default_model_name()
        found = _by_name.get(name)
        if found is None:
            found = _by_name[name] = OpenAIChatModel(name)
        return found
    return model


__all__ = [
    "Message",
    "Model",
    "ModelRequest",
    "ModelResponse",
    "ModelSettings",
    "OpenAIChatModel",
    "OutputSchema",
    "ScriptedModel",
    "ToolCall",
    "Usage",
    "call_tools",
    "default_model_name",
    "reply",
    "resolve_model",
    "tool_call",
]
