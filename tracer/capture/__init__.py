"""Capture: turning spans, from baton's own provider or from any other producer, into
rows of the store.

Owns the dialects (``dialects/``: how each producer spells agents, handoffs, tools and
model calls), the batch of span rows every ingest path fills (``spanrows``), the
OpenTelemetry side (``provider``: ``tracer.setup``/``shutdown``; ``exporter``:
``StoreExporter``; ``recording``: ``tracer.record``; ``config``: the process's capture
settings), the OpenAI Agents SDK processor and its span converter (``agents_sdk``,
``sdk_spans``; ``sdk_live`` and ``sdk_responses``: what it reads off a live run, the latter
what re-serving a model call needs), the SDK loop guard (``sdk_loop_guard``), and trace
files in and out (``importing``, ``exporting``).

It writes through ``tracer.store`` and reads OTLP files with ``tracer.otlp``'s decoders;
it must not import ``tracer.runner`` (the agent runner records through capture, not the
other way round).
"""
