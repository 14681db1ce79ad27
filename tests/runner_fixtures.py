"""Fixtures for the runner's tests: a store that runs record into, and a Chat Completions
server on 127.0.0.1 that the real ``openai`` client talks to."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import openai
import pytest

import tracer
from tracer.capture.config import settings
from tracer.runner.chat_server import ChatServer, Reply, Responder, ScriptedResponder
from tracer.runner.models import OpenAIChatModel

__all__ = ["chat_server", "openai_model", "query", "recording"]


@pytest.fixture
def recording(store: tracer.Store) -> Iterator[tracer.Store]:
    """Runs in the test record into ``store``; call ``tracer.shutdown()`` before reading."""
    tracer.setup(store)
    try:
        yield store
    finally:
        tracer.shutdown()
        settings.capture_content = True


def query(store: tracer.Store, sql: str, *params: Any) -> list[dict[str, Any]]:
    """Rows of ``sql`` as dicts."""
    result = store.query(sql, list(params) if params else None)
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


@pytest.fixture
def chat_server() -> Iterator[Callable[..., ChatServer]]:
    """``chat_server(reply, ...)`` serves the replies in order; ``chat_server(responder=f)``
    serves from a function of the request."""
    servers: list[ChatServer] = []

    def start(*replies: Reply, responder: Responder | None = None) -> ChatServer:
        server = ChatServer(responder or ScriptedResponder(replies)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
async def openai_model() -> AsyncIterator[Callable[..., OpenAIChatModel]]:
    """``openai_model(server, name)``: Chat Completions through a real ``openai`` client
    pointed at the server, with fast retries."""
    clients: list[openai.AsyncOpenAI] = []

    def make(server: ChatServer, name: str = "gpt-test", max_retries: int = 2) -> OpenAIChatModel:
        client = openai.AsyncOpenAI(
            base_url=server.base_url, api_key="test-key", max_retries=max_retries
        )
        clients.append(client)
        return OpenAIChatModel(name, client=client)

    yield make
    for client in clients:
        await client.close()
