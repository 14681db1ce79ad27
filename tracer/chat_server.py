"""A scripted OpenAI-compatible Chat Completions server on 127.0.0.1, for tests and demos.

The public name of ``tracer.runner.chat_server``, kept so ``tracer.chat_server.ChatServer``
(as the README shows it) keeps working.
"""

from __future__ import annotations

from tracer.runner.chat_server import *  # noqa: F403
from tracer.runner.chat_server import __all__ as __all__
