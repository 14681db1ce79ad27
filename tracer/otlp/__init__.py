"""OTLP: the OpenTelemetry protocol, received and decoded.

Owns the OTLP/HTTP receiver behind ``baton collect`` (``receiver``), its on-disk spool of
accepted requests (``spool``), and the decoders of trace export requests into span rows:
protobuf (``protobuf``, with its lenient twin for bad UTF-8, ``lenient``), OTLP/JSON
(``json_body``), and what both give and answer (``decoded``, ``request``).

It fills rows with ``tracer.capture.spanrows`` and stores them through ``tracer.store``;
it must not import ``tracer.runner``, and ``tracer.runner`` must not import it (contracts
in ``pyproject.toml``). Only ``receiver`` loads the web server (uvicorn, starlette).
"""
