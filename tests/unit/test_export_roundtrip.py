"""Round trip through the database: a study with known answers, exported to every format and
read back with independent readers; no code, name, id or exact time in any byte."""

from __future__ import annotations

import hashlib
import hmac
import io
import math
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pyreadstat
import pytest
import sqlalchemy as sa
from test_export_fixtures import build_study_in_db, expected_row, questionnaire

from surveyapp.catalog import get_catalog
from surveyapp.export_query import ExportError, export_study, load_frames, options_for
from surveyapp.exporting import ExportOptionsError, make_options
from surveyapp.extensions import db
from surveyapp.models import AuditEvent, ExportRecord, Study, Wave

STATA_CODES = {"a": -99, "b": -98, "c": -97}
ALL_FORMATS = "csv,xlsx,sav,dta,parquet"
N = 12


@pytest.fixture
def study_db(app, monkeypatch):
    q = questionnaire()
    monkeypatch.setitem(get_catalog().questionnaires, q.id, q)
    study = Study(key="export_study", title="Export study")
    db.session.add(study)
    db.session.flush()
    waves = [
        Wave(study=study, key="baseline", label="Baseline", position=0, questionnaire_id=q.id),
        Wave(study=study, key="followup_1", label="Follow-up", position=1, questionnaire_id=q.id),
    ]
    db.session.add_all(waves)
    db.session.flush()
    secrets = build_study_in_db(app, study, waves, q, n=N)
    return study, secrets


def pseudonym(key: str, participant_id: str) -> str:
    return hmac.new(key.encode(), participant_id.encode(), hashlib.sha256).hexdigest()[:16]


def read_back(path: Path) -> pd.DataFrame:
    """Each format through a reader that is not ours; missing codes as numbers."""
    if path.suffix == ".csv":
        return pd.read_csv(path)
    if path.suffix == ".xlsx":
        return pd.read_excel(path, sheet_name="data")
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".sav":
        return pyreadstat.read_sav(str(path), user_missing=True)[0]
    frame = pyreadstat.read_dta(str(path), user_missing=True)[0]
    for column in frame.columns:
        values = frame[column]
        if not pd.api.types.is_numeric_dtype(values) and values.isin(list(STATA_CODES)).any():
            frame[column] = pd.to_numeric(
                values.astype(object).replace(STATA_CODES), errors="coerce"
            )
    return frame


def same(expected, actual) -> bool:
    if isinstance(expected, float) and math.isnan(expected):
        return actual is None or pd.isna(actual)
    return not pd.isna(actual) and float(actual) == pytest.approx(float(expected))


def test_every_format_reads_back_the_known_answers(app, study_db, tmp_path):
    study, secrets = study_db
    options = make_options(formats=ALL_FORMATS, k=2, zip=True, include_free_text=True)
    outcome = export_study("export_study", options, tmp_path)
    by_pseudonym = {
        pseudonym(study.pseudonym_key, pid): i for i, pid in enumerate(secrets["pupils"])
    }
    for fmt in ALL_FORMATS.split(","):
        frame = read_back(tmp_path / f"export_study_export.{fmt}")
        assert len(frame) == 2 * N, fmt
        assert set(frame["wave"]) == {"baseline", "followup_1"}
        # Baseline and follow-up pair up on the pseudonym.
        assert frame.groupby("pseudonym")["wave"].nunique().eq(2).all(), fmt
        for row in frame.to_dict("records"):
            i = by_pseudonym[row["pseudonym"]]
            for name, value in expected_row(i).items():
                assert same(value, row[name]), (fmt, i, name, value, row[name])
            assert row["comment"] == f"Comment number {i} & <more>", fmt
            assert row["status"] == ("partial" if i == 5 else "complete")
            assert row["started"] == (
                "2026-autumn" if row["wave"] == "baseline" else "2027-summer"
            ), fmt
            assert row["school"] in ("S01", "S02", "suppressed")
            assert row["class"] in ("S01-C01", "S02-C01", "suppressed")
            for quasi in ("year_group", "gender"):
                assert row[quasi] == -97 or row[quasi] in (1, 2, 3, 4, 5), (fmt, quasi)
    assert outcome.record.row_count == 2 * N


def test_labels_survive_in_spss_stata_excel_and_parquet(app, study_db, tmp_path):
    options = make_options(formats=ALL_FORMATS, k=2, language="cy")
    export_study("export_study", options, tmp_path)
    base = tmp_path / "export_study_export"
    for path, reader in (
        (f"{base}.sav", pyreadstat.read_sav),
        (f"{base}.dta", pyreadstat.read_dta),
    ):
        _, meta = reader(path, user_missing=True)
        labels = meta.column_names_to_labels
        assert labels["conf_1"] == "Rwy'n dda am bethau."
        assert labels["feel_happy"] == "Sut wyt ti'n teimlo?: Hapus"
        assert labels["instruments_2"] == "Pa offerynnau?: Soddgrwth"
        values = {
            float(k) if not isinstance(k, str) else k: v
            for k, v in meta.variable_value_labels["conf_1"].items()
        }
        assert values[1.0] == "Na" and values[4.0] == "Ydw, llawer"
        assert meta.variable_value_labels["gender"][1] == "Merch"
    _, sav = pyreadstat.read_sav(f"{base}.sav", user_missing=True)
    assert {"lo": -99.0, "hi": -99.0} in sav.missing_ranges["conf_3"]
    assert sav.variable_value_labels["conf_3"][-99.0] == "prefer not to say"
    assert sav.variable_measure["conf_1"] == "ordinal"
    _, dta = pyreadstat.read_dta(f"{base}.dta", user_missing=True)
    assert dta.variable_value_labels["conf_3"]["a"] == "prefer not to say"
    assert dta.variable_value_labels["instruments_1"]["b"] == "not shown (skipped by routing)"
    codebook = pd.read_excel(f"{base}.xlsx", sheet_name="codebook").set_index("name")
    assert codebook.loc["conf_3", "reverse"] == "confidence"
    assert codebook.loc["conf_3", "text_en"] == "I often give up."
    assert codebook.loc["year_group", "identifying"] == "quasi"
    assert "alpha" in pd.read_excel(f"{base}.xlsx", sheet_name="constructs").columns
    schema = pq.read_schema(f"{base}.parquet")
    assert schema.field("conf_1").metadata[b"label"].decode() == "Rwy'n dda am bethau."


def _all_bytes(folder: Path) -> list[tuple[str, bytes]]:
    """Every file, and every member of every zip (xlsx included), decompressed; parquet also
    as the text of all its values and metadata (its pages are compressed)."""
    out = []
    for path in sorted(folder.iterdir()):
        data = path.read_bytes()
        out.append((path.name, data))
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    inner = archive.read(member)
                    out.append((f"{path.name}:{member}", inner))
                    if zipfile.is_zipfile(io.BytesIO(inner)):
                        with zipfile.ZipFile(io.BytesIO(inner)) as nested:
                            out += [(f"{member}:{m}", nested.read(m)) for m in nested.namelist()]
                    if member.endswith(".parquet"):
                        table = pq.read_table(io.BytesIO(inner))
                        out.append((member + "(values)", table.to_pandas().to_csv().encode()))
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            out.append((path.name + "(values)", table.to_pandas().to_csv().encode()))
            out.append((path.name + "(schema)", str(table.schema.metadata).encode()))
    return out


@pytest.mark.parametrize("resolution", ["term", "week", "date"])
def test_no_code_name_id_or_exact_time_in_any_byte(app, study_db, tmp_path, resolution):
    _, secrets = study_db
    options = make_options(
        formats=ALL_FORMATS, k=2, zip=True, include_free_text=True, long_format=True,
        time_resolution=resolution,
    )  # fmt: skip
    export_study("export_study", options, tmp_path)
    forbidden = {
        "access code": secrets["codes"],
        "code hash": secrets["hashes"],
        "school or class name": secrets["names"],
        "participant id or label": secrets["participants"],
        "exact time": secrets["times"],
    }
    files = _all_bytes(tmp_path)
    assert len(files) > 20
    for name, data in files:
        for what, values in forbidden.items():
            for value in values:
                for encoding in ("utf-8", "utf-16-le"):
                    assert value.encode(encoding) not in data, f"{what} {value!r} in {name}"


def test_export_is_logged_with_checksum_and_audited(app, study_db, tmp_path):
    options = make_options(formats="csv,sav", k=2, zip=True)
    outcome = export_study("export_study", options, tmp_path)
    record = db.session.execute(db.select(ExportRecord)).scalar_one()
    zipped = tmp_path / "export_study_export.zip"
    assert record.filename == zipped.name
    assert record.sha256 == hashlib.sha256(zipped.read_bytes()).hexdigest()
    assert record.row_count == 2 * N
    assert record.options["formats"] == ["csv", "sav"]
    assert (
        record.options["files"]["export_study_export.csv"]
        == hashlib.sha256((tmp_path / "export_study_export.csv").read_bytes()).hexdigest()
    )
    event = db.session.execute(db.select(AuditEvent).filter_by(action="export")).scalar_one()
    assert event.target == "export_study" and event.detail["rows"] == 2 * N
    with zipfile.ZipFile(zipped) as archive:
        assert set(archive.namelist()) == {
            "export_study_export.csv", "export_study_export.sav", "codebook.html",
            "codebook.csv", "constructs.csv", "datapackage.json",
        }  # fmt: skip
    assert outcome.download == zipped


def test_wave_and_arm_selection(app, study_db, tmp_path):
    options = make_options(formats="csv", k=2, waves="followup_1", arms="comparison")
    outcome = export_study("export_study", options, tmp_path)
    frame = pd.read_csv(tmp_path / "export_study_export.csv")
    assert set(frame["wave"]) == {"followup_1"} and set(frame["arm"]) == {"comparison"}
    assert outcome.record.row_count == N // 2


def test_two_queries_whatever_the_number_of_responses(app, study_db, monkeypatch):
    import surveyapp.export_query as export_query

    study, _ = study_db
    db.session.refresh(study)  # loaded now, so only the export's own statements are counted
    statements = []

    def count(*args, **kwargs):
        statements.append(args[2])

    class CountingCursor:
        """The real DBAPI cursor, with every statement it runs written down."""

        def __init__(self, cursor):
            self._cursor = cursor

        def execute(self, sql, params=()):
            statements.append(sql)
            return self._cursor.execute(sql, params)

        def __getattr__(self, name):
            return getattr(self._cursor, name)

    real_cursor = export_query.raw_cursor
    monkeypatch.setattr(export_query, "raw_cursor", lambda c: CountingCursor(real_cursor(c)))
    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        responses, answers = load_frames(study)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 2
    assert len(responses) == 2 * N and len(answers) > 10 * N
    selected = " ".join(statements).lower()
    for never in ("code_hash", "school.name", "school_class.name", "username", "label"):
        assert never not in selected


def test_streamed_chunks_of_any_size_give_the_same_frames(app, study_db, monkeypatch, tmp_path):
    import surveyapp.export_query as export_query

    study, _ = study_db
    responses, answers = load_frames(study)
    monkeypatch.setattr(export_query, "CHUNK_ROWS", 7)
    small_responses, small_answers = load_frames(study)
    pd.testing.assert_frame_equal(small_responses, responses)
    pd.testing.assert_frame_equal(small_answers, answers)
    assert answers["number"].notna().sum() > 10 * N  # codes arrive as a float column
    lists = answers.loc[answers["question_id"] == "instruments", "value"]
    assert lists.map(lambda v: isinstance(v, list)).all()
    # The streaming options were for those statements only: the session writes as usual.
    export_study("export_study", make_options(formats="csv", k=2), tmp_path)
    assert db.session.execute(db.select(ExportRecord)).scalar_one().row_count == 2 * N


def test_bad_requests_are_refused_with_a_reason(app, study_db, tmp_path):
    with pytest.raises(ExportError, match="unknown study"):
        export_study("nope", make_options(formats="csv"), tmp_path)
    with pytest.raises(ExportError, match="unknown wave"):
        export_study("export_study", make_options(formats="csv", waves="wave_9"), tmp_path)
    with pytest.raises(ExportOptionsError, match="unknown format"):
        make_options(formats="csv,pdf")


def test_policy_from_the_study_file_sets_the_floor_for_k(app):
    from surveyapp.study_sync import ensure_study

    design = get_catalog().study
    study = ensure_study(design)
    assert options_for(study).k == design.anonymisation.k
    assert options_for(study, k=design.anonymisation.k + 3).k == design.anonymisation.k + 3
    with pytest.raises(ExportOptionsError, match="may raise k, not lower it"):
        options_for(study, k=design.anonymisation.k - 1)
