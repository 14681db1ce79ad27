"""Making span values safe to store: size limits, secret redaction (``tracer.store.redact``),
JSON that always encodes.

Everything a producer hands us goes through here before it is written, so a bad value
costs that value (replaced with a visible marker), never the span or the batch.
"""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any

from tracer.store.redact import REDACTED, is_secret_key

MAX_VALUE_CHARS_ENV = "BATON_MAX_VALUE_CHARS"
DEFAULT_MAX_VALUE_CHARS = 65_536
#: A whole span's attributes, however many values each under the limit, are held to this.
SPAN_CHARS_PER_VALUE = 16


@dataclass(frozen=True, slots=True)
class Limits:
    """How much of one value is kept; longer strings are cut and marked."""

    max_value_chars: int = DEFAULT_MAX_VALUE_CHARS

    @property
    def max_span_chars(self) -> int:
        """How many characters all of one span's attributes may hold together."""
        return self.max_value_chars * SPAN_CHARS_PER_VALUE

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


def clean_attributes(
    attributes: Mapping[str, Any] | None, limits: Limits, redacted: list[int] | None = None
) -> dict[str, Any]:
    """A plain dict copy with secret keys redacted (counted in ``redacted[0]``), long
    strings truncated and arrays held to the same limit as a whole (an array of a
    million strings is cut, not stored)."""
    return _cleaned(attributes, limits, redacted)[0]


def clean_span_attributes(
    attributes: Mapping[str, Any] | None, limits: Limits, redacted: list[int]
) -> dict[str, Any]:
    """``clean_attributes``, and then all the values held to ``limits.max_span_chars``
    together (``_bounded_total``) when the per-value limits do not already do it."""
    cleaned, nested = _cleaned(attributes, limits, redacted)
    if nested or len(cleaned) > SPAN_CHARS_PER_VALUE:
        return _bounded_total(cleaned, limits)
    return cleaned  # each value is held to the limit already: the sum is too


def _cleaned(
    attributes: Mapping[str, Any] | None, limits: Limits, redacted: list[int] | None
) -> tuple[dict[str, Any], bool]:
    """``clean_attributes``'s dict, and whether a value in it holds mappings or lists
    (which the per-value limit does not bound)."""
    # OpenTelemetry's BoundedAttributes iterates (and counts) through the slow generic
    # Mapping machinery; its plain dict, where present, holds the same items.
    plain = getattr(attributes, "_dict", attributes)
    if not plain:
        return {}, False
    limit = limits.max_value_chars
    cleaned: dict[str, Any] = {}
    nested = False
    secret_keys = _SECRET_KEYS
    for key, value in plain.items():
        secret = secret_keys.get(key)
        if secret is None:
            secret = _learn_key(key)
        if secret and value not in (None, "", REDACTED):
            cleaned[key] = REDACTED
            if redacted is not None:
                redacted[0] += 1
        elif type(value) is str:
            cleaned[key] = value if len(value) <= limit else truncate(value, limit)
        elif isinstance(value, (list, tuple)):
            items = cleaned[key] = _bounded_array(value, limit)
            nested = nested or any(type(item) in _CONTAINERS for item in items)
        else:
            cleaned[key] = value
            nested = nested or type(value) is dict
    return cleaned, nested


_CONTAINERS = (dict, list)


#: ``is_secret_key`` of the keys seen, without its cache's call per key (keys repeat on
#: every span of a kind). Held to ``_SECRET_KEYS_HELD`` keys, then started again.
_SECRET_KEYS: dict[str, bool] = {}
_SECRET_KEYS_HELD = 4096


def _learn_key(key: str) -> bool:
    if len(_SECRET_KEYS) >= _SECRET_KEYS_HELD:
        _SECRET_KEYS.clear()
    secret = _SECRET_KEYS[key] = is_secret_key(key)
    return secret


def _bounded_array(items: list[Any] | tuple[Any, ...], limit: int) -> list[Any]:
    """The array's items, each string truncated, cut where the whole passes ``limit``
    characters, with a last item saying how many were dropped."""
    kept: list[Any] = []
    size = 0
    for index, item in enumerate(items):
        if isinstance(item, str):
            item = truncate(item, limit)
            size += len(item)
        else:
            size += 8
        if size > limit and kept:
            kept.append(f"…[baton: truncated {len(items) - index} of {len(items)} items]")
            break
        kept.append(item)
    return kept


def _bounded_total(attributes: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """``attributes`` within ``limits.max_span_chars`` together (many values each under
    the limit still add up): the largest are cut first, and if that is not enough the
    largest left are replaced by a marker, so the small ones (names, ids, counts) stay."""
    sizes = {key: _size_of(value) for key, value in attributes.items()}
    total = sum(sizes.values())
    if total <= limits.max_span_chars:
        return attributes
    bounded = dict(attributes)
    room = max(limits.max_span_chars // 16, 64)
    largest_first = sorted(sizes, key=sizes.__getitem__, reverse=True)
    for key in largest_first:
        if total <= limits.max_span_chars or sizes[key] <= room:
            break
        value = bounded[key]
        bounded[key] = truncate(
            value if isinstance(value, str) else json.dumps(value, default=str), room
        )
        total -= sizes[key] - len(bounded[key])
        sizes[key] = len(bounded[key])
    for key in sorted(sizes, key=sizes.__getitem__, reverse=True):
        if total <= limits.max_span_chars:
            break
        marker = f"…[baton: dropped, the span is over {limits.max_span_chars} chars]"
        total -= sizes[key] - len(marker)
        bounded[key] = marker
    return bounded


def _size_of(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list):
        return sum(_size_of(item) for item in value) + 2
    if isinstance(value, dict):
        return sum(len(str(k)) + _size_of(v) for k, v in value.items()) + 2
    return 8


def to_json(value: Any, limits: Limits) -> str:
    """JSON text for ``value`` that always encodes (credentials are redacted later, with
    the whole batch: ``tracer.store.redact``).

    Values JSON cannot express become their ``repr`` (truncated), NaN and infinities
    become strings, and strings that are not valid UTF-8 keep a replacement character.
    """
    try:
        # Keyed by the int, not ``limits``: a frozen dataclass hashes in Python code.
        text = "".join(_encoder(limits.max_value_chars)(value, 0))
    except (ValueError, TypeError, RecursionError):
        text = json.dumps(_plain(value, limits, 0), ensure_ascii=False, allow_nan=False)
    return text


@functools.lru_cache(maxsize=8)
def _encoder(max_value_chars: int) -> Callable[[Any, int], Sequence[str]]:
    """One encoder per limit, reused. ``JSONEncoder.encode`` builds its C encoder anew on
    every call; this is that C encoder, built once, with ``JSONEncoder(ensure_ascii=False,
    allow_nan=False)``'s settings, so its text is the same. It keeps no record of the
    containers it is inside (a shared one would outlive a failed call): a value that holds
    itself then fails with RecursionError instead of ValueError, and both take the
    ``_plain`` path."""
    default = _fallback(max_value_chars)
    if c_make_encoder is None:  # a Python without the C accelerator
        encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=default)
        return lambda value, _level: (encoder.encode(value),)
    encoder_c: Callable[[Any, int], Sequence[str]] = c_make_encoder(
        None, default, encode_basestring, None, ": ", ", ", False, False, False
    )
    return encoder_c


def _fallback(max_value_chars: int) -> Any:
    def default(obj: Any) -> Any:
        if isinstance(obj, (bytes, bytearray, memoryview)):
            return truncate(bytes(obj).decode("utf-8", "replace"), max_value_chars)
        if isinstance(obj, (set, frozenset)):
            return sorted(map(str, obj))
        dump = getattr(obj, "model_dump", None)
        if callable(dump):
            try:
                return dump(mode="json")
            except Exception:  # a broken model is reported as its repr below
                pass
        return truncate(_safe_repr(obj), max_value_chars)

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
    converted = _fallback(limits.max_value_chars)(value)
    return converted if isinstance(converted, str) else _plain(converted, limits, depth + 1)


def _safe_repr(obj: Any) -> str:
    try:
        return repr(obj)
    except Exception:
        return f"<unrepresentable {type(obj).__name__}>"


def valid_utf8(text: str) -> str:
    """``text`` with lone surrogates (invalid UTF-8 from a producer) replaced."""
    return text.encode("utf-8", "replace").decode("utf-8")
