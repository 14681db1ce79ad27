"""Reading runs back from a baton store: conversations, turns, transitions and loops."""

from __future__ import annotations

from replay.content import StepContent
from replay.errors import NotFoundError
from replay.graph import agent_graph
from replay.listing import (
    ConversationPage,
    StoredLoop,
    list_conversations,
    list_loops,
    store_version,
)
from replay.load import load_conversation, load_conversation_at
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
from replay.spans import SpanRecord, span_record, span_records

__all__ = [
    "AgentEdge",
    "AgentGraph",
    "Conversation",
    "ConversationPage",
    "ConversationSummary",
    "Message",
    "MessagePart",
    "NotFoundError",
    "RunError",
    "SpanRecord",
    "Step",
    "StepContent",
    "StoredLoop",
    "ToolCall",
    "TraceLoop",
    "Transition",
    "UserTurn",
    "agent_graph",
    "list_conversations",
    "list_loops",
    "load_conversation",
    "load_conversation_at",
    "span_record",
    "span_records",
    "store_version",
]
