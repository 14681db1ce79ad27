"""Drawing an agent graph in terminal cells: agents round an ellipse, edges as braille
lines, each direction's count written near its source with an arrow pointing the way.

Pure functions over the replay model, returning Rich ``Text`` lines, so the drawing can
be tested without a terminal. Handoffs are solid lines, agents used as tools dotted; a
legend line says so when the panel has room.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text

from replay.model import AgentEdge, AgentGraph
from tui.palette import AgentColors

# Braille dots: a cell is 2 dots wide and 4 tall; bit of the dot at (column, row).
_DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))
_ARROWS = ("→", "↘", "↓", "↙", "←", "↖", "↑", "↗")
MAX_DRAWN_AGENTS = 8
LINE_STYLE = Style(color="#6c7a89")
LEGEND_MIN_HEIGHT = 8  # shorter panels keep every row for the drawing


@dataclass(frozen=True, slots=True)
class Placed:
    agent: str
    x: float  # centre, in cells
    y: int  # its row
    left: int  # where its label starts
    label: str


def edge_lines(graph: AgentGraph, colors: AgentColors, active: str | None) -> list[Text]:
    """The graph as a list: ``Triage → Billing ×4``; for narrow panels and many agents."""
    lines: list[Text] = []
    for edge in graph.edges:
        line = Text()
        line.append(edge.source, _node_style(edge.source, colors, active))
        line.append(" ⇢ " if edge.kind == "agent_tool" else " → ")
        line.append(edge.target, _node_style(edge.target, colors, active))
        line.append(f" ×{edge.count}", "bold")
        lines.append(line)
    if not lines:
        for agent in graph.agents:
            lines.append(Text(agent, _node_style(agent, colors, active)))
    return lines


def draw_graph(
    layout: AgentGraph,
    counts: AgentGraph,
    *,
    colors: AgentColors,
    active: str | None,
    width: int,
    height: int,
) -> list[Text]:
    """Draw ``layout``'s agents and edges in ``width`` × ``height`` cells, labelled with the
    counts of ``counts`` (the graph up to the current turn). Agents not reached yet are dim."""
    if not layout.agents:
        return [Text("no agents recorded", style="dim")]
    widest = max(len(agent) for agent in layout.agents) + 4
    if len(layout.agents) > MAX_DRAWN_AGENTS or width < widest + 6 or height < 3:
        return edge_lines(counts, colors, active)
    legend = graph_legend(layout, width) if height >= LEGEND_MIN_HEIGHT else None
    if legend is not None:
        height -= 1
    placed = place_agents(layout.agents, width, height)
    where = {node.agent: node for node in placed}
    canvas = _Braille(width, height)
    for source, target, dotted in _pairs(layout.edges):
        a, b = where[source], where[target]
        canvas.line(a.x, a.y, b.x, b.y, dotted=dotted)
    rows = canvas.rows()
    reached = set(counts.agents)
    for edge in counts.edges:
        if edge.source == edge.target or edge.source not in where or edge.target not in where:
            continue
        a, b = where[edge.source], where[edge.target]
        label = f"{edge.count}{_arrow(b.x - a.x, b.y - a.y)}"
        x, y = _label_spot(a, b, len(label), width, height)
        rows[y][x : x + len(label)] = [(ch, colors.text(edge.source)) for ch in label]
    for node in placed:
        style = _node_style(node.agent, colors, active, reached=node.agent in reached)
        rows[node.y][node.left : node.left + len(node.label)] = [(ch, style) for ch in node.label]
    return [_join(row) for row in rows] + ([legend] if legend is not None else [])


def graph_legend(layout: AgentGraph, width: int) -> Text | None:
    """The edge styles the drawing uses, as a last line: solid for handoffs, dotted for
    agents used as tools, with the count-and-arrow labels. None when there are no edges."""
    kinds = {edge.kind for edge in layout.edges if edge.source != edge.target}
    if not kinds:
        return None
    legend = Text(no_wrap=True, overflow="crop")
    if "handoff" in kinds:
        legend.append("⠒⠒⠒", LINE_STYLE)
        legend.append(" handoff  ", "dim")
    if "agent_tool" in kinds:
        legend.append("⠂⠐⠂", LINE_STYLE)
        legend.append(" agent as tool  ", "dim")
    legend.append("n↗ times", "dim")
    legend.truncate(width)
    return legend


def place_agents(agents: Sequence[str], width: int, height: int) -> list[Placed]:
    """Agents round an ellipse filling the area, the first on the left, clockwise."""
    count = len(agents)
    widest = max(len(agent) for agent in agents) + 2
    rx = max(0.0, (width - widest) / 2)
    ry = max(0.0, (height - 1) / 2)
    placed: list[Placed] = []
    for i, agent in enumerate(agents):
        label = f" {agent} "
        if count == 1:
            x, y = width / 2, ry
        else:
            angle = math.pi + 2 * math.pi * i / count
            if count == 2:
                angle = math.pi * (1 + i)
            x = width / 2 + rx * math.cos(angle)
            y = ry + ry * math.sin(angle)
        left = max(0, min(int(x - len(label) / 2 + 0.5), width - len(label)))
        row = max(0, min(int(y + 0.5), height - 1))
        placed.append(Placed(agent, x, row, left, label))
    return placed


def _node_style(
    agent: str, colors: AgentColors, active: str | None, *, reached: bool = True
) -> Style:
    if agent == active:
        return colors.block(agent) + Style(bold=True)
    if not reached:
        return Style(color=colors.color(agent), dim=True)
    return colors.text(agent)


def _pairs(edges: Sequence[AgentEdge]) -> list[tuple[str, str, bool]]:
    """One line per pair of agents; dotted when only agent-as-tool calls join them."""
    kinds: dict[frozenset[str], tuple[str, str, bool]] = {}
    for edge in edges:
        if edge.source == edge.target:
            continue
        key = frozenset((edge.source, edge.target))
        dotted = edge.kind == "agent_tool"
        if key in kinds:
            dotted = dotted and kinds[key][2]
        kinds[key] = (edge.source, edge.target, dotted)
    return list(kinds.values())


def _arrow(dx: float, dy: float) -> str:
    # Cells are about twice as tall as wide: scale dy so the arrow matches what you see.
    angle = math.atan2(dy * 2, dx)
    return _ARROWS[round(angle / (math.pi / 4)) % 8]


def _label_spot(a: Placed, b: Placed, length: int, width: int, height: int) -> tuple[int, int]:
    """A spot on the line from a to b, past a's label, nearer a than b."""
    for fraction in (0.3, 0.35, 0.4, 0.25, 0.45):
        x = a.x + (b.x - a.x) * fraction
        y = round(a.y + (b.y - a.y) * fraction)
        left = round(x - length / 2)
        left = max(0, min(left, width - length))
        y = max(0, min(y, height - 1))
        off_label = y != a.y or not (a.left - length <= left <= a.left + len(a.label))
        if off_label:
            return left, y
    return left, y


class _Braille:
    def __init__(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        self.bits = [[0] * width for _ in range(height)]

    def dot(self, x: int, y: int) -> None:
        column, row = x // 2, y // 4
        if 0 <= column < self.width and 0 <= row < self.height:
            self.bits[row][column] |= _DOTS[y % 4][x % 2]

    def line(self, x0: float, y0: float, x1: float, y1: float, *, dotted: bool) -> None:
        """A line between two cell positions (cell centres), in dots."""
        ax, ay = x0 * 2, y0 * 4 + 2
        bx, by = x1 * 2, y1 * 4 + 2
        steps = int(max(abs(bx - ax), abs(by - ay))) or 1
        for step in range(steps + 1):
            if dotted and step % 4 >= 2:
                continue
            t = step / steps
            self.dot(round(ax + (bx - ax) * t), round(ay + (by - ay) * t))

    def rows(self) -> list[list[tuple[str, Style | None]]]:
        return [
            [(chr(0x2800 + bits), LINE_STYLE) if bits else (" ", None) for bits in row]
            for row in self.bits
        ]


def _join(cells: list[tuple[str, Style | None]]) -> Text:
    """One line of cells, each run of one style as one span (a panel's width of spans
    would each be converted for the terminal on every step)."""
    text = Text(no_wrap=True, overflow="crop")
    run: list[str] = []
    run_style: Style | None = None
    for char, style in cells:
        if run and style != run_style:
            text.append("".join(run), run_style)
            run = []
        run.append(char)
        run_style = style
    if run:
        text.append("".join(run), run_style)
    return text
