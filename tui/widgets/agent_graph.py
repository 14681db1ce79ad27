"""The agent graph panel: who handed control to whom, how often so far, who holds it now."""

from __future__ import annotations

from rich.text import Text
from textual.app import RenderResult
from textual.reactive import reactive
from textual.widget import Widget

from replay.model import AgentGraph
from tui.graph_drawing import draw_graph
from tui.palette import AgentColors

EMPTY_GRAPH = AgentGraph(agents=(), edges=())


class AgentGraphView(Widget, can_focus=True):
    """Draws ``layout`` (the whole conversation's graph, so agents keep their places) with
    the counts of ``counts`` (the graph up to the current turn), ``active`` highlighted."""

    DEFAULT_CSS = """
    AgentGraphView { height: 1fr; min-height: 3; }
    """

    layout_graph: reactive[AgentGraph] = reactive(EMPTY_GRAPH)
    counts: reactive[AgentGraph] = reactive(EMPTY_GRAPH)
    active: reactive[str | None] = reactive(None)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.agent_colors = AgentColors()

    def render(self) -> RenderResult:
        size = self.content_size
        lines = draw_graph(
            self.layout_graph,
            self.counts,
            colors=self.agent_colors,
            active=self.active,
            width=max(1, size.width),
            height=max(1, size.height),
        )
        return Text("\n", no_wrap=True).join(lines)
