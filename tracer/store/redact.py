"""Secret redaction: credentials never reach the store, whatever column they arrive in.

Two rules, applied to every text column of every batch (``redact_table``, which both
``SpanRows`` and ingest call, so no path can skip it):

- **by key**: a value stored under a key whose name says it is a credential (password,
  secret, token, api key, authorization, cookie, credential, private key, …) is replaced,
  at any depth: attribute keys, keys of nested kvlists, and keys of JSON objects held in
  text (tool arguments ``{"api_key": "…"}``), JSON inside JSON included;
- **by shape**: credentials in free text (OpenAI, Anthropic, AWS, GitHub, Slack and Google
  keys, JWTs, ``Bearer``/``Basic`` authorisation values, PEM private keys).

Users add their own shapes with ``BATON_REDACT`` (a Python regular expression; several
joined with ``|``). Each span's ``redacted`` column counts the values replaced in it; the
values themselves are never kept.

A vectorised pre-filter (Arrow's RE2) picks the few values that may hold a credential, so
the exact Python pass runs on those only.
"""

from __future__ import annotations

import functools
import json
import os
import re
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

REDACTED = "[REDACTED]"
REDACT_ENV = "BATON_REDACT"
#: Schema metadata a batch carries once redacted under the rules of ``fingerprint``.
REDACTED_BY = b"baton.redacted_by"

# A key naming a credential. "token" but not "tokens"/"token_count"/"tokenizer" (usage
# counts are not secrets); matched anywhere in the key, case-insensitively.
_SECRET_KEY = re.compile(
    r"passw(?:or)?d|passphrase|secret|token(?!s|_?count|_?usage|izer|_?type|_?limit)"
    r"|api[-_ ]?key|apikey|auth(?:orization|_?header)|cookie|credential|private[-_ ]?key"
    r"|access[-_ ]?key|session[-_ ]?key",
    re.IGNORECASE,
)
# Credential shapes in free text. Each keeps a recognisable prefix so a reader knows what
# kind of value was there.
_SHAPES: tuple[tuple[str, str], ...] = (
    (
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
        "-----BEGIN PRIVATE KEY-----" + REDACTED,
    ),
    (r"\bsk-ant-[A-Za-z0-9_\-]{16,}", "sk-ant-" + REDACTED),
    (r"\bsk-[A-Za-z0-9_\-]{16,}", "sk-" + REDACTED),
    (r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", "AKIA" + REDACTED),
    (r"\bgh[pousr]_[A-Za-z0-9]{30,}", "gh_" + REDACTED),
    (r"\bgithub_pat_[A-Za-z0-9_]{30,}", "github_pat_" + REDACTED),
    (r"\bxox[abposr]-[A-Za-z0-9\-]{10,}", "xox-" + REDACTED),
    (r"\bAIza[0-9A-Za-z_\-]{35}", "AIza" + REDACTED),
    (r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*", "eyJ" + REDACTED),
    (r"(?i:\bbearer\s+)[A-Za-z0-9._~+/=\-]{8,}", "Bearer " + REDACTED),
    (r"(?i:\bbasic\s+)[A-Za-z0-9+/]{8,}={0,2}", "Basic " + REDACTED),
    # key=value / key: value in free text (query strings, headers, log lines)
    (
        r"(?i)\b((?:[A-Za-z0-9_\-]*(?:passw(?:or)?d|secret|api[-_]?key|access[-_]?token"
        r"|auth[-_]?token|client[-_]?secret))\s*[=:]\s*)(?![\"'\[{])[^\s&,;\"'<>]{3,}",
        r"\1" + REDACTED,
    ),
)
# The RE2 pre-filter: a superset of what the exact pass replaces. A JSON key needs a string
# value after it to be worth a look (``"input_tokens": 12`` is not). No anchors or word
# boundaries: a batch's text is scanned laid end to end first (``_matches_end_to_end``).
_PREFILTER_KEY = (
    r"(?i)(?:passw|passphrase|secret|token|api.?key|apikey|auth|cookie|credential|private.?key"
    r'|access.?key|session.?key)[^"]*\\*"\s*:\s*(?:\\*"|\{|\[)'
)
_PREFILTER_SHAPES = (
    r"-----BEGIN|sk-[A-Za-z0-9_\-]{16}|(?:AKIA|ASIA)[0-9A-Z]{16}|gh[pousr]_|github_pat_"
    r"|xox[abposr]-|AIza|eyJ[A-Za-z0-9_\-]{8,}\.|(?i:bearer|basic)\s"
    r"|(?i:passw|secret|api.?key|token)[A-Za-z0-9_\-]*\s*[=:]"
)


@dataclass(frozen=True)
class Redactor:
    """The redaction rules in force: the built-in ones plus the user's ``extra`` pattern."""

    extra: str | None = None

    @functools.cached_property
    def _shapes(self) -> list[tuple[re.Pattern[str], str]]:
        shapes = [(re.compile(pattern), repl) for pattern, repl in _SHAPES]
        if self.extra:
            shapes.append((re.compile(self.extra), REDACTED))
        return shapes

    @functools.cached_property
    def prefilter(self) -> str | None:
        """The RE2 expression that selects values worth the exact pass; None when the
        user's pattern is not RE2 (then every value gets the exact pass)."""
        parts = [_PREFILTER_KEY, _PREFILTER_SHAPES]
        if self.extra:
            parts.append(self.extra)
        combined = "|".join(f"(?:{part})" for part in parts)
        return combined if _is_re2(combined) else None

    @functools.cached_property
    def python_prefilter(self) -> re.Pattern[str]:
        """The pre-filter compiled once for Python's ``re``: for small batches, where
        Arrow's per-call compilation of RE2 patterns costs more than the scan."""
        parts = [_scoped_flags(_PREFILTER_KEY), _PREFILTER_SHAPES]
        if self.extra:
            parts.append(self.extra)
        return re.compile("|".join(f"(?:{part})" for part in parts))

    @property
    def fingerprint(self) -> bytes:
        """Identifies these rules, so a batch already redacted under them is not again."""
        return f"v1:{self.extra or ''}".encode()

    def text(self, text: str) -> tuple[str, int]:
        """Free text with credential shapes replaced, and how many were."""
        count = 0
        for pattern, repl in self._shapes:
            text, n = pattern.subn(repl, text)
            count += n
        return text, count

    def json_text(self, text: str) -> tuple[str, int]:
        """Text that may be JSON: secret keys redacted at any depth (JSON inside JSON
        strings too), then the shapes. Text that is not JSON gets the shapes only."""
        stripped = text.lstrip()
        if stripped[:1] in ("{", "["):
            try:
                document = json.loads(text)
            except (ValueError, RecursionError):
                pass
            else:
                counter = [0]
                cleaned = self.value(document, counter)
                if counter[0]:
                    dumped = json.dumps(cleaned, ensure_ascii=False)
                    out, n = self.text(dumped)
                    return out, counter[0] + n
        return self.text(text)

    def value(self, value: Any, counter: list[int], depth: int = 0) -> Any:
        """A decoded value with secret keys and shapes redacted; ``counter[0]`` counts."""
        if depth > 64:
            return value
        if isinstance(value, dict):
            out: dict[Any, Any] = {}
            for key, item in value.items():
                if isinstance(key, str) and is_secret_key(key) and item not in (None, "", REDACTED):
                    out[key] = REDACTED
                    counter[0] += 1
                else:
                    out[key] = self.value(item, counter, depth + 1)
            return out
        if isinstance(value, list):
            return [self.value(item, counter, depth + 1) for item in value]
        if isinstance(value, str):
            cleaned, n = self.json_text(value) if value[:1] in ("{", "[") else self.text(value)
            counter[0] += n
            return cleaned
        return value

    def table(self, table: pa.Table) -> pa.Table:
        """``table`` (with the ``spans`` columns) with every text column redacted and the
        ``redacted`` column counting replacements per span. A no-op for a batch already
        redacted under these rules."""
        import pyarrow as pa
        import pyarrow.compute as pc

        metadata = table.schema.metadata or {}
        if metadata.get(REDACTED_BY) == self.fingerprint or table.num_rows == 0:
            return _mark(table, self.fingerprint)
        redactable = [
            index
            for index, field in enumerate(table.schema)
            if pa.types.is_string(field.type) and field.name not in _NOT_REDACTED
        ]
        rows = self._candidate_rows(table, redactable, pc)
        if not rows and _has_missing_counts(table):
            # Missing counts (a segment from an older version) were read as 0 only when
            # the joined scan found nothing; decided as it always was.
            rows = self._joined_candidate_rows(table, redactable, pc)
        if not rows:  # the common case: nothing to replace, the counts stay as they are
            return _mark(_counted(table, pc), self.fingerprint)
        counts = [0] * table.num_rows
        columns = list(table.columns)
        search = self.python_prefilter.search
        for index in redactable:
            field = table.schema.field(index)
            clean = self.json_text if field.name in _JSON_COLUMNS else self.text
            values = table.column(index).to_pylist()
            changed = False
            for row in rows:
                value = values[row]
                if value and search(value):
                    values[row], n = clean(value)
                    counts[row] += n
                    changed = changed or n > 0
            if changed:
                columns[index] = pa.array(values, type=field.type)
        names = table.column_names
        if "redacted" in names and any(counts):
            already = table.column("redacted").to_pylist()
            counts = [(a or 0) + c for a, c in zip(already, counts, strict=True)]
            index = names.index("redacted")
            columns[index] = pa.array(counts, type=table.schema.field(index).type)
        return _mark(pa.Table.from_arrays(columns, schema=table.schema), self.fingerprint)

    def _candidate_rows(self, table: pa.Table, redactable: list[int], pc: Any) -> list[int]:
        """The rows where some text value may hold a credential: one RE2 scan over the
        text columns' chunks laid end to end (Arrow compiles the pattern once per call, so
        one call per batch, not one per column), or for little text Python's compiled
        pattern. Each value is scanned on its own, as the exact pass reads it, once a scan
        of all the text as one value has found a match at all."""
        if not redactable:
            return []
        text_bytes = sum(table.column(i).nbytes for i in redactable)
        if text_bytes < _VECTORISED_FROM_BYTES or self.prefilter is None:
            search = self.python_prefilter.search
            texts = [table.column(i).to_pylist() for i in redactable]
            return [
                row
                for row in range(table.num_rows)
                if any(column[row] and search(column[row]) for column in texts)
            ]
        import pyarrow as pa

        # A batch's spans mostly share one resource: its distinct values are scanned once,
        # in the same call, after the other columns.
        count = table.num_rows
        resource, others = self._split_resource(table, redactable)
        chunks = [chunk for i in others for chunk in table.column(i).chunks]
        distinct = pc.unique(table.column(resource)) if resource >= 0 else None
        if distinct is not None:
            chunks.append(distinct)
        # One array, not a chunked one: Arrow would compile the pattern again per chunk.
        values = pa.concat_arrays(chunks)
        if not self.extra and not _matches_end_to_end(values, self.prefilter, pa, pc):
            return []  # the common case, found without RE2's setup for each of the values
        hits = pc.match_substring_regex(values, self.prefilter)
        positions: list[int] = pc.indices_nonzero(hits).to_pylist()
        if not positions:
            return []
        extent = len(others) * count  # where the resource's distinct values begin
        rows = {position % count for position in positions if position < extent}
        if distinct is not None and positions[-1] >= extent:
            found = distinct.take([p - extent for p in positions if p >= extent])
            matched = pc.is_in(table.column(resource), value_set=found)
            rows.update(pc.indices_nonzero(matched).to_pylist())
        return sorted(rows)

    def _joined_candidate_rows(self, table: pa.Table, redactable: list[int], pc: Any) -> list[int]:
        """The rows the RE2 scan of each row's text columns joined by newlines selects: a
        superset of ``_candidate_rows`` (a match may span two values). Kept only to decide,
        as before, whether a batch with missing counts has them read as 0
        (``Redactor.table``)."""
        text_bytes = sum(table.column(i).nbytes for i in redactable)
        if not redactable or text_bytes < _VECTORISED_FROM_BYTES or self.prefilter is None:
            return self._candidate_rows(table, redactable, pc)
        import pyarrow as pa

        resource, others = self._split_resource(table, redactable)
        joined = pc.binary_join_element_wise(
            *(pc.fill_null(table.column(i), "") for i in others), "\n"
        )
        distinct = pc.unique(table.column(resource)) if resource >= 0 else None
        scanned = joined if distinct is None else pa.chunked_array([*joined.chunks, distinct])
        hits = pc.match_substring_regex(scanned, self.prefilter)
        if not pc.any(hits).as_py():
            return []
        row_hits = hits.slice(0, table.num_rows)
        if distinct is not None:
            found = distinct.filter(hits.slice(table.num_rows).combine_chunks())
            if len(found):
                row_hits = pc.or_(row_hits, pc.is_in(table.column(resource), value_set=found))
        rows: list[int] = pc.indices_nonzero(row_hits).to_pylist()
        return rows

    @staticmethod
    def _split_resource(table: pa.Table, redactable: list[int]) -> tuple[int, list[int]]:
        """The ``resource`` column's index (-1 when it is not scanned apart) and the other
        text columns."""
        names = table.column_names
        resource = names.index("resource") if "resource" in names else -1
        others = [i for i in redactable if i != resource]
        if resource not in redactable or not others:
            return -1, redactable
        return resource, others


def _matches_end_to_end(values: pa.Array, pattern: str, pa: Any, pc: Any) -> bool:
    """Whether ``pattern`` matches the text of ``values`` (a string array) laid end to
    end, as one value, without a copy: a value's match is one in the whole for a pattern
    with no anchors or word boundaries, such as the built-in pre-filter (a user's
    pattern may have them). One RE2 call on one value costs a third of one on each."""
    if values.type != pa.string():  # the offsets read below are 32-bit: decide per value
        return True
    _, offsets, data = values.buffers()
    if data is None or len(values) == 0:
        return False  # no text at all
    ends = pa.Array.from_buffers(pa.int32(), len(values) + 1, [None, offsets], values.offset)
    span = struct.pack("=qq", ends[0].as_py(), ends[-1].as_py())
    text = pa.Array.from_buffers(pa.large_string(), 1, [None, pa.py_buffer(span), data])
    return bool(pc.match_substring_regex(text, pattern)[0].as_py())


#: Below this much text (bytes, offsets included) a batch is pre-filtered in Python:
#: Arrow compiles the RE2 pattern on every call (about 0.2 ms), which is what Python's
#: ``re`` takes for about 2 KB of text with this pattern; above, RE2 is about 100x faster.
_VECTORISED_FROM_BYTES = 2048


def _scoped_flags(pattern: str) -> str:
    """``(?i)rest`` as ``(?i:rest)``: Python allows global flags only at the very start."""
    return f"(?i:{pattern[4:]})" if pattern.startswith("(?i)") else pattern


# Ids and enumerations are not where credentials go, and must stay exact.
_NOT_REDACTED = frozenset(
    {"trace_id", "span_id", "parent_span_id", "kind", "status", "op", "source"}
)
_JSON_COLUMNS = frozenset({"attributes", "events", "resource", "tool_arguments", "tool_result"})


def _has_missing_counts(table: pa.Table) -> bool:
    return "redacted" in table.column_names and table.column("redacted").null_count > 0


def _counted(table: pa.Table, pc: Any) -> pa.Table:
    """``table`` with a missing count (a segment from another version) read as 0."""
    if not _has_missing_counts(table):
        return table
    index = table.column_names.index("redacted")
    return table.set_column(index, table.schema.field(index), pc.fill_null(table.column(index), 0))


def _mark(table: pa.Table, fingerprint: bytes) -> pa.Table:
    metadata = dict(table.schema.metadata or {})
    if metadata.get(REDACTED_BY) == fingerprint:
        return table
    metadata[REDACTED_BY] = fingerprint
    return table.replace_schema_metadata(metadata)


@functools.lru_cache(maxsize=4096)
def is_secret_key(key: str) -> bool:
    """Whether a value stored under ``key`` is a credential (cached: keys repeat)."""
    return _SECRET_KEY.search(key) is not None


@functools.lru_cache(maxsize=8)
def redactor(extra: str | None = None) -> Redactor:
    """The rules for ``extra`` (default: ``$BATON_REDACT``); raises ValueError, naming the
    setting, when the user's pattern is not a valid regular expression."""
    pattern = extra if extra is not None else os.environ.get(REDACT_ENV) or None
    if pattern:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(
                f"{REDACT_ENV}={pattern!r} is not a valid regular expression: {exc}"
            ) from exc
    return Redactor(pattern)


def redact_text(text: str) -> str:
    """``text`` with credential shapes replaced (the rules in force)."""
    return redactor().text(text)[0]


def _is_re2(pattern: str) -> bool:
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        pc.match_substring_regex(pa.array([""]), pattern)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True
