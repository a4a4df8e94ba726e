"""Writers: every file opens in an independent reader; the CSV validates against its
datapackage.json with frictionless; Excel text is escaped; the zip holds everything."""

from __future__ import annotations

import zipfile

import pandas as pd
import pytest
from frictionless import validate
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
