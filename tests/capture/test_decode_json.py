"""``decode_json`` reads a value as ``json.loads`` does (its fast path skips ``loads``'s
Python wrappers, never its answer): the same value, or ``otherwise`` where ``loads``
raises."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from tracer.capture.dialects.base import decode_json

TEXTS = [
    '[{"role": "assistant", "parts": []}]',
    '{"a": 1}',
    " [1]",
    "[1] ",
    "\n{}\t",
    "[1] x",
    "[1][2]",
    "\ufeff[1]",
    "not json {",
    "[1, 2",
    '{"a": [null]',
    "",
    " ",
    '"text"',
    "12abc",
    "12",
    "-",
    "true",
    "NaN",
    "-Infinity",
    "1e400",
    '"lone \\ud800"',
    '"\ud800"',
]


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return "OTHERWISE"


@pytest.mark.parametrize("text", TEXTS, ids=repr)
def test_decode_json_answers_as_json_loads(text: str) -> None:
    got, expected = decode_json(text, otherwise="OTHERWISE"), _loads(text)
    if isinstance(expected, float) and math.isnan(expected):
        assert isinstance(got, float) and math.isnan(got)
    else:
        assert repr(got) == repr(expected)


def test_a_value_that_is_not_text_is_itself() -> None:
    value = [1, {"a": 2}]
    assert decode_json(value) is value
    assert decode_json(None) is None
