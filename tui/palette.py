"""A colour per agent, readable on dark and light themes alike, the same in every
conversation of a store.

Agents take the palette's colours in the order they first appeared in the store (ask
``replay.agents_in_order``): Billing is the same amber in every conversation and every
session, and the first dozen agents of a store never share a colour. An agent past the
dozen gets the colour its name hashes to (crc32, the same in every process), moved on to
the next one its conversation has not taken. Red is left out: it means an error
everywhere in the UI. Colour is never the only sign: lanes and labels name the agents,
and ``NO_COLOR`` turns colour off.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence

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
    "#7f8ff0",  # periwinkle
    "#c9a66b",  # sand
    "#5fc9a0",  # mint
    "#e08a5f",  # apricot
)
UNKNOWN_AGENT_COLOR = "#888888"


class AgentColors:
    """The colour of each agent of one conversation; ``order`` is the store's agents in
    order of first appearance."""

    def __init__(self, agents: Iterable[str] = (), order: Sequence[str] = ()) -> None:
        self._colors: dict[str, str] = {}
        self._blocks: dict[str | None, Style] = {}  # made once: the timeline draws many
        ranked = {agent: rank for rank, agent in enumerate(order[: len(AGENT_COLORS)])}
        present = list(dict.fromkeys(agents))
        taken = {ranked[agent] for agent in present if agent in ranked}
        for agent in present:
            slot = ranked.get(agent)
            if slot is None:
                slot = preferred_slot(agent)
                while slot in taken and len(taken) < len(AGENT_COLORS):
                    slot = (slot + 1) % len(AGENT_COLORS)
                taken.add(slot)
            self._colors[agent] = AGENT_COLORS[slot]

    def color(self, agent: str | None) -> str:
        if agent is None:
            return UNKNOWN_AGENT_COLOR
        if agent not in self._colors:  # not known up front: the colour of its name
            self._colors[agent] = AGENT_COLORS[preferred_slot(agent)]
        return self._colors[agent]

    def text(self, agent: str | None, *, bold: bool = True) -> Style:
        """The agent's name written in its colour."""
        return Style(color=self.color(agent), bold=bold)

    def block(self, agent: str | None) -> Style:
        """A cell filled with the agent's colour."""
        style = self._blocks.get(agent)
        if style is None:
            style = self._blocks[agent] = Style(color="#101010", bgcolor=self.color(agent))
        return style


def preferred_slot(agent: str) -> int:
    """The palette slot of ``agent``'s name: the same in every process (crc32, not
    ``hash``, which Python salts per process)."""
    return zlib.crc32(agent.encode("utf-8")) % len(AGENT_COLORS)
