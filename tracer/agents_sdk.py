"""Recording OpenAI Agents SDK runs: ``tracer.agents_sdk.install()``.

The public name of ``tracer.capture.agents_sdk``, where the processor lives; importing
it needs the ``openai-agents`` package (``pip install 'baton[agents]'``).
"""

from __future__ import annotations

from tracer.capture.agents_sdk import *  # noqa: F403
from tracer.capture.agents_sdk import __all__ as __all__
