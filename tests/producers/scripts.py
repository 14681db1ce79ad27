"""What the scripted model answers, per framework and workflow: each agent's replies in
order. A step may say what its tool call means (``handoff`` to an agent, ``agent_tool``
calling one); the model server copies that into its log, which the tests read as truth."""

from __future__ import annotations

from typing import Any

Step = dict[str, Any]


def call(name: str, arguments: dict[str, Any] | None = None, **meaning: str) -> Step:
    """A reply with one tool call; ``meaning`` is ``handoff=`` or ``agent_tool=``."""
    return {"tool_calls": [{"name": name, "arguments": arguments or {}}], **meaning}


def say(text: str) -> Step:
    return {"text": text}


def _swarm_style(transfer: str, a: str, b: str, hops: int, answer: str) -> dict[str, list[Step]]:
    """``a`` and ``b`` hand the conversation back and forth ``hops`` times, the last
    holder answers. ``transfer`` formats the transfer tool's name from the target."""
    script: dict[str, list[Step]] = {a: [], b: []}
    holder, other = a, b
    for _ in range(hops):
        # A tool named by the target (transfer_to_billing), or one taking it ({"to": ...}).
        arguments = {} if "{}" in transfer else {"to": other}
        script[holder].append(call(transfer.format(other), arguments, handoff=other))
        holder, other = other, holder
    script[holder].append(say(answer))
    return script


def _manager(tool: str, worker: str, answer: str, argument: str = "task") -> dict[str, list[Step]]:
    """A manager calls ``worker`` as a tool (which looks something up), then answers."""
    question = {argument: "What is the answer?"}
    return {
        "manager": [call(tool, question, agent_tool=worker), say(answer)],
        worker: [call("lookup", {"topic": "life"}), say("Found: 42.")],
    }


SCRIPTS: dict[str, dict[str, dict[str, list[Step]]]] = {
    "langgraph": {
        # langgraph-swarm: transfer_to_<agent> tools, a hand-back, then a ping-pong streamed.
        "swarm_handback": _swarm_style("transfer_to_{}", "triage", "billing", 2, "Refunded."),
        "swarm_pingpong": _swarm_style("transfer_to_{}", "triage", "billing", 3, "Done."),
        # langgraph-supervisor: the supervisor hands to a worker, which answers after a tool;
        # the hand-back to the supervisor is made by the library, with no model call.
        "supervisor": {
            "supervisor": [
                call("transfer_to_researcher", handoff="researcher"),
                say("The answer is 42."),
            ],
            "researcher": [call("lookup", {"topic": "life"}), say("Found: 42.")],
        },
    },
    "autogen": {
        "swarm_handback": _swarm_style("transfer_to_{}", "triage", "billing", 2, "Refunded. DONE"),
        "swarm_pingpong": _swarm_style("transfer_to_{}", "triage", "billing", 3, "Done. DONE"),
        "manager": _manager("researcher", "researcher", "The answer is 42. DONE"),
        "swarm_unwrapped": _swarm_style("transfer_to_{}", "triage", "billing", 2, "Ok. DONE"),
        # A ping-pong spread over the traces of an unwrapped run.
        "pingpong_unwrapped": _swarm_style("transfer_to_{}", "triage", "billing", 3, "Ok. DONE"),
    },
    "adk": {
        "handback": {
            "triage": [
                call("transfer_to_agent", {"agent_name": "billing"}, handoff="billing"),
                say("Refunded."),
            ],
            "billing": [call("transfer_to_agent", {"agent_name": "triage"}, handoff="triage")],
        },
        "pingpong": {
            "triage": [
                call("transfer_to_agent", {"agent_name": "billing"}, handoff="billing"),
                call("transfer_to_agent", {"agent_name": "billing"}, handoff="billing"),
            ],
            "billing": [
                call("transfer_to_agent", {"agent_name": "triage"}, handoff="triage"),
                say("Done."),
            ],
        },
        "agent_tool": _manager("researcher", "researcher", "The answer is 42."),
    },
    "crewai": {
        "hierarchical": {
            "manager": [
                call(
                    "delegate_work_to_coworker",
                    {"task": "Find the answer", "context": "none", "coworker": "researcher"},
                    agent_tool="researcher",
                ),
                say("42"),
            ],
            "researcher": [call("lookup", {"topic": "life"}), say("Found: 42.")],
        },
    },
    "tsagents": {
        "handback": _swarm_style("transfer_to_{}", "triage", "billing", 2, "Refunded."),
        "pingpong": _swarm_style("transfer_to_{}", "triage", "billing", 3, "Done."),
        "manager": _manager("researcher", "researcher", "The answer is 42.", argument="input"),
    },
    # The same workflows through baton's own TracingProcessor for @openai/agents, on Chat
    # Completions and on the Responses API (the SDK's default model).
    "tsprocessor": {
        f"{flow}{api}": script
        for api in ("", "_responses")
        for flow, script in {
            "handback": _swarm_style("transfer_to_{}", "triage", "billing", 2, "Refunded."),
            "pingpong": _swarm_style("transfer_to_{}", "triage", "billing", 3, "Done."),
            "manager": _manager("researcher", "researcher", "The answer is 42.", argument="input"),
            # A tool that throws: the SDK tells the model, which answers.
            "tool_error": {
                "triage": [call("charge", {"cents": 4200}), say("The card was declined.")]
            },
        }.items()
    },
    "vercel": {
        "handback": _swarm_style("handoff", "triage", "billing", 2, "Refunded."),
        "pingpong": _swarm_style("handoff", "triage", "billing", 3, "Done."),
        "manager": _manager("researcher", "researcher", "The answer is 42."),
        "handback_openinference": _swarm_style("handoff", "triage", "billing", 2, "Refunded."),
        "manager_openinference": _manager("researcher", "researcher", "The answer is 42."),
    },
    "pydanticai": {
        "delegation": _manager("ask_researcher", "researcher", "The answer is 42."),
        "programmatic": {"triage": [say("Billing will help.")], "billing": [say("Refunded.")]},
    },
    "logfire": {
        "handback": _swarm_style("transfer_to_{}", "triage", "billing", 2, "Refunded."),
        "pingpong": _swarm_style("transfer_to_{}", "triage", "billing", 3, "Done."),
    },
    "swarm": {
        "handback": _swarm_style("transfer_to_{}", "triage", "billing", 2, "Refunded."),
        "pingpong": _swarm_style("transfer_to_{}", "triage", "billing", 3, "Done."),
        "pingpong_named": _swarm_style("transfer_to_{}", "triage", "billing", 3, "Done."),
        # Streamed, a tool call after the transfer: Swarm 0.1.1 stamps it with the first
        # agent as its sender.
        "lookup": {
            "triage": [call("transfer_to_billing", handoff="billing")],
            "billing": [call("lookup", {"order": "1042"}), say("Refunded.")],
        },
        # Not Swarm: a Swarm-style loop written by hand over the openai client.
        "loop_handback": _swarm_style("transfer_to_{}", "triage", "billing", 2, "Refunded."),
        "loop_pingpong": _swarm_style("transfer_to_{}", "triage", "billing", 3, "Done."),
    },
}
