"""Run as a script by test_sdk_conversion_process: records SDK traces until its
conversion process runs, then more, hands those to it, and kills itself (SIGKILL: no
atexit, no flush). Prints ``helper=<pid> spans=<spans it recorded>``.

    python sdk_killed_recorder.py STORE COUNT
"""

from __future__ import annotations

import os
import signal
import sys
import time

from agents import custom_span, trace
from agents.tracing import set_trace_processors

from tracer.capture.agents_sdk import _HELPER_AFTER_TRACES, StoreTracingProcessor
from tracer.store import Store


def main(path: str, count: int) -> None:
    processor = StoreTracingProcessor(Store(path))
    set_trace_processors([processor])
    for number in range(_HELPER_AFTER_TRACES):
        with trace(f"before {number}"), custom_span("step"):
            pass
    processor.force_flush()  # the flusher has now started the helper
    helper = processor._helper
    assert helper is not None
    deadline = time.monotonic() + 120
    while not helper.usable():
        assert time.monotonic() < deadline, "the conversion process did not start"
        time.sleep(0.02)
    for number in range(count):
        with trace(f"sent {number}"), custom_span("one"), custom_span("two"):
            pass
    with processor._writing:  # every ended trace handed to the helper, none acknowledged yet
        processor._write_finished()
        assert not processor._finished
    spans = _HELPER_AFTER_TRACES * 2 + count * 3  # a workflow span per trace, and its spans
    print(f"helper={helper.pid} spans={spans}", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
