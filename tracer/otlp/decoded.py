"""What decoding one OTLP trace export request gives: the rows to store, and how many
spans could not be stored and why. Shared by the protobuf and JSON decoders.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tracer.capture.spanrows import SpanRows

KINDS = {0: "internal", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
STATUS = {0: "unset", 1: "ok", 2: "error"}
MAX_DEPTH = 32


class MalformedRequest(ValueError):
    """The body is not an OTLP trace export request; the message says why."""


class UnsupportedContentType(ValueError):
    """Neither protobuf nor JSON."""


@dataclass
class Decoded:
    """What one request held: the rows to store and what could not be stored."""

    rows: SpanRows
    accepted: int = 0
    rejected: int = 0
    problems: list[str] = field(default_factory=list)

    def reject(self, problem: str) -> None:
        """Count one span that cannot be stored; the first few distinct problems are kept."""
        self.rejected += 1
        if len(self.problems) < 5 and problem not in self.problems:
            self.problems.append(problem)

    @property
    def error_message(self) -> str:
        """The problems, for the response's ``partial_success``."""
        return "; ".join(self.problems)
