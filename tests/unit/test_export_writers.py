"""Writers: every file opens in an independent reader; the CSV validates against its
datapackage.json with frictionless; Excel text is escaped; the zip holds everything."""

from __future__ import annotations

import zipfile

import numpy as np
import pandas as pd
import pytest
from frictionless import validate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from test_export_fixtures import input_frames, questionnaire

from surveyapp.exporting import make_options, run_export


@pytest.fixture(scope="module")
def q():
    return questionnaire()


def export(q, folder, **choices):
    responses, answers = input_frames(12, ("baseline", "followup_1"))
    answers.loc[answers["question_id"] == "comment", "value"] = (
        "Tab\there & <b>bold</b>\x01 ünïcode"
    )
    options = make_options(**{"formats": "csv,xlsx,sav,dta,parquet", "k": 2, **choices})
    return run_export(responses, answers, [q], options, "key", folder, name="study_export")


@pytest.mark.parametrize("bom", [False, True])
def test_csv_validates_against_its_datapackage(q, tmp_path, bom):
    export(q, tmp_path, formats="csv", bom=bom, include_free_text=True)
    data = (tmp_path / "study_export.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") == bom
    report = validate(str(tmp_path / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    frame = pd.read_csv(tmp_path / "study_export.csv", encoding="utf-8-sig")
    assert (
        frame["conf_1"].dtype.kind == "i"
        or frame["conf_1"].dropna().eq(frame["conf_1"].dropna().round()).all()
    )
    assert b",3.0," not in data  # integer codes are written as integers


def test_frictionless_catches_a_value_outside_the_codes(q, tmp_path):
    export(q, tmp_path, formats="csv")
    path = tmp_path / "study_export.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[0, "conf_1"] = "7"
    frame.to_csv(path, index=False)
    assert not validate(str(tmp_path / "datapackage.json")).valid


def test_xlsx_has_data_codebook_and_escaped_text(q, tmp_path):
    dataset, _ = export(q, tmp_path, formats="xlsx", include_free_text=True)
    workbook = load_workbook(tmp_path / "study_export.xlsx", read_only=True)
    assert workbook.sheetnames == ["data", "codebook", "constructs", "about"]
    data = pd.read_excel(tmp_path / "study_export.xlsx", sheet_name="data")
    assert list(data.columns) == list(dataset.wide.columns)
    assert len(data) == len(dataset.wide)
    assert set(data["comment"]) == {"Tab\there & <b>bold</b> ünïcode"}
    expected = dataset.wide["conf_1"].tolist()
    assert data["conf_1"].tolist() == expected
    assert (
        data["confidence_score"].round(6).tolist()
        == dataset.wide["confidence_score"].round(6).tolist()
    )


def test_zip_holds_every_file_and_the_long_format(q, tmp_path):
    _, files = export(q, tmp_path, zip=True, long_format=True)
    with zipfile.ZipFile(files.archive) as archive:
        names = set(archive.namelist())
        assert archive.testzip() is None
    assert names == {p.name for p in files.files}
    assert {"study_export.csv", "study_export.xlsx", "study_export.sav", "study_export.dta",
            "study_export.parquet", "study_export_long.csv", "study_export_long.parquet",
            "codebook.html", "codebook.csv", "constructs.csv", "datapackage.json"} == names  # fmt: skip
    long = pd.read_csv(tmp_path / "study_export_long.csv")
    assert {"pseudonym", "wave", "variable", "value", "value_label"} <= set(long.columns)
    assert pd.read_parquet(tmp_path / "study_export_long.parquet").shape[0] == len(long)
    checksums = files.checksums()
    assert set(checksums) == names | {"study_export.zip"}


def test_xlsx_sheet_xml_of_odd_values_reads_back(tmp_path):
    from surveyapp.exporting.anonymise import ProtectionReport
    from surveyapp.exporting.codebook import Codebook, alpha_frame
    from surveyapp.exporting.xlsx import write_xlsx

    frame = pd.DataFrame(
        {
            "score": [1.5, float("inf"), float("nan"), -97.0, 1e-5],
            "note": ["a & b", "<tag>", None, "line\nbreak\x0b", "ünïcode ✓"],
            "count": pd.array([1, None, 3, 4, 5], dtype="Int64"),
        }
    )
    codebook = Codebook("t", "en", ["en"], [], alpha_frame([]), ProtectionReport(5, []), {}, 5)
    path = write_xlsx(frame, [], codebook, tmp_path / "odd.xlsx", {"extra": frame.head(2)})
    back = pd.read_excel(path, sheet_name="data")
    assert back["score"].tolist()[0] == 1.5 and back["score"].tolist()[3:] == [-97.0, 1e-5]
    assert back["score"].isna().tolist() == [False, True, True, False, False]  # inf: blank
    assert back["note"].tolist()[:2] == ["a & b", "<tag>"] and pd.isna(back["note"][2])
    assert back["note"].tolist()[3:] == ["line\nbreak", "ünïcode ✓"]
    assert back["count"].isna().tolist() == [False, True, False, False, False]
    assert load_workbook(path, read_only=True).sheetnames == [
        "data", "extra", "codebook", "constructs", "about"
    ]  # fmt: skip
    empty = write_xlsx(frame.iloc[:0], [], codebook, tmp_path / "empty.xlsx")
    assert list(pd.read_excel(empty, sheet_name="data").columns) == ["score", "note", "count"]


STATA_CODES = {"a": -99, "b": -98, "c": -97}


def read_every_format(folder, name: str) -> dict[str, pd.DataFrame]:
    """Every data file read back by a reader that is not ours; Stata's letters as codes."""
    import pyreadstat

    frames = {
        "csv": pd.read_csv(folder / f"{name}.csv"),
        "xlsx": pd.read_excel(folder / f"{name}.xlsx", sheet_name="data"),
        "parquet": pd.read_parquet(folder / f"{name}.parquet"),
        "sav": pyreadstat.read_sav(str(folder / f"{name}.sav"), user_missing=True)[0],
    }
    dta = pyreadstat.read_dta(str(folder / f"{name}.dta"), user_missing=True)[0]
    for column in dta.columns:
        values = dta[column]
        if not pd.api.types.is_numeric_dtype(values) and values.isin(list(STATA_CODES)).any():
            dta[column] = pd.to_numeric(values.astype(object).replace(STATA_CODES), errors="coerce")
    frames["dta"] = dta
    return frames


@pytest.mark.parametrize("leading", [0, 99, 100, 150, 300])
def test_rows_keep_their_order_in_every_format_whatever_the_missing_codes(q, tmp_path, leading):
    from surveyapp.exporting import build_dataset, write_dataset

    responses, answers = input_frames(150, ("baseline", "followup_1"))
    options = make_options(formats="csv,xlsx,sav,dta,parquet", k=2)
    dataset = build_dataset(responses, answers, [q], options, "key", name="order")
    wide = dataset.wide
    # Columns whose first rows hold only missing codes (the case narwhals' type sniffing
    # used to mistake for text), one holding nothing else, one with no code at all.
    wide.loc[: leading - 1, "year_group"] = -97.0
    wide.loc[: leading - 1, "conf_1"] = -99.0
    wide["gender"] = -98.0
    wide["conf_2"] = wide["conf_2"].where(wide["conf_2"] >= 0, 1.0)
    write_dataset(dataset, tmp_path, options)
    for fmt, back in read_every_format(tmp_path, "order").items():
        assert back["pseudonym"].tolist() == wide["pseudonym"].tolist(), fmt
        assert back["wave"].tolist() == wide["wave"].tolist(), fmt
        for column in ("year_group", "conf_1", "gender", "conf_2", "instruments_2"):
            expected = wide[column].astype(float)
            actual = pd.to_numeric(back[column], errors="coerce").astype(float)
            assert expected.fillna(-1e9).tolist() == actual.fillna(-1e9).tolist(), (fmt, column)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.lists(st.sampled_from([1.0, 2.0, 5.0, 2.5, -99.0, -98.0, -97.0, np.nan]), min_size=1),
        min_size=1,
        max_size=3,
    ).flatmap(
        lambda cols: st.lists(
            st.lists(st.sampled_from(cols[0]), min_size=len(cols), max_size=len(cols)),
            max_size=250,
        )
    )
)
def test_any_mix_of_numbers_and_missing_codes_reads_back_from_stata(tmp_path, rows):
    import pyreadstat

    from surveyapp.exporting.variables import CODE, Variable
    from surveyapp.exporting.writers import write_dta

    width = len(rows[0]) if rows else 1
    names = [f"v{i}" for i in range(width)]
    frame = pd.DataFrame(rows, columns=names, dtype=float)
    frame["row"] = np.arange(len(frame), dtype=float)
    variables = [Variable(name=n, kind=CODE, label={"en": n}) for n in names]
    variables.append(Variable(name="row", kind="meta", label={"en": "row"}, storage="number"))
    path = write_dta(frame, variables, tmp_path / "any.dta", "en")
    back = pyreadstat.read_dta(str(path), user_missing=True)[0]
    assert back["row"].tolist() == frame["row"].tolist()
    for name in names:
        values = back[name]
        if not pd.api.types.is_numeric_dtype(values):
            values = values.astype(object).replace(STATA_CODES)
        actual = pd.to_numeric(values, errors="coerce").astype(float).fillna(-1e9)
        assert actual.tolist() == frame[name].fillna(-1e9).tolist(), name
