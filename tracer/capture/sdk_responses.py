"""What one model call of a live Agents SDK run needs to be served again, byte for byte.

``baton replay`` re-runs a recorded SDK conversation by answering each model call with the
HTTP body the model endpoint sent (``replay.sdk_rerun``). The SDK's span data keeps the
output items of a call but not the rest of the response, nor what the request offered;
the live processor (``tracer.capture.agents_sdk``) adds them to the span export under
``CALL_FACTS``, read from the SDK's own frames and span data:

- when a ``response``/``generation`` span starts, the model's ``get_response`` or
  ``stream_response`` frame is on the stack: the API (``responses`` for
  ``OpenAIResponsesModel``, ``chat`` for ``OpenAIChatCompletionsModel`` and LiteLLM), the
  model name and class, whether the call streams, the model settings, the tool and handoff
  definitions offered, the output schema, and a digest of the call's first input item
  (which tells concurrent runs of one agent apart when the re-run matches calls);
- when it ends: the response without its output items (the span's ``output`` holds those,
  so nothing is stored twice): the Responses API's response envelope, or for a Chat
  Completions call the completion around its message (the ``response`` local of the frame).

Without sensitive data in the trace (``trace_include_sensitive_data=False``) or with
content capture off, the SDK keeps no output to serve: ``servable`` is False and
``unservable`` says why. This reads SDK internals (checked against openai-agents 0.24), so
anything shaped otherwise is simply not recorded, and the re-run says what is missing.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping
from types import FrameType
from typing import Any

#: The key the live processor adds to a model call's span export.
CALL_FACTS = "baton_call"
#: Bumped when the shape of the facts changes, so a re-run can say it cannot read them.
FORMAT = 1
#: Where the facts go on the stored span.
PREFIX = "openai_agents.call."
NOT_KEPT = (
    "the SDK kept no response for this call: the run was traced without sensitive data "
    "(RunConfig(trace_include_sensitive_data=False) or "
    "OPENAI_AGENTS_TRACE_INCLUDE_SENSITIVE_DATA=false), or the call failed"
)
_MODEL_FRAMES = frozenset({"get_response", "stream_response"})
_MAX_FRAMES = 60


def _model_frame() -> FrameType | None:
    """The innermost ``get_response``/``stream_response`` frame of an SDK model."""
    frame: FrameType | None = sys._getframe(1)
    for _ in range(_MAX_FRAMES):
        if frame is None:
            return None
        if frame.f_code.co_name in _MODEL_FRAMES and "model_settings" in frame.f_locals:
            owner = frame.f_locals.get("self")
            if owner is not None and hasattr(owner, "get_response"):
                return frame
        frame = frame.f_back
    return None


def api_of(model: Any) -> str:
    """``responses`` for the Responses API model, ``chat`` for every other (Chat
    Completions, LiteLLM, and models built on them)."""
    names = {cls.__name__ for cls in type(model).__mro__}
    return "responses" if "OpenAIResponsesModel" in names else "chat"


def request_facts() -> dict[str, Any]:
    """What the model call starting now was asked with (empty when no model frame is on
    the stack: a model class that makes its spans elsewhere)."""
    frame = _model_frame()
    if frame is None:
        return {}
    local = frame.f_locals
    model = local["self"]
    facts: dict[str, Any] = {
        "format": FORMAT,
        "api": api_of(model),
        "streamed": frame.f_code.co_name == "stream_response",
        "model": str(getattr(model, "model", "") or ""),
        "model_class": f"{type(model).__module__}.{type(model).__qualname__}",
    }
    settings = local.get("model_settings")
    to_json = getattr(settings, "to_json_dict", None)
    if callable(to_json):
        facts["model_settings"] = to_json()
    facts["tools"] = [describe_tool(tool) for tool in local.get("tools") or ()]
    facts["handoffs"] = [describe_handoff(h) for h in local.get("handoffs") or ()]
    schema = local.get("output_schema")
    if schema is not None:
        facts["output_schema"] = _output_schema(schema)
    facts["first_input"] = first_input_digest(local.get("input"))
    return facts


def response_facts(span_data: Any) -> dict[str, Any]:
    """What the model call ending now answered, beyond the output items its span keeps."""
    kind = getattr(span_data, "type", None)
    kept = getattr(span_data, "response" if kind == "response" else "output", None)
    if kept is None:
        return {"servable": False, "unservable": NOT_KEPT}
    if kind == "response":
        return {
            "servable": True,
            "envelope": kept.model_dump(mode="json", by_alias=True, exclude={"output"}),
        }
    frame = _model_frame()
    if frame is None:
        return {"servable": False, "unservable": "the model call's frame was not found"}
    if frame.f_code.co_name == "stream_response":
        # A streamed Chat Completions call: the span's output is the whole Response the
        # SDK built from the chunks; the completion id is on its items' provider data.
        return {"servable": True}
    completion = frame.f_locals.get("response")
    dump = getattr(completion, "model_dump", None)
    if not callable(dump):
        return {"servable": False, "unservable": "the SDK kept no completion for this call"}
    envelope = dump(mode="json", by_alias=True)
    for choice in envelope.get("choices") or ():
        if isinstance(choice, dict):
            choice.pop("message", None)  # the span's output holds it
    return {"servable": True, "envelope": envelope}


def call_attributes(facts: Mapping[str, Any], *, capture_content: bool) -> dict[str, Any]:
    """``CALL_FACTS`` as span attributes (``openai_agents.call.<key>``, JSON text for
    anything but text, numbers and flags); with content capture off the response is not
    kept, and ``unservable`` says so."""
    found = dict(facts)
    if not capture_content:
        found.pop("envelope", None)
        found["servable"] = False
        found["unservable"] = (
            "recorded with content capture off (tracer.setup(capture_content=False))"
        )
    attributes: dict[str, Any] = {}
    for key, value in found.items():
        if value is None or isinstance(value, (str, bool, int, float)):
            attributes[PREFIX + key] = value
        else:
            attributes[PREFIX + key] = json.dumps(value, ensure_ascii=False, default=str)
    return attributes


def describe_tool(tool: Any) -> dict[str, Any]:
    """A tool as the model is offered it: name, description, parameters' schema."""
    described: dict[str, Any] = {"type": type(tool).__name__, "name": getattr(tool, "name", None)}
    for field, key in (
        ("description", "description"),
        ("params_json_schema", "parameters"),
        ("strict_json_schema", "strict"),
    ):
        value = getattr(tool, field, None)
        if value is not None:
            described[key] = value
    return _plain(described)


def describe_handoff(handoff: Any) -> dict[str, Any]:
    """A handoff as the model is offered it: its transfer tool, and the agent it reaches."""
    return _plain(
        {
            "name": getattr(handoff, "tool_name", None),
            "description": getattr(handoff, "tool_description", None),
            "parameters": getattr(handoff, "input_json_schema", None),
            "agent": getattr(handoff, "agent_name", None),
        }
    )


def first_input_digest(given: Any) -> str | None:
    """A short digest of a model call's first input item (the user's text for a run, the
    tool's input for an agent used as a tool), the same at recording and re-run."""
    if given is None:
        return None
    if isinstance(given, str):
        first: Any = {"role": "user", "content": given}
    elif isinstance(given, list) and given:
        first = given[0]
        dump = getattr(first, "model_dump", None)
        if callable(dump):
            first = dump(mode="json", exclude_none=True)
        if isinstance(first, Mapping) and first.get("role") == "user":
            content = first.get("content")
            first = {"role": "user", "content": content}
    else:
        return None
    text = json.dumps(first, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=8).hexdigest()


def _output_schema(schema: Any) -> dict[str, Any]:
    described: dict[str, Any] = {"name": None, "schema": None}
    try:
        described["name"] = schema.name()
        if not schema.is_plain_text():
            described["schema"] = schema.json_schema()
            described["strict"] = schema.is_strict_json_schema()
    except Exception:  # a custom schema class: its name is enough to notice a change
        pass
    return _plain(described)


def _plain(value: dict[str, Any]) -> dict[str, Any]:
    """``value`` as JSON would carry it (a schema holding odd objects as text)."""
    result: dict[str, Any] = json.loads(json.dumps(value, default=str))
    return result
