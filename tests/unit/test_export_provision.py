"""Provision returns in the export: provision.csv, a sheet in the xlsx and a file in each
format that fits, with its own codebook section; submitted returns only; schools by code,
never by name; free text only when asked for."""

from __future__ import annotations

import io
import json
import zipfile

import pandas as pd
import pyarrow.parquet as pq
import pyreadstat
import pytest
from frictionless import validate
from test_export_fixtures import SCHOOLS, serve_test_study

from surveyapp.catalog import get_catalog
from surveyapp.export_query import export_study
from surveyapp.exporting import make_options
from surveyapp.extensions import db
from surveyapp.models import School
from surveyapp.provision import save_return

ALL_FORMATS = "csv,xlsx,sav,dta,parquet"
COMMENT = "Mrs Jones's class loved the violins & <cellos>"
S01_ANSWERS = {
    "hours_y3": 1.5,
    "hours_y4": 2,
    "pupils_on_roll": 210,
    "pupils_taking_part": 64,
    "instruments_available": [1, 3, 14],
    "performances": 3,
    "comments": COMMENT,
}


@pytest.fixture
def study_with_returns(app, monkeypatch):
    study, _ = serve_test_study(app, monkeypatch)
    provision_q = get_catalog().questionnaires[get_catalog().study.provision_questionnaire]
    s01, s02 = (
        db.session.execute(db.select(School).filter_by(study_id=study.id, code=code)).scalar_one()
        for code in ("S01", "S02")
    )
    save_return(s01, "2026-autumn", provision_q, S01_ANSWERS, None, submit=True)
    save_return(s02, "2026-autumn", provision_q, {"pupils_taking_part": 12}, None, submit=True)
    # A draft: left out of the export, counted in the codebook.
    save_return(s01, "2027-spring", provision_q, {"pupils_taking_part": 70}, None)
    db.session.commit()
    return study


def export(tmp_path, **choices):
    options = make_options(**{"formats": ALL_FORMATS, "k": 5, "zip": True, **choices})
    return export_study("in_harmony", options, tmp_path)


def test_submitted_returns_in_every_format_with_their_own_codebook(
    app, study_with_returns, tmp_path
):
    outcome = export(tmp_path)
    csv = pd.read_csv(tmp_path / "provision.csv")
    assert list(csv.columns[:3]) == ["school", "term", "questionnaire_version"]
    assert csv[["school", "term"]].values.tolist() == [
        ["S01", "2026-autumn"],
        ["S02", "2026-autumn"],
    ]
    s01 = csv.iloc[0]
    assert s01["hours_y3"] == 1.5 and s01["pupils_on_roll"] == 210 and s01["performances"] == 3
    assert [s01[f"instruments_available_{c}"] for c in (1, 2, 3, 14)] == [1, 0, 1, 1]
    assert pd.isna(csv.iloc[1]["instruments_available_1"])  # S02 did not answer it
    assert "comments" not in csv.columns  # free text only when asked for
    readers = {
        "sav": lambda p: pyreadstat.read_sav(str(p), user_missing=True)[0],
        "dta": lambda p: pyreadstat.read_dta(str(p), user_missing=True)[0],
        "parquet": pd.read_parquet,
    }
    for fmt, read in readers.items():
        back = read(tmp_path / f"provision.{fmt}")
        assert back["school"].tolist() == ["S01", "S02"], fmt
        assert back["pupils_taking_part"].tolist() == [64, 12], fmt
        assert back["hours_y3"].tolist()[0] == 1.5, fmt
    sheet = pd.read_excel(tmp_path / "in_harmony_export.xlsx", sheet_name="provision")
    assert sheet["pupils_taking_part"].tolist() == [64, 12]
    _, meta = pyreadstat.read_sav(str(tmp_path / "provision.sav"))
    assert meta.column_names_to_labels["pupils_taking_part"].startswith("Pupils taking part")
    assert meta.variable_value_labels["instruments_available_14"][1] == "selected"
    assert pq.read_schema(tmp_path / "provision.parquet").field("hours_y3").metadata
    # The codebook has a section of its own; the datapackage describes provision.csv too.
    codebook = pd.read_csv(tmp_path / "codebook.csv")
    provision_rows = codebook[codebook["dataset"] == "provision"].set_index("name")
    assert "instruments_available_14" in provision_rows.index
    assert provision_rows.loc["instruments_available_14", "label"].endswith("Oboe")
    assert "school name replaced by its code" in provision_rows.loc["school", "transformation"]
    assert set(codebook.loc[codebook["dataset"] == "pupils", "name"]) == set(
        outcome.dataset.wide.columns
    )
    html = (tmp_path / "codebook.html").read_text()
    assert "Provision returns" in html and "1 return(s) saved but not submitted" in html
    package = json.loads((tmp_path / "datapackage.json").read_text())
    assert [r["path"] for r in package["resources"]] == ["in_harmony_export.csv", "provision.csv"]
    report = validate(str(tmp_path / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    with zipfile.ZipFile(tmp_path / "in_harmony_export.zip") as archive:
        names = set(archive.namelist())
    assert {"provision.csv", "provision.sav", "provision.dta", "provision.parquet"} <= names


def test_no_school_name_anywhere_and_free_text_only_when_asked(app, study_with_returns, tmp_path):
    export(tmp_path / "plain")
    export(tmp_path / "text", include_free_text=True)
    names = [name for name, *_ in SCHOOLS] + [row[3] for row in SCHOOLS]
    for folder in ("plain", "text"):
        for path in (tmp_path / folder).iterdir():
            data = path.read_bytes()
            blobs = [data]
            if zipfile.is_zipfile(path):
                with zipfile.ZipFile(path) as archive:
                    blobs += [archive.read(n) for n in archive.namelist()]
                    blobs += [
                        zipfile.ZipFile(io.BytesIO(archive.read(n))).read(m)
                        for n in archive.namelist()
                        if n.endswith(".xlsx")
                        for m in zipfile.ZipFile(io.BytesIO(archive.read(n))).namelist()
                    ]
            for blob in blobs:
                for name in names:
                    assert name.encode() not in blob, (folder, path.name, name)
                if folder == "plain":
                    assert b"Mrs Jones" not in blob, path.name
    with_text = pd.read_csv(tmp_path / "text" / "provision.csv")
    assert with_text["comments"].tolist()[0] == COMMENT
    html = (tmp_path / "text" / "codebook.html").read_text()
    assert "provision returns include free text (comments)" in html


def test_the_arm_choice_applies_to_the_schools_returns(app, study_with_returns, tmp_path):
    export(tmp_path, formats="csv", arms="comparison")
    assert pd.read_csv(tmp_path / "provision.csv")["school"].tolist() == ["S02"]


def test_a_study_without_returns_gets_an_empty_table_with_its_columns(app, tmp_path, monkeypatch):
    study, _ = serve_test_study(app, monkeypatch)
    export(tmp_path, formats="csv,sav")
    empty = pd.read_csv(tmp_path / "provision.csv")
    assert empty.empty and "pupils_taking_part" in empty.columns
    assert pyreadstat.read_sav(str(tmp_path / "provision.sav"))[0].empty
