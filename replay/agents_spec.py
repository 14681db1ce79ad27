"""``--agents module:attr``: the user's current agent definitions, imported by name."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import traceback
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType

from replay.errors import ReplayError
from tracer.runner.agent import Agent, AgentTool, Handoff

_MESSAGE_CHARS = 300


def import_agents(spec: str) -> object:
    """The object ``spec`` names: ``package.module:attribute`` or ``path/file.py:attribute``
    (relative to the current directory, as a script would import it)."""
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise ReplayError(
            f"--agents takes module:attribute (for example myapp.agents:triage), got {spec!r}"
        )
    module = _import(module_name, spec)
    found: object = module
    for part in attribute.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            agents = sorted(n for n, v in vars(module).items() if isinstance(v, Agent))
            hint = f"; its agents: {', '.join(agents)}" if agents else ""
            raise ReplayError(
                f"{module_name} has no {attribute!r} (--agents {spec}){hint}"
            ) from None
    return found


def agent_roots(found: object, spec: str, agent_class: type, what: str) -> list[object]:
    """What ``--agents`` named, as a list to search from: an agent of ``agent_class``, a
    list or dict of them, or a function without arguments returning one of those."""
    if callable(found) and not isinstance(found, agent_class | type):
        try:
            found = found()
        except Exception as exc:
            raise ReplayError(f"--agents {spec} failed when called: {shorten(exc)}") from None
    if isinstance(found, agent_class):
        return [found]
    if isinstance(found, Mapping):
        return list(found.values())
    if isinstance(found, list | tuple | set | frozenset):
        return list(found)
    raise ReplayError(f"--agents {spec} is a {type(found).__name__}, not {what}")


def starting_agent(found: object, spec: str, recorded_first: str | None) -> Agent:
    """The agent to start the re-run from: the one named as the recorded run's first
    agent among the agents ``found`` is (an agent, a list or dict of them, or a function
    without arguments returning one of those) or reaches."""
    roots = agent_roots(found, spec, Agent, "an Agent (or a list or dict of agents)")
    agents = [a for a in roots if isinstance(a, Agent)]
    if not agents:
        raise ReplayError(f"--agents {spec} holds no Agent")
    for agent in reachable(agents):
        if agent.name == recorded_first:
            return agent
    if isinstance(found, Agent):
        return found  # the re-run will show where it leaves the recorded path: turn 1
    names = ", ".join(sorted({a.name for a in reachable(agents)}))
    raise ReplayError(
        f"none of the agents in --agents {spec} is {recorded_first!r}, where the recorded "
        f"run started (found: {names})"
    )


def reachable(roots: Iterable[Agent]) -> list[Agent]:
    """``roots`` and every agent they hand off to or use as tools, each once."""
    seen: dict[int, Agent] = {}
    stack = list(roots)
    while stack:
        agent = stack.pop(0)
        if id(agent) in seen:
            continue
        seen[id(agent)] = agent
        stack.extend(h.agent if isinstance(h, Handoff) else h for h in agent.handoffs)
        stack.extend(t.agent for t in agent.tools if isinstance(t, AgentTool))
    return list(seen.values())


def _import(module_name: str, spec: str) -> ModuleType:
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        if module_name.endswith(".py"):
            path = Path(module_name)
            # As running the file would: its own directory comes first on the path.
            if str(path.parent.resolve()) not in sys.path:
                sys.path.insert(0, str(path.parent.resolve()))
            loader = importlib.util.spec_from_file_location(path.stem, path)
            if loader is None or loader.loader is None or not path.is_file():
                raise FileNotFoundError(f"no file {path}")
            module = importlib.util.module_from_spec(loader)
            sys.modules[path.stem] = module
            loader.loader.exec_module(module)
            return module
        return importlib.import_module(module_name)
    except (Exception, SystemExit) as exc:
        raise ReplayError(
            f"cannot import {module_name} (--agents {spec}): {shorten(exc)}"
        ) from None


#: Frames in these are baton's, not the user's (``tracer`` raises from its lazy names).
_BATON_PACKAGES = tuple(str(Path(__file__).parent.parent / name) for name in ("replay", "tracer"))


def shorten(exc: BaseException) -> str:
    """An import error in one line: its type, message, and where in the user's code."""
    message = " ".join(str(exc).split()) or "(no message)"
    if len(message) > _MESSAGE_CHARS:
        message = message[: _MESSAGE_CHARS - 1] + "…"
    where = ""
    if isinstance(exc, SyntaxError) and exc.filename:
        where = f" ({_relative(exc.filename)}:{exc.lineno})"
    else:
        frames = [
            f
            for f in traceback.extract_tb(exc.__traceback__)
            if "importlib" not in f.filename
            and not f.filename.startswith("<")
            and not f.filename.startswith(_BATON_PACKAGES)
        ]
        if frames:
            where = f" ({_relative(frames[-1].filename)}:{frames[-1].lineno})"
    return f"{type(exc).__name__}: {message}{where}"


def _relative(filename: str) -> str:
    try:
        return os.path.relpath(filename)
    except ValueError:
        return filename
