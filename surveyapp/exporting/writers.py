"""One writer per format, each writing a file on disk from the wide frame and its variables.

Every file carries the labels its format can hold: SPSS and Stata get variable labels, value
labels and declared missing values (SPSS user-missing -99/-98/-97; Stata extended missing
.a/.b/.c); Excel (:mod:`surveyapp.exporting.xlsx`) gets a codebook sheet; Parquet gets the
labels as field metadata; CSV relies on the codebook and ``datapackage.json`` beside it.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyreadstat

from .cells import FORMULA_STARTS
from .missing import MISSING_LABELS, STATA_LETTERS
from .variables import META, TEXT, Variable

STATA_LABEL_MAX = 80
# Fast deflate: level 1 is several times quicker than the default 6 and only slightly larger
# on this kind of data (many short repeated codes).
ZIP_LEVEL = 1


def _integer_columns(variables: Sequence[Variable]) -> list[str]:
    return [v.name for v in variables if v.storage == "integer"]


def typed_frame(frame: pd.DataFrame, variables: Sequence[Variable]) -> pd.DataFrame:
    """Integer columns as nullable Int64 (so CSV shows ``3``, not ``3.0``); text as objects."""
    out = frame.copy()
    for name in _integer_columns(variables):
        if name in out:
            out[name] = pd.to_numeric(out[name], errors="coerce").round().astype("Int64")
    return out


# ------------------------------------------------------------------ CSV and Parquet


def spreadsheet_safe_text(frame: pd.DataFrame, variables: Sequence[Variable]) -> pd.DataFrame:
    """Free-text answers that a spreadsheet would run as formulas get a leading apostrophe.

    Only TEXT answer columns, and never the missing codes ("-99", "-98", "-97") they share
    with numeric columns; the codebook notes the apostrophe on free-text variables.
    """
    codes = {str(code) for code in MISSING_LABELS}
    for v in variables:
        if v.kind != TEXT or v.name not in frame:
            continue
        column = frame[v.name]
        text = column.astype("string")
        risky = text.str.startswith(FORMULA_STARTS).fillna(False) & ~text.isin(codes).fillna(False)
        if risky.any():
            frame[v.name] = column.where(~risky, "'" + text)
    return frame


def write_csv(frame: pd.DataFrame, variables: Sequence[Variable], path: Path, bom: bool) -> Path:
    spreadsheet_safe_text(typed_frame(frame, variables), variables).to_csv(
        path, index=False, encoding="utf-8-sig" if bom else "utf-8", chunksize=20_000
    )
    return path


def write_parquet(
    frame: pd.DataFrame, variables: Sequence[Variable], path: Path, language: str
) -> Path:
    table = pa.Table.from_pandas(typed_frame(frame, variables), preserve_index=False)
    by_name = {v.name: v for v in variables}
    fields = []
    for f in table.schema:
        v = by_name.get(f.name)
        meta = {}
        if v is not None:
            meta["label"] = v.label_in(language)
            labels = v.value_labels_in(language)
            if v.has_missing_codes:
                labels = {**labels, **MISSING_LABELS}
            if labels:
                meta["value_labels"] = json.dumps({str(c): t for c, t in labels.items()})
        fields.append(f.with_metadata(meta) if meta else f)
    schema = pa.schema(fields, metadata=table.schema.metadata)
    pq.write_table(table.cast(schema), path, compression="zstd")
    return path


def write_long(
    long: pd.DataFrame, path_csv: Path | None, path_parquet: Path | None, bom: bool
) -> list[Path]:
    out = []
    if path_csv is not None:
        long.to_csv(
            path_csv, index=False, encoding="utf-8-sig" if bom else "utf-8", chunksize=200_000
        )
        out.append(path_csv)
    if path_parquet is not None:
        long.to_parquet(path_parquet, index=False, compression="zstd")
        out.append(path_parquet)
    return out


# ------------------------------------------------------------------ SPSS


def write_sav(
    frame: pd.DataFrame, variables: Sequence[Variable], path: Path, language: str
) -> Path:
    data = frame.copy()
    value_labels: dict[str, dict] = {}
    missing: dict[str, list] = {}
    measure: dict[str, str] = {}
    for v in variables:
        if v.name not in data:
            continue
        measure[v.name] = v.measure
        if v.storage == "string" or v.kind in (META, TEXT) and v.storage != "integer":
            data[v.name] = data[v.name].astype(object).where(data[v.name].notna(), "").astype(str)
        else:
            data[v.name] = pd.to_numeric(data[v.name], errors="coerce").astype("float64")
        labels = {float(c): t for c, t in v.value_labels_in(language).items()}
        if v.has_missing_codes:
            labels.update({float(c): t for c, t in MISSING_LABELS.items()})
            missing[v.name] = [float(c) for c in sorted(MISSING_LABELS)]
        elif v.kind == TEXT:
            missing[v.name] = [str(c) for c in sorted(MISSING_LABELS)][:3]
        if labels:
            value_labels[v.name] = labels
    pyreadstat.write_sav(
        data,
        str(path),
        column_labels={v.name: v.label_in(language)[:255] for v in variables},
        variable_value_labels=value_labels,
        missing_ranges=missing,
        variable_measure=measure,
    )
    return path


# ------------------------------------------------------------------ Stata


_LETTERS = sorted(set(STATA_LETTERS.values()))


def _with_letters(values: np.ndarray) -> pd.Categorical:
    """A numeric column whose missing codes are Stata's letters, as a categorical whose
    categories are the numbers first, then the letters.

    pyreadstat writes a categorical's values (not its codes) and decides a column's type
    from its categories; narwhals, which it uses, guesses the type of a plain object column
    from its first 100 values, so a column starting with 100 withheld values would be taken
    for text. The categories always start with the numbers (when there are any), so the
    column is written as numbers with tagged missing values, and every row keeps its place.
    """
    letter_of = np.full(len(values), -1)
    for code, letter in STATA_LETTERS.items():
        letter_of[values == code] = _LETTERS.index(letter)
    is_letter = letter_of >= 0
    numbers = ~is_letter & ~np.isnan(values)
    distinct = np.unique(values[numbers])
    codes = np.full(len(values), -1, dtype=np.int64)
    codes[numbers] = np.searchsorted(distinct, values[numbers])
    codes[is_letter] = len(distinct) + letter_of[is_letter]
    categories = pd.Index([*distinct.tolist(), *_LETTERS], dtype=object)
    return pd.Categorical.from_codes(codes, categories=categories)


def stata_frame(
    frame: pd.DataFrame, variables: Sequence[Variable]
) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Missing codes become Stata extended missing values (``.a`` ``.b`` ``.c``); strings
    plain text; rows keep the order of every other format."""
    data = frame.copy()
    missing: dict[str, list[str]] = {}
    for v in variables:
        if v.name not in data:
            continue
        if v.storage == "string" or v.kind == TEXT:
            data[v.name] = data[v.name].astype(object).where(data[v.name].notna(), "").astype(str)
            continue
        column = pd.to_numeric(data[v.name], errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        if v.has_missing_codes and np.isin(column, list(STATA_LETTERS)).any():
            data[v.name] = _with_letters(column)
            missing[v.name] = _LETTERS
        else:
            data[v.name] = column
    return data, missing


def write_dta(
    frame: pd.DataFrame, variables: Sequence[Variable], path: Path, language: str
) -> Path:
    data, missing = stata_frame(frame, variables)
    value_labels: dict[str, dict] = {}
    for v in variables:
        if v.name not in data or v.storage == "string" or v.kind == TEXT:
            continue
        labels: dict = {int(c): t for c, t in v.value_labels_in(language).items()}
        if v.name in missing:
            labels.update({STATA_LETTERS[c]: t for c, t in MISSING_LABELS.items()})
        if labels:
            value_labels[v.name] = labels
    pyreadstat.write_dta(
        data,
        str(path),
        column_labels={v.name: v.label_in(language)[:STATA_LABEL_MAX] for v in variables},
        variable_value_labels=value_labels,
        missing_user_values=missing,
    )
    return path


# ------------------------------------------------------------------ zip


STORED_SUFFIXES = {".xlsx", ".parquet", ".zip"}  # already compressed


def write_zip(files: Sequence[Path], path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL) as archive:
        for file in files:
            method = zipfile.ZIP_STORED if file.suffix in STORED_SUFFIXES else zipfile.ZIP_DEFLATED
            archive.write(file, arcname=file.name, compress_type=method)
    return path
