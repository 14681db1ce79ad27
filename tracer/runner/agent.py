"""Agents, handoffs between them, and agents used as tools: data only; ``tracer.runner.run``
does the running."""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tracer.runner.context import RunContext
from tracer.runner.models.base import Message, Model, ModelSettings, OutputSchema
from tracer.runner.tools import FunctionTool, function_tool, tool_definition

#: ``instructions`` given as a function of the run context and the agent.
InstructionsFunction = Callable[[RunContext[Any], "Agent"], "str | Awaitable[str]"]
#: Rewrites the conversation the next agent sees when control passes to it.
InputFilter = Callable[[list[Message]], list[Message]]

_NOT_NAME_CHARS = re.compile(r"[^a-zA-Z0-9_]")


def snake_case(name: str) -> str:
    """The Agents SDK's tool-name style: ``Billing Agent`` -> ``billing_agent``."""
    return _NOT_NAME_CHARS.sub("_", re.sub(r"\s", "_", name)).lower()


class Agent(BaseModel):
    """An agent: a name, instructions, a model, tools, and the agents it may hand off to.

    ``instructions`` is a string or a function ``(run_context, agent) -> str`` (sync or
    async). ``model`` is a model name (Chat Completions over the default ``openai``
    client) or a model object such as ``OpenAIChatModel`` or ``ScriptedModel``.
    ``tools`` takes ``@function_tool`` tools, plain functions (wrapped for you) and
    ``other_agent.as_tool()``. ``handoffs`` takes agents or ``handoff(agent, ...)``.
    With ``output_type`` (a pydantic model) the final answer is parsed into it.
    Agents compare by identity, so two agents may name each other in their handoffs.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str
    instructions: str | InstructionsFunction | None = None
    #: Tells other agents' models when to hand off to this one.
    handoff_description: str | None = None
    model: str | Model | None = None
    model_settings: ModelSettings = Field(default_factory=ModelSettings)
    tools: list[FunctionTool | AgentTool] = Field(default_factory=list)
    handoffs: list[Agent | Handoff] = Field(default_factory=list)
    output_type: type[BaseModel] | None = None

    @field_validator("tools", mode="before")
    @classmethod
    def _wrap_plain_functions(cls, tools: Any) -> Any:
        if isinstance(tools, list | tuple):
            return [
                function_tool(t)
                if callable(t) and not isinstance(t, FunctionTool | AgentTool)
                else t
                for t in tools
            ]
        return tools

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        return f"Agent(name={self.name!r})"

    __str__ = __repr__

    async def system_prompt(self, context: RunContext[Any]) -> str | None:
        """The instructions for this turn."""
        if self.instructions is None or isinstance(self.instructions, str):
            return self.instructions
        prompt = self.instructions(context, self)
        return await prompt if inspect.isawaitable(prompt) else prompt

    def handoff_tools(self) -> list[Handoff]:
        """This agent's handoffs, plain agents given their default tool."""
        return [h if isinstance(h, Handoff) else handoff(h) for h in self.handoffs]

    def as_tool(
        self, tool_name: str | None = None, tool_description: str | None = None
    ) -> AgentTool:
        """This agent as a tool of another: the caller's model sends it an input, it runs
        (with its own tools and handoffs) and its final output returns to the caller,
        who keeps control."""
        return AgentTool(
            agent=self,
            name=tool_name or snake_case(self.name),
            description=tool_description or self.handoff_description or f"Ask {self.name}.",
        )


@dataclass(frozen=True, eq=False)
class Handoff:
    """A transfer of control to ``agent`` through the tool ``tool_name``."""

    agent: Agent
    tool_name: str
    description: str
    input_filter: InputFilter | None = None
    definition: dict[str, Any] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        definition = tool_definition(self.tool_name, self.description, _NO_PARAMS)
        object.__setattr__(self, "definition", definition)


def handoff(
    agent: Agent,
    *,
    tool_name: str | None = None,
    description: str | None = None,
    input_filter: InputFilter | None = None,
) -> Handoff:
    """A handoff to ``agent``. The tool is ``transfer_to_<agent name in snake_case>``
    unless named; ``input_filter`` rewrites the history the agent receives."""
    return Handoff(
        agent=agent,
        tool_name=tool_name or snake_case(f"transfer_to_{agent.name}"),
        description=description
        or f"Handoff to the {agent.name} agent to handle the request. "
        f"{agent.handoff_description or ''}".rstrip(),
        input_filter=input_filter,
    )


@dataclass(frozen=True, eq=False)
class AgentTool:
    """An agent offered as a tool (``agent.as_tool()``); the model sends it ``input``."""

    agent: Agent
    name: str
    description: str
    definition: dict[str, Any] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        definition = tool_definition(self.name, self.description, _INPUT_PARAM)
        object.__setattr__(self, "definition", definition)


_NO_PARAMS: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}
_INPUT_PARAM: dict[str, Any] = {
    "type": "object",
    "properties": {"input": {"type": "string", "description": "The request for the agent."}},
    "required": ["input"],
    "additionalProperties": False,
}

Agent.model_rebuild()


@functools.cache
def output_schema(output_type: type[BaseModel]) -> OutputSchema:
    """The strict JSON schema the model's answer must follow (the one ``openai``'s own
    ``chat.completions.parse`` sends for a pydantic model)."""
    from openai.lib._pydantic import to_strict_json_schema  # openai loads slowly: on first use

    return OutputSchema(name=output_type.__name__, json_schema=to_strict_json_schema(output_type))
