"""Stored answers -> the answers input frame, a column at a time.

The database returns each answer's value as JSON text (storage contract: an int code, a
number, a sorted list of codes or a string). At 100,000 responses x 60 items that is six
million values, so they are never decoded one by one: numbers (nearly all of them) are
recognised and converted by Arrow's compute kernels into a float column, and only the rest
(lists of codes, text, ``null``) go through :func:`json.loads`.

Rows arrive in chunks of plain tuples (``response_id, question_id, JSON text, declined``);
each chunk becomes NumPy columns at once and the question ids become small integer codes, so
no Python object per answer outlives its chunk.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# JSON's number grammar: "12" is a number, '"12"' (a string) is not, nor are NaN or Infinity.
_JSON_NUMBER = r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$"


def json_numbers(texts: Sequence[str | None] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(numbers, is_number)`` for JSON texts: float64 (NaN where not a number) and a mask."""
    array = pa.array(texts, type=pa.string(), from_pandas=True)
    is_number = pc.fill_null(pc.match_substring_regex(array, _JSON_NUMBER), False)
    numbers = pc.cast(pc.if_else(is_number, array, pa.scalar(None, pa.string())), pa.float64())
    return (
        numbers.to_numpy(zero_copy_only=False).astype(np.float64, copy=False),
        is_number.to_numpy(zero_copy_only=False).astype(bool, copy=False),
    )


def decode_json_texts(texts: Sequence[str | None] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(numbers, values)``: numbers as floats; every other value decoded into ``values``
    (objects: lists, strings; None for numbers, SQL NULL and JSON ``null``)."""
    raw = np.asarray(texts, dtype=object)
    numbers, is_number = json_numbers(raw)
    values = np.full(len(raw), None, dtype=object)
    rest = np.flatnonzero(~is_number & pd.notna(raw))
    if len(rest):
        values[rest] = [_loads(text) for text in raw[rest]]
    return numbers, values


def _loads(text: object) -> object:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return None  # not JSON at all: treated as no value, never as a crash


def decode_json_values(raw: pd.Series) -> pd.Series:
    """JSON text -> Python values (numbers as floats): the slow, one-column form of
    :func:`decode_json_texts`, for small inputs and tests."""
    numbers, values = decode_json_texts(raw.to_numpy(dtype=object))
    out = values.copy()
    hit = ~np.isnan(numbers)
    out[hit] = numbers[hit]
    return pd.Series(out, index=raw.index, dtype=object)


class AnswerColumns:
    """Collects answer rows chunk by chunk into the columns of the answers frame."""

    def __init__(self) -> None:
        self._keys: dict[str, int] = {}
        self._parts: dict[str, list[np.ndarray]] = {
            name: [] for name in ("response_id", "key", "number", "value", "declined")
        }
        self.rows = 0

    def add(self, rows: Sequence[Sequence[object]]) -> None:
        """Add ``(response_id, question_id, JSON text, declined)`` rows."""
        if not rows:
            return
        n = len(rows)
        response_ids, question_ids, texts, declined = zip(*rows, strict=True)
        codes, uniques = pd.factorize(np.asarray(question_ids, dtype=object))
        remap = np.array([self._keys.setdefault(str(u), len(self._keys)) for u in uniques])
        numbers, values = decode_json_texts(texts)
        parts = self._parts
        parts["response_id"].append(np.fromiter(response_ids, dtype=np.int64, count=n))
        parts["key"].append(remap[codes].astype(np.int32))
        parts["number"].append(numbers)
        parts["value"].append(values)
        parts["declined"].append(np.fromiter(declined, dtype=bool, count=n))
        self.rows += n

    def frame(self) -> pd.DataFrame:
        """The answers frame: ``response_id``, ``question_id`` (categorical), ``number``,
        ``value`` and ``declined`` (see :mod:`surveyapp.exporting.frames`)."""
        parts = self._parts

        def joined(name: str, dtype) -> np.ndarray:
            return np.concatenate(parts[name]) if parts[name] else np.array([], dtype=dtype)

        return pd.DataFrame(
            {
                "response_id": joined("response_id", np.int64),
                "question_id": pd.Categorical.from_codes(
                    joined("key", np.int32), categories=list(self._keys)
                ),
                "number": joined("number", np.float64),
                "value": joined("value", object),
                "declined": joined("declined", bool),
            }
        )


def answers_from_chunks(chunks: Iterable[Sequence[Sequence[object]]]) -> pd.DataFrame:
    """The answers frame from chunks of ``(response_id, question_id, JSON text, declined)``."""
    columns = AnswerColumns()
    for rows in chunks:
        columns.add(rows)
    return columns.frame()
