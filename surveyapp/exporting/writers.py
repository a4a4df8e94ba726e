"""One writer per format, each writing a file on disk from the wide frame and its variables.

Every file carries the labels its format can hold: SPSS and Stata get variable labels, value
labels and declared missing values (SPSS user-missing -99/-98/-97; Stata extended missing
.a/.b/.c); Excel gets a codebook sheet; Parquet gets the labels as field metadata; CSV relies
on the codebook and ``datapackage.json`` beside it.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyreadstat
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from .codebook import Codebook
from .missing import MISSING_LABELS, STATA_LETTERS
from .variables import META, TEXT, Variable

STATA_LABEL_MAX = 80
# Fast deflate: level 1 is several times quicker than the default 6 and only slightly larger
# on this kind of data (many short repeated codes).
ZIP_LEVEL = 1
XLSX_CHUNK_ROWS = 10_000
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


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


def write_csv(frame: pd.DataFrame, variables: Sequence[Variable], path: Path, bom: bool) -> Path:
    typed_frame(frame, variables).to_csv(
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


SNIFF_ROWS = 100  # narwhals (used by pyreadstat) guesses an object column's type from its head


def stata_frame(
    frame: pd.DataFrame, variables: Sequence[Variable]
) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Missing codes become Stata extended missing letters (``.a`` ...); strings plain text.

    Rows keep the wide order, except that a few may move to the top: pyreadstat decides
    whether an object column (numbers mixed with missing letters) is numeric from its first
    100 values, so a column whose head holds only letters (say, a quasi-identifier withheld
    for the whole first class) would be taken for text and refused. For each such column its
    first row with a number is lifted to the top; the codebook notes it.
    """
    data = frame.copy()
    missing: dict[str, list[str]] = {}
    lift: set[int] = set()
    letters = sorted(set(STATA_LETTERS.values()))
    for v in variables:
        if v.name not in data:
            continue
        if v.storage == "string" or v.kind == TEXT:
            data[v.name] = data[v.name].astype(object).where(data[v.name].notna(), "").astype(str)
            continue
        column = pd.to_numeric(data[v.name], errors="coerce").astype("float64")
        codes = column.isin(list(STATA_LETTERS)).to_numpy() if v.has_missing_codes else None
        if codes is None or not codes.any():
            data[v.name] = column
            continue
        raw = column.to_numpy()
        as_object = raw.astype(object)
        for code, letter in STATA_LETTERS.items():
            as_object[raw == code] = letter
        data[v.name] = as_object
        missing[v.name] = letters
        numbers = ~codes & ~np.isnan(raw)
        if numbers.any() and not numbers[:SNIFF_ROWS].any() and codes[:SNIFF_ROWS].any():
            lift.add(int(np.flatnonzero(numbers)[0]))
    if lift:
        lifted = np.array(sorted(lift))
        order = np.concatenate([lifted, np.delete(np.arange(len(data)), lifted)])
        data = data.iloc[order].reset_index(drop=True)
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


# ------------------------------------------------------------------ Excel


def _xml_text(series: pd.Series) -> pd.Series:
    text = series.astype(str).str.replace(_XML_ILLEGAL, "", regex=True)
    return text.str.replace("&", "&amp;").str.replace("<", "&lt;").str.replace(">", "&gt;")


def _sheet_cells(chunk: pd.DataFrame, first_row: int, numeric: set[str]) -> pd.Series:
    """The ``<row>`` XML of each row of ``chunk``, built column by column (vectorised)."""
    row_numbers = pd.Series(
        np.arange(first_row, first_row + len(chunk)).astype(str), index=chunk.index
    )
    # Cells carry no reference (it is optional): they follow in order, blanks as <c/>.
    cells = ['<row r="' + row_numbers + '">']
    for name in chunk.columns:
        column = chunk[name]
        if name in numeric:
            cell = "<c><v>" + column.astype(str) + "</v></c>"
        else:
            cell = (
                '<c t="inlineStr"><is><t xml:space="preserve">'
                + _xml_text(column)
                + "</t></is></c>"
            )
        cells.append(cell.where(column.notna(), "<c/>"))
    return pd.Series(
        ["".join(parts) + "</row>" for parts in zip(*cells, strict=True)], index=chunk.index
    )


def _data_sheet_xml(frame: pd.DataFrame, numeric: set[str], out) -> None:
    last = f"{get_column_letter(max(1, frame.shape[1]))}{len(frame) + 1}"
    out.write(
        (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<dimension ref="A1:{last}"/>'
            '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
            'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><sheetData>'
        ).encode()
    )
    header = pd.DataFrame([list(frame.columns)], columns=frame.columns)
    out.write("".join(_sheet_cells(header, 1, set())).encode("utf-8"))
    for start in range(0, len(frame), XLSX_CHUNK_ROWS):
        chunk = frame.iloc[start : start + XLSX_CHUNK_ROWS]
        out.write("".join(_sheet_cells(chunk, start + 2, numeric)).encode("utf-8"))
    out.write(b"</sheetData></worksheet>")


def write_xlsx(
    frame: pd.DataFrame, variables: Sequence[Variable], codebook: Codebook, path: Path
) -> Path:
    """openpyxl writes the workbook and the codebook sheets; the data sheet, which can hold
    millions of cells, is streamed as sheet XML in chunks (openpyxl's per-cell objects would
    take minutes at 100,000 rows)."""
    data = typed_frame(frame, variables)
    numeric = {c for c in data.columns if pd.api.types.is_numeric_dtype(data[c])}
    skeleton = path.with_suffix(".skeleton.xlsx")
    wb = Workbook()
    ws = wb.active
    ws.title = "data"
    for title, table in (("codebook", codebook.table()), ("constructs", codebook.alpha_table())):
        sheet = wb.create_sheet(title)
        sheet.append(list(table.columns))
        for row in table.itertuples(index=False):
            sheet.append([None if (isinstance(x, float) and np.isnan(x)) else x for x in row])
        sheet.freeze_panes = "B2"
    about = wb.create_sheet("about")
    about.append(["rows", codebook.rows])
    about.append(["small-cell protection", codebook.protection.summary()])
    for warning in codebook.warnings:
        about.append(["warning", warning])
    for note in codebook.notes:
        about.append(["note", note])
    wb.save(skeleton)
    try:
        with (
            zipfile.ZipFile(skeleton) as src,
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst,
        ):
            for item in src.infolist():
                if item.filename == "xl/worksheets/sheet1.xml":
                    with dst.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as out:
                        _data_sheet_xml(data, numeric, out)
                else:
                    dst.writestr(item, src.read(item.filename))
    finally:
        skeleton.unlink(missing_ok=True)
    return path


# ------------------------------------------------------------------ zip


STORED_SUFFIXES = {".xlsx", ".parquet", ".zip"}  # already compressed


def write_zip(files: Sequence[Path], path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL) as archive:
        for file in files:
            method = zipfile.ZIP_STORED if file.suffix in STORED_SUFFIXES else zipfile.ZIP_DEFLATED
            archive.write(file, arcname=file.name, compress_type=method)
    return path
