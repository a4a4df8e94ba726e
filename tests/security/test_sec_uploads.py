"""Uploads: the CSV import is size-limited and parsed safely, filenames are never trusted; the
YAML loader builds no Python objects. Every refusal is a clear message, never a 500."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa

from surveyapp.admin.accounts import create_user
from surveyapp.admin.importing import MAX_BYTES, MAX_LINES
from surveyapp.extensions import db
from surveyapp.models import School, SchoolClass
from surveyapp.questionnaire.loader import load_questionnaire
from surveyapp.yamlsource import SourceError
from tests.builders import csrf_token, login, shipped_study

PASSWORD = "an admin passphrase 9"
GOOD = b"school,arm,class,year_group\nHillside Primary,in_harmony,5B,5\n"


@pytest.fixture
def admin_client(app):
    shipped_study()
    create_user("upload.admin", "admin", PASSWORD, [], None)
    db.session.commit()
    client = app.test_client()
    login(client, "upload.admin", PASSWORD)
    return client


def _upload(client, content: bytes, filename: str = "schools.csv"):
    token = csrf_token(client, "/admin/import")
    return client.post(
        "/admin/import",
        data={"csrf_token": token, "file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def _schools() -> int:
    db.session.expire_all()
    return db.session.execute(sa.select(sa.func.count()).select_from(School)).scalar_one()


def test_a_good_file_imports(admin_client):
    reply = _upload(admin_client, GOOD)
    assert reply.status_code == 200
    assert _schools() == 1


def test_a_body_over_max_content_length_gets_the_friendly_413(app, admin_client):
    limit = app.config["MAX_CONTENT_LENGTH"]
    reply = _upload(admin_client, GOOD + b"x" * limit)
    assert reply.status_code == 413
    assert "too much to send at once" in reply.get_data(as_text=True)
    assert _schools() == 0


def test_a_file_over_the_import_limit_is_refused_with_a_message(app, admin_client):
    assert app.config["MAX_CONTENT_LENGTH"] > MAX_BYTES
    padding = b"".join(
        b"School %d,in_harmony,5B,5\n" % n for n in range(MAX_BYTES // 20)
    )  # valid lines, just too many bytes
    reply = _upload(admin_client, GOOD + padding)
    assert reply.status_code == 200
    assert "larger than 1000 kB" in reply.get_data(as_text=True)
    assert _schools() == 0


HOSTILE_FILES = {
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "This is not a CSV text file"),
    "latin-1": ("school,class\nÉcole Sainte-Thérèse,5B\n".encode("latin-1"), "not UTF-8"),
    "empty": (b"", "empty"),
    "header only": (b"school,class\n", "no lines to import"),
    "unknown column": (b"school,class,name_of_pupil\nA,5B,Jo\n", "Unknown column"),
    "unbalanced quote": (b'school,class\n"Hill,5B\nB,6C\n', "cannot be read as CSV"),
    "huge field": (b"school,class\n" + b"A" * 200_000 + b",5B\n", "cannot be read as CSV"),
    "long field": (b"school,class\n" + b"A" * 301 + b",5B\n", "longer than 300"),
    "too many lines": (
        b"school,arm,class\n" + b"".join(b"S%d,in_harmony,5B\n" % n for n in range(MAX_LINES + 1)),
        f"More than {MAX_LINES} lines",
    ),
    "bad class name": (b"school,arm,class\nA,in_harmony,<script>x</script>\n", "may contain only"),
    "wrong field count": (b"school,arm,class\nA,in_harmony\n", "but the header has 3"),
    "unknown arm": (b"school,arm,class\nA,nonsense,5B\n", "Unknown arm"),
    "NUL in text": (b"school,class\nA\x00B,5B\n", "This is not a CSV text file"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_FILES))
def test_hostile_csv_files_get_a_message_and_import_nothing(admin_client, case):
    content, message = HOSTILE_FILES[case]
    reply = _upload(admin_client, content)
    body = reply.get_data(as_text=True)
    assert reply.status_code == 200, case
    assert message in body, f"{case}: message missing"
    assert "<script>x</script>" not in body
    assert _schools() == 0


@pytest.mark.parametrize(
    "filename",
    [
        "../../../../tmp/owned.csv",
        "..\\..\\windows\\win.ini",
        "<script>alert(1)</script>.csv",
        "é" * 300 + ".csv",
        'a";name="csrf_token".csv',
        "\u202egnp.csv",  # right-to-left override
        ".csv",
        "schools.csv.exe",
    ],
)
def test_hostile_filenames_are_never_used(admin_client, filename, tmp_path):
    reply = _upload(admin_client, GOOD, filename)
    body = reply.get_data(as_text=True)
    assert reply.status_code == 200
    assert "<script>alert(1)" not in body
    assert not Path("/tmp/owned.csv").exists()
    # The content counts, not the name. (A quote in the name breaks the multipart header as
    # the test client writes it: the file part is then not seen, and the form says so.)
    assert _schools() == 1 or "Choose a CSV file" in body


def test_a_formula_in_a_school_name_is_stored_as_plain_text(admin_client):
    """Names are data: a leading '=' is kept as text and escaped in every page."""
    _upload(admin_client, b'school,arm,class\n=HYPERLINK("x"),in_harmony,5B\n')
    page = admin_client.get("/admin/schools").get_data(as_text=True)
    assert "=HYPERLINK(&#34;x&#34;)" in page or "=HYPERLINK(&quot;x&quot;)" in page
    db.session.expire_all()
    assert db.session.execute(sa.select(SchoolClass.name)).scalar_one() == "5B"


# --------------------------------------------------------------------------- YAML


def test_yaml_tags_never_build_python_objects(tmp_path):
    marker = tmp_path / "owned"
    text = (
        "id: !!python/object/apply:os.system ['touch " + str(marker) + "']\n"
        "title: {en: x}\nlanguages: [en]\ndefault_language: en\npages: []\n"
    )
    with pytest.raises(SourceError):
        load_questionnaire("evil.yaml", text=text)
    assert not marker.exists()


def test_yaml_alias_bomb_is_refused_quickly():
    """Nested aliases (a "billion laughs") must not be expanded into millions of nodes."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for n in range(1, 9):
        prev = f"*a{n - 1}"
        lines.append(f"a{n}: &a{n} [{', '.join([prev] * 9)}]")
    text = (
        "id: bomb\ntitle: {en: x}\nlanguages: [en]\ndefault_language: en\n"
        + "\n".join(lines)
        + "\npages: *a8\n"
    )
    with pytest.raises(SourceError, match="once aliases"):
        load_questionnaire("bomb.yaml", text=text)


def test_the_shipped_files_with_aliases_still_load():
    from surveyapp.config import PROJECT_ROOT

    provision = load_questionnaire(PROJECT_ROOT / "questionnaires" / "ih_provision.yaml")
    assert provision.id == "ih_provision"
