"""A colour per agent, readable on dark and light themes alike.

Agents get colours in order of first appearance, so the agents of one conversation never
share a colour until there are more of them than the palette holds. Red is left out: it
means an error everywhere in the UI.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.style import Style

# Mid-tone colours: as text they read on black and on white; as a background they carry
# black text (see ``on_agent``).
AGENT_COLORS = (
    "#4e9de6",  # blue
    "#e5a03a",  # amber
    "#4fb871",  # green
    "#b57edc",  # violet
    "#2fb3b3",  # teal
    "#d9739e",  # pink
    "#a3a83a",  # olive
    "#8f9bb3",  # slate
)
UNKNOWN_AGENT_COLOR = "#888888"


class AgentColors:
    """The colour of each agent of one conversation."""

    def __init__(self, agents: Iterable[str] = ()) -> None:
        self._colors: dict[str, str] = {}
        for agent in agents:
            self.color(agent)

    def color(self, agent: str | None) -> str:
        if agent is None:
            return UNKNOWN_AGENT_COLOR
        if agent not in self._colors:
            self._colors[agent] = AGENT_COLORS[len(self._colors) % len(AGENT_COLORS)]
        return self._colors[agent]

    def text(self, agent: str | None, *, bold: bool = True) -> Style:
        """The agent's name written in its colour."""
        return Style(color=self.color(agent), bold=bold)

    def block(self, agent: str | None) -> Style:
        """A cell filled with the agent's colour."""
        return Style(color="#101010", bgcolor=self.color(agent))
