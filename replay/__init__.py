"""Reading runs back from a baton store: conversations, turns, transitions and loops."""

from __future__ import annotations

from replay.content import StepContent
from replay.errors import NotFoundError
from replay.load import load_conversation
from replay.model import (
    AgentEdge,
    AgentGraph,
    Conversation,
    ConversationSummary,
    Message,
    MessagePart,
    RunError,
    Step,
    ToolCall,
    TraceLoop,
    Transition,
    UserTurn,
)

__all__ = [
    "AgentEdge",
    "AgentGraph",
    "Conversation",
    "ConversationSummary",
    "Message",
    "MessagePart",
    "NotFoundError",
    "RunError",
    "Step",
    "StepContent",
    "ToolCall",
    "TraceLoop",
    "Transition",
    "UserTurn",
    "load_conversation",
]
