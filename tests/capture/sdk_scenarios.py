"""Real Agents SDK workflows for the fidelity tests, one per feature the replay must tell
truthfully: handoffs with a reason, guardrails running their own agent (passing and
tripping), an agent used as a tool with a handoff inside, two handoffs in one response,
a handoff input filter, a run that stops on its first tool, parallel tool calls, several
user messages in one trace, a session, an output guardrail, and ping-pong to
``MaxTurnsExceeded``. Each scenario scripts every agent's replies (routed by its
instructions, see ``scripted_agents_server``) with token counts no other reply has."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from agents import (
    Agent,
    GuardrailFunctionOutput,
    Model,
    RunContextWrapper,
    Runner,
    RunResult,
    RunResultStreaming,
    SQLiteSession,
    function_tool,
    handoff,
    input_guardrail,
    output_guardrail,
    trace,
)
from agents.extensions.handoff_filters import remove_all_tools
from pydantic import BaseModel
from scripted_agents_server import Reply, call, text
from sdk_truth import Nested

AnyResult = RunResult | RunResultStreaming


@dataclass
class Run:
    """What one scenario run leaves: the top-level results, the nested ones it kept, and
    the exception the SDK raised (if any)."""

    results: list[AnyResult] = field(default_factory=list)
    nested: Nested = field(default_factory=lambda: Nested({}, {}))
    raised: BaseException | None = None
    session_id: str | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    agents: dict[str, str]  # instructions -> agent name
    scripts: dict[str, list[Reply]]
    play: Callable[[Model, bool, Run], Awaitable[None]]
    group_id: str | None = "conv-fidelity"


async def run_agent(agent: Agent[Any], given: Any, streamed: bool, **options: Any) -> AnyResult:
    if streamed:
        result = Runner.run_streamed(agent, given, **options)
        async for _ in result.stream_events():
            pass
        return result
    return await Runner.run(agent, given, **options)


@function_tool
def lookup(invoice: str) -> str:
    """Look an invoice up."""
    return f"invoice {invoice}: 42 EUR"


@function_tool
def weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


# -- scenarios --------------------------------------------------------------------------


async def _handoff_and_tool(model: Model, streamed: bool, run: Run) -> None:
    billing = Agent(name="Billing", instructions="Bill.", model=model, tools=[lookup])
    triage = Agent(name="Triage", instructions="Route.", model=model, handoffs=[billing])
    with trace("support", group_id="conv-fidelity"):
        run.results.append(await run_agent(triage, "Is A1 paid?", streamed))


HANDOFF_AND_TOOL = Scenario(
    "handoff_and_tool",
    {"Route.": "Triage", "Bill.": "Billing"},
    {
        "Route.": [Reply([text("Billing can tell."), call("h1", "transfer_to_billing")], (10, 1))],
        "Bill.": [
            Reply([call("t1", "lookup", {"invoice": "A1"})], (11, 2)),
            Reply([text("A1: 42 EUR, paid.")], (12, 3)),
        ],
    },
    _handoff_and_tool,
)


def _guarded(trips: bool) -> Callable[[Model, bool, Run], Awaitable[None]]:
    async def play(model: Model, streamed: bool, run: Run) -> None:
        judge = Agent(name="Judge", instructions="Judge harm.", model=model)

        # Tripping, it runs before the guarded call (no race between the two); passing,
        # beside it, as by default.
        @input_guardrail(run_in_parallel=not trips)
        async def harm(ctx: RunContextWrapper[Any], agent: Agent[Any], given: Any) -> Any:
            verdict = await Runner.run(judge, given, context=ctx.context)
            tripped = verdict.final_output == "harmful"
            outcome = "tripped" if tripped else "passed"
            first = (20, 1)  # the usage of the call this guardrail checks
            run.nested.guardrails.setdefault(first, []).append(("harm", outcome, [verdict]))
            return GuardrailFunctionOutput(output_info=None, tripwire_triggered=tripped)

        helper = Agent(name="Helper", instructions="Help.", model=model, input_guardrails=[harm])
        with trace("guarded", group_id="conv-fidelity"):
            try:
                run.results.append(await run_agent(helper, "Hello there", streamed))
            except Exception as raised:  # the tripwire
                run.raised = raised

    return play


GUARDRAIL_PASSES = Scenario(
    "guardrail_agent_passes",
    {"Judge harm.": "Judge", "Help.": "Helper"},
    {
        "Judge harm.": [Reply([text("fine")], (30, 1))],
        "Help.": [Reply([text("Hi! How can I help?")], (20, 1))],
    },
    _guarded(trips=False),
)
GUARDRAIL_TRIPS = Scenario(
    "guardrail_agent_trips",
    {"Judge harm.": "Judge", "Help.": "Helper"},
    {
        "Judge harm.": [Reply([text("harmful")], (30, 2))],
        "Help.": [Reply([text("Hi! How can I help?")], (20, 1))],
    },
    _guarded(trips=True),
)


async def _agent_tool_with_handoff(model: Model, streamed: bool, run: Run) -> None:
    writer = Agent(name="Writer", instructions="Write.", model=model)
    researcher = Agent(name="Researcher", instructions="Research.", model=model, handoffs=[writer])

    async def keep(result: RunResult | RunResultStreaming) -> str:
        run.nested.tool_runs.setdefault("m1", []).append(result)  # type: ignore[arg-type]
        return str(result.final_output)

    manager = Agent(
        name="Manager",
        instructions="Manage.",
        model=model,
        tools=[
            researcher.as_tool(
                tool_name="research", tool_description="Research", custom_output_extractor=keep
            )
        ],
    )
    with trace("report", group_id="conv-fidelity"):
        run.results.append(await run_agent(manager, "Report on X", streamed))


AGENT_TOOL_WITH_HANDOFF = Scenario(
    "agent_tool_with_handoff",
    {"Manage.": "Manager", "Research.": "Researcher", "Write.": "Writer"},
    {
        "Manage.": [
            Reply([call("m1", "research", {"input": "X"})], (40, 1)),
            Reply([text("Report: X is fine.")], (40, 2)),
        ],
        "Research.": [Reply([call("r1", "transfer_to_writer")], (41, 1))],
        "Write.": [Reply([text("X is fine.")], (42, 1))],
    },
    _agent_tool_with_handoff,
)


async def _two_handoffs(model: Model, streamed: bool, run: Run) -> None:
    billing = Agent(name="Billing", instructions="Bill.", model=model)
    refunds = Agent(name="Refunds", instructions="Refund.", model=model)
    triage = Agent(name="Triage", instructions="Route.", model=model, handoffs=[billing, refunds])
    with trace("two handoffs", group_id="conv-fidelity"):
        run.results.append(await run_agent(triage, "Refund A1", streamed))


TWO_HANDOFFS = Scenario(
    "two_handoffs_in_one_response",
    {"Route.": "Triage", "Bill.": "Billing", "Refund.": "Refunds"},
    {
        "Route.": [
            Reply([call("h1", "transfer_to_billing"), call("h2", "transfer_to_refunds")], (50, 1))
        ],
        "Bill.": [Reply([text("Billing here.")], (51, 1))],
        "Refund.": [],
    },
    _two_handoffs,
)


class Escalation(BaseModel):
    reason: str


async def _input_filter(model: Model, streamed: bool, run: Run) -> None:
    @function_tool
    def account(user: str) -> str:
        """The user's account."""
        return f"account of {user}: premium"

    async def escalated(ctx: RunContextWrapper[Any], data: Escalation) -> None:
        return None

    expert = Agent(name="Expert", instructions="Solve.", model=model)
    triage = Agent(
        name="Triage",
        instructions="Route.",
        model=model,
        tools=[account],
        handoffs=[
            handoff(
                expert,
                on_handoff=escalated,
                input_type=Escalation,
                input_filter=remove_all_tools,
            )
        ],
    )
    with trace("filtered", group_id="conv-fidelity"):
        run.results.append(await run_agent(triage, "My export is broken", streamed))


INPUT_FILTER = Scenario(
    "handoff_input_filter_and_reason",
    {"Route.": "Triage", "Solve.": "Expert"},
    {
        "Route.": [
            Reply([call("a1", "account", {"user": "ann"})], (60, 1)),
            Reply(
                [
                    text("Escalating to an expert."),
                    call("h1", "transfer_to_expert", {"reason": "premium export bug"}),
                ],
                (60, 2),
            ),
        ],
        "Solve.": [Reply([text("Fixed your export.")], (61, 1))],
    },
    _input_filter,
)


async def _stop_on_first_tool(model: Model, streamed: bool, run: Run) -> None:
    agent = Agent(
        name="Forecaster",
        instructions="Forecast.",
        model=model,
        tools=[weather],
        tool_use_behavior="stop_on_first_tool",
    )
    with trace("forecast", group_id="conv-fidelity"):
        run.results.append(await run_agent(agent, "Weather in Oslo?", streamed))


STOP_ON_FIRST_TOOL = Scenario(
    "stop_on_first_tool",
    {"Forecast.": "Forecaster"},
    {"Forecast.": [Reply([call("w1", "weather", {"city": "Oslo"})], (70, 1))]},
    _stop_on_first_tool,
)


async def _parallel_tools(model: Model, streamed: bool, run: Run) -> None:
    agent = Agent(name="Planner", instructions="Plan.", model=model, tools=[weather, lookup])
    with trace("parallel", group_id="conv-fidelity"):
        run.results.append(await run_agent(agent, "Oslo weather and invoice B2", streamed))


PARALLEL_TOOLS = Scenario(
    "parallel_tool_calls",
    {"Plan.": "Planner"},
    {
        "Plan.": [
            Reply(
                [call("p1", "weather", {"city": "Oslo"}), call("p2", "lookup", {"invoice": "B2"})],
                (80, 1),
            ),
            Reply([text("Sunny; B2 is 42 EUR.")], (80, 2)),
        ]
    },
    _parallel_tools,
)


async def _many_messages_one_trace(model: Model, streamed: bool, run: Run) -> None:
    agent = Agent(name="Chatter", instructions="Chat.", model=model)
    history: list[Any] = []
    with trace("chat", group_id="conv-fidelity"):
        for question in ("one?", "two?", "three?", "four?"):
            result = await run_agent(
                agent, [*history, {"role": "user", "content": question}], streamed
            )
            run.results.append(result)
            history = result.to_input_list()


MANY_MESSAGES = Scenario(
    "four_user_messages_in_one_trace",
    {"Chat.": "Chatter"},
    {"Chat.": [Reply([text(f"answer {n}")], (90, n)) for n in range(1, 5)]},
    _many_messages_one_trace,
)


async def _session(model: Model, streamed: bool, run: Run) -> None:
    agent = Agent(name="Concierge", instructions="Assist.", model=model)
    session = SQLiteSession("session-fidelity")
    run.session_id = "session-fidelity"
    for question in ("Book a table", "For two, please"):
        run.results.append(await run_agent(agent, question, streamed, session=session))


SESSION = Scenario(
    "session_runs",
    {"Assist.": "Concierge"},
    {"Assist.": [Reply([text("For how many?")], (100, 1)), Reply([text("Booked.")], (100, 2))]},
    _session,
    group_id=None,
)


async def _output_guardrail(model: Model, streamed: bool, run: Run) -> None:
    @output_guardrail
    async def polite(ctx: RunContextWrapper[Any], agent: Agent[Any], output: Any) -> Any:
        run.nested.guardrails.setdefault((110, 1), []).append(("polite", "passed", []))
        return GuardrailFunctionOutput(output_info=None, tripwire_triggered=False)

    agent = Agent(name="Writer", instructions="Write.", model=model, output_guardrails=[polite])
    with trace("polite", group_id="conv-fidelity"):
        run.results.append(await run_agent(agent, "Say hi", streamed))


OUTPUT_GUARDRAIL = Scenario(
    "output_guardrail",
    {"Write.": "Writer"},
    {"Write.": [Reply([text("Hello, friend.")], (110, 1))]},
    _output_guardrail,
)


async def _ping_pong(model: Model, streamed: bool, run: Run) -> None:
    triage = Agent(name="Triage", instructions="Route.", model=model)
    billing = Agent(name="Billing", instructions="Bill.", model=model)
    triage.handoffs = [billing]
    billing.handoffs = [triage]
    with trace("ping-pong", group_id="conv-fidelity"):
        try:
            run.results.append(await run_agent(triage, "help", streamed, max_turns=4))
        except Exception as raised:
            run.raised = raised


PING_PONG = Scenario(
    "ping_pong_to_max_turns",
    {"Route.": "Triage", "Bill.": "Billing"},
    {
        "Route.": [Reply([call(f"b{i}", "transfer_to_billing")], (120, i)) for i in range(1, 4)],
        "Bill.": [Reply([call(f"t{i}", "transfer_to_triage")], (121, i)) for i in range(1, 4)],
    },
    _ping_pong,
)

SCENARIOS = (
    HANDOFF_AND_TOOL,
    GUARDRAIL_PASSES,
    GUARDRAIL_TRIPS,
    AGENT_TOOL_WITH_HANDOFF,
    TWO_HANDOFFS,
    INPUT_FILTER,
    STOP_ON_FIRST_TOOL,
    PARALLEL_TOOLS,
    MANY_MESSAGES,
    SESSION,
    OUTPUT_GUARDRAIL,
    PING_PONG,
)
