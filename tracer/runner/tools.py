"""Tools from plain Python functions: ``@function_tool`` builds the JSON schema the model
sees from the type hints and the docstring (through pydantic), and checks the model's
arguments against it before the function runs."""

from __future__ import annotations

import asyncio
import inspect
import json
import re
import sys
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, overload

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from tracer.runner.context import RunContext, wants_context


class ToolArgumentsError(ValueError):
    """The model's arguments do not fit the tool's parameters (sent back to the model)."""


@dataclass(frozen=True, eq=False)
class FunctionTool:
    """A Python function the model can call. Build it with ``@function_tool``; calling
    the tool object calls the function directly."""

    name: str
    description: str
    #: The JSON schema of the parameters, as the model sees it.
    parameters: dict[str, Any]
    function: Callable[..., Any]
    arguments_model: type[BaseModel]
    #: The function's first parameter is a ``RunContext``.
    takes_context: bool = False
    #: The Chat Completions tool definition, built once.
    definition: dict[str, Any] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        definition = tool_definition(self.name, self.description, self.parameters)
        object.__setattr__(self, "definition", definition)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(*args, **kwargs)

    async def invoke(self, context: RunContext[Any], arguments: Mapping[str, Any]) -> Any:
        """Validate ``arguments`` and run the function: a coroutine function on the event
        loop, a plain one in a worker thread so that several calls run concurrently."""
        try:
            kwargs = dict(self.arguments_model.model_validate(arguments))
        except ValidationError as exc:
            raise ToolArgumentsError(
                f"invalid arguments for {self.name}: {describe_validation_error(exc)}"
            ) from None
        args = (context,) if self.takes_context else ()
        if inspect.iscoroutinefunction(self.function):
            return await self.function(*args, **kwargs)
        result = await asyncio.to_thread(self.function, *args, **kwargs)
        return await result if inspect.isawaitable(result) else result


def tool_definition(name: str, description: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """A Chat Completions function tool definition: what the model is offered."""
    spec = {"name": name, "description": description, "parameters": parameters}
    return {"type": "function", "function": spec}


@overload
def function_tool(func: Callable[..., Any], /) -> FunctionTool: ...
@overload
def function_tool(
    *, name: str | None = None, description: str | None = None
) -> Callable[[Callable[..., Any]], FunctionTool]: ...
def function_tool(
    func: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
) -> FunctionTool | Callable[[Callable[..., Any]], FunctionTool]:
    """Make a tool from a sync or async function: ``@function_tool`` or
    ``@function_tool(name=..., description=...)``. Parameters come from the type hints,
    their descriptions from the docstring's ``Args:`` section (or ``:param x:``), the
    tool's description from the docstring's first part. A first parameter annotated
    ``RunContext`` receives the run context and is not shown to the model."""
    # Hints that name types local to the defining function resolve in its namespace.
    local_names = dict(sys._getframe(1).f_locals)

    def build(function: Callable[..., Any]) -> FunctionTool:
        summary, param_docs = parse_docstring(inspect.getdoc(function))
        tool_name = name or function.__name__
        model, takes_context = _arguments_model(function, tool_name, param_docs, local_names)
        return FunctionTool(
            name=tool_name,
            description=description if description is not None else summary,
            parameters=_schema(model),
            function=function,
            arguments_model=model,
            takes_context=takes_context,
        )

    return build(func) if func is not None else build


def result_text(value: Any) -> str:
    """A tool's return value as the text the model reads."""
    if isinstance(value, str):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    if value is None or isinstance(value, int | float | bool | dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def describe_validation_error(exc: ValidationError) -> str:
    """Pydantic's errors in one line: ``amount: Input should be a valid integer; ...``."""
    parts = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "arguments"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def _arguments_model(
    function: Callable[..., Any],
    tool_name: str,
    param_docs: Mapping[str, str],
    local_names: Mapping[str, Any],
) -> tuple[type[BaseModel], bool]:
    try:
        hints = typing.get_type_hints(function, localns=dict(local_names), include_extras=True)
    except NameError as exc:
        raise TypeError(
            f"tool {tool_name}: cannot resolve its type hints ({exc}); define the types it "
            "uses at module level"
        ) from exc
    params = list(inspect.signature(function).parameters.values())
    takes_context = bool(params) and wants_context(hints.get(params[0].name))
    if takes_context:
        params = params[1:]
    fields: dict[str, Any] = {}
    for param in params:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            raise TypeError(
                f"tool {tool_name}: parameter {param.name!r} must be an ordinary named "
                "parameter (no *args, **kwargs or positional-only) so the model can name it"
            )
        default = ... if param.default is param.empty else param.default
        fields[param.name] = (
            hints.get(param.name, Any),
            Field(default, description=param_docs.get(param.name)),
        )
    config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    model = create_model(f"{tool_name}_arguments", __config__=config, **fields)
    return model, takes_context


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    # pydantic titles every property after its name: tokens the model does not need.
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
    schema.setdefault("properties", {})
    return schema


_SECTION = re.compile(
    r"^(args|arguments|parameters|params|returns?|raises|yields?|examples?|notes?)\s*:$", re.I
)
_ARGS_SECTIONS = ("args", "arguments", "parameters", "params")
_GOOGLE_PARAM = re.compile(r"^(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_SPHINX_PARAM = re.compile(r"^:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """A docstring's description and its parameter descriptions (Google or Sphinx style)."""
    if not doc:
        return "", {}
    summary: list[str] = []
    params: dict[str, str] = {}
    section: str | None = None
    current: str | None = None
    param_indent: int | None = None  # of the Args section's parameter lines
    for line in doc.splitlines():
        text = line.strip()
        indent = len(line) - len(line.lstrip())
        heading = _SECTION.match(text)
        sphinx = _SPHINX_PARAM.match(text)
        google = _GOOGLE_PARAM.match(text) if section in _ARGS_SECTIONS else None
        if heading:
            section, current, param_indent = heading.group(1).lower(), None, None
        elif sphinx:
            section, current = "sphinx", sphinx.group(1)
            params[current] = sphinx.group(2).strip()
        elif text.startswith(":"):
            section, current = "sphinx", None
        elif section is None:
            summary.append(line)
        elif google and (param_indent is None or indent <= param_indent):
            param_indent = indent
            current = google.group(1).lstrip("*")
            params[current] = google.group(2).strip()
        elif current and text and section in (*_ARGS_SECTIONS, "sphinx"):
            params[current] = f"{params[current]} {text}"
    return "\n".join(summary).strip(), params
