"""The runner: baton's own small agent loop over Chat Completions.

Owns agents, handoffs and agents used as tools (``agent``), function tools (``tools``),
the run loop (``run``) and what it returns or raises (``result``, ``errors``, ``context``),
the models it calls (``models/``), the loop guard's runtime side (``loop_guard``; the
definition of a loop is ``tracer.loops``), the spans it emits in DESIGN.md's conventions
(``spans``, ``genai_format``), and a scripted Chat Completions server for tests and
offline re-runs (``chat_server``).

It records through ``tracer.capture`` (the provider and its settings) and may read
``tracer.store``; it must not import ``tracer.otlp`` (a contract checks it). Importing it
loads pydantic; ``openai`` loads only when a model is first called.
"""
