"""The generic rule for transfers carried only in a tool call: hand-written Swarm-style
loops (an ``openai`` client calling ``transfer_to_<agent>`` tools), Vercel ``generateText``
loops with a ``handoff`` tool taking ``{to: ...}``, ADK's ``transfer_to_agent``.

A rule is a tool-name pattern: ``transfer_to_*`` (the target is what ``*`` matched) or a
name with the argument holding the target, ``transfer_to_agent(agent_name)``. Rules are
tried in order; ``$BATON_TRANSFER_TOOLS`` (comma-separated rules) replaces the defaults.
Producers that instrument by hand should rather say it on the tool span:
``gen_ai.transfer.mode`` (``pass_control`` | ``return_to_caller``) and
``gen_ai.transfer.target.name``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import lru_cache

from tracer.capture.dialects.base import decode_json

TRANSFER_TOOLS_ENV = "BATON_TRANSFER_TOOLS"
DEFAULT_RULES = (
    "transfer_to_agent(agent_name)",
    "handoff(to)",
    "handoff(agent)",
    "handoff(agent_name)",
    "transfer_to_*",
    "handoff_to_*",
)
_RULE = re.compile(r"\s*(?P<name>[^()\s]+)\s*(?:\((?P<argument>[^()\s]+)\))?\s*")

Rule = tuple[re.Pattern[str], str | None]  # the name's pattern, the target's argument


@lru_cache(maxsize=8)
def _parsed(text: str) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    for chunk in text.split(","):
        match = _RULE.fullmatch(chunk)
        if not chunk.strip() or match is None:
            continue
        name, argument = match.group("name"), match.group("argument")
        pattern = "".join("(.+)" if c == "*" else re.escape(c) for c in name)
        rules.append((re.compile(pattern), argument))
    return tuple(rules)


def rules() -> tuple[Rule, ...]:
    """The rules in force: ``$BATON_TRANSFER_TOOLS`` when set, else the defaults."""
    return _parsed(os.environ.get(TRANSFER_TOOLS_ENV) or ",".join(DEFAULT_RULES))


def transfer_target(tool_name: str | None, arguments: object = None) -> str | None:
    """The agent a call of ``tool_name`` with ``arguments`` (JSON text or a mapping)
    transfers to, or None when it is not a transfer tool (or its target is not said)."""
    if not tool_name:
        return None
    named = False  # the name is a transfer tool's that takes its target as an argument
    decoded = decode_json(arguments)
    for pattern, argument in rules():
        match = pattern.fullmatch(tool_name)
        if match is None:
            continue
        if argument is None:
            if named:  # not a looser rule: transfer_to_agent is no transfer to "agent"
                continue
            return match.group(1) if match.groups() else None
        named = True
        value = decoded.get(argument) if isinstance(decoded, Mapping) else None
        if isinstance(value, str) and value:
            return value
    return None
