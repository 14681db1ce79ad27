"""Making span values safe to store: size limits, secret redaction, JSON that always encodes.

Everything a producer hands us goes through here before it is written, so a bad value
costs that value (replaced with a visible marker), never the span or the batch.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_VALUE_CHARS_ENV = "BATON_MAX_VALUE_CHARS"
DEFAULT_MAX_VALUE_CHARS = 65_536
REDACTED = "[REDACTED]"

# Attribute keys whose value is a credential whatever it looks like; matched on the last
# dotted segment so `http.request.header.authorization` is caught but `input_tokens` is not.
_SECRET_KEY_SEGMENTS = frozenset(
    {
        "authorization",
        "proxy_authorization",
        "api_key",
        "apikey",
        "x_api_key",
        "openai_api_key",
        "password",
        "passwd",
        "secret",
        "client_secret",
        "access_token",
        "refresh_token",
        "cookie",
        "set_cookie",
    }
)
# Credentials that turn up inside free text: OpenAI-style keys and bearer tokens.
_SECRET_TEXT = re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}|(?i:\bbearer\s+)[A-Za-z0-9._~+/=\-]{8,}")


@dataclass(frozen=True, slots=True)
class Limits:
    """How much of one value is kept; longer strings are cut and marked."""

    max_value_chars: int = DEFAULT_MAX_VALUE_CHARS

    @classmethod
    def from_env(cls, max_value_chars: int | None = None) -> Limits:
        """``max_value_chars`` if given, else ``$BATON_MAX_VALUE_CHARS``, else the default."""
        if max_value_chars is None:
            raw = os.environ.get(MAX_VALUE_CHARS_ENV)
            max_value_chars = int(raw) if raw else DEFAULT_MAX_VALUE_CHARS
        if max_value_chars < 64:
            raise ValueError(f"max_value_chars must be at least 64, got {max_value_chars}")
        return cls(max_value_chars=max_value_chars)


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with a marker saying how much was dropped."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…[baton: truncated {len(text) - limit} chars]"


@functools.lru_cache(maxsize=4096)
def is_secret_key(key: str) -> bool:
    """Whether an attribute named ``key`` holds a credential (cached: keys repeat)."""
    last = key.rsplit(".", 1)[-1].lower().replace("-", "_")
    return last in _SECRET_KEY_SEGMENTS


def redact_text(text: str) -> str:
    """Credentials inside free text replaced by a marker (cheap when there are none)."""
    if "sk-" not in text and "earer" not in text and "EARER" not in text:
        return text
    return _SECRET_TEXT.sub(_redact_match, text)


def _redact_match(match: re.Match[str]) -> str:
    found = match.group(0)
    return "sk-" + REDACTED if found.startswith("sk-") else "Bearer " + REDACTED


def clean_attributes(attributes: Mapping[str, Any] | None, limits: Limits) -> dict[str, Any]:
    """A plain dict copy with secret keys redacted and long strings truncated."""
    if not attributes:
        return {}
    limit = limits.max_value_chars
    cleaned: dict[str, Any] = {}
    # OpenTelemetry's BoundedAttributes iterates through the slow generic Mapping
    # machinery; its plain dict, where present, holds the same items.
    plain = getattr(attributes, "_dict", attributes)
    for key, value in plain.items():
        if is_secret_key(key):
            cleaned[key] = REDACTED
        elif type(value) is str:
            cleaned[key] = value if len(value) <= limit else truncate(value, limit)
        elif isinstance(value, (list, tuple)):
            cleaned[key] = [
                truncate(item, limit) if isinstance(item, str) else item for item in value
            ]
        else:
            cleaned[key] = value
    return cleaned


def to_json(value: Any, limits: Limits) -> str:
    """JSON text for ``value`` that always encodes and never holds a credential.

    Values JSON cannot express become their ``repr`` (truncated), NaN and infinities
    become strings, and strings that are not valid UTF-8 keep a replacement character.
    """
    try:
        text = _encoder(limits).encode(value)
    except (ValueError, TypeError, RecursionError):
        text = json.dumps(_plain(value, limits, 0), ensure_ascii=False, allow_nan=False)
    return redact_text(text)


@functools.lru_cache(maxsize=8)
def _encoder(limits: Limits) -> json.JSONEncoder:
    # One encoder per limit, reused: json.dumps with options builds a new one per call.
    return json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=_fallback(limits))


def _fallback(limits: Limits) -> Any:
    def default(obj: Any) -> Any:
        if isinstance(obj, (bytes, bytearray, memoryview)):
            return truncate(bytes(obj).decode("utf-8", "replace"), limits.max_value_chars)
        if isinstance(obj, (set, frozenset)):
            return sorted(map(str, obj))
        dump = getattr(obj, "model_dump", None)
        if callable(dump):
            try:
                return dump(mode="json")
            except Exception:  # a broken model is reported as its repr below
                pass
        return truncate(_safe_repr(obj), limits.max_value_chars)

    return default


def _plain(value: Any, limits: Limits, depth: int) -> Any:
    """A JSON-safe copy, for the rare values the fast path rejects."""
    if depth > 32:
        return "…[baton: nested too deep]"
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v, limits, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, limits, depth + 1) for v in value]
    converted = _fallback(limits)(value)
    return converted if isinstance(converted, str) else _plain(converted, limits, depth + 1)


def _safe_repr(obj: Any) -> str:
    try:
        return repr(obj)
    except Exception:
        return f"<unrepresentable {type(obj).__name__}>"


def valid_utf8(text: str) -> str:
    """``text`` with lone surrogates (invalid UTF-8 from a producer) replaced."""
    return text.encode("utf-8", "replace").decode("utf-8")
