"""Admin area and commands: users, schools, classes, CSV import, audit log."""

from __future__ import annotations

import io

import pytest

from surveyapp.admin.accounts import find_user
from surveyapp.extensions import db
from surveyapp.models import AuditEvent, School, SchoolClass, User
from surveyapp.passwords import verify_password
from tests.builders import PASSWORD, csrf_token, login, shipped_study
from tests.web.test_auth_support import (  # noqa: F401 - world_fixture is a fixture
    codes_on_sheet,
    issue_sheet,
    post,
    world_fixture,
)

GOOD_CSV = (
    "school,arm,class,year_group,stratum\n"
    "Hillside Primary,in_harmony,5B,5,north\n"
    "Hillside Primary,in_harmony,6A,6,north\n"
    "Riverside Academy,comparison,5R,5,south\n"
)


@pytest.fixture
def admin(client, world):
    assert login(client, "admin").status_code == 302
    return client


def _post(client, url, data=None, **kwargs):
    return post(client, url, data, token_from="/admin/", **kwargs)


def _count(model) -> int:
    return db.session.execute(db.select(db.func.count()).select_from(model)).scalar_one()


@pytest.mark.parametrize("username", ["teacher.a", "researcher"])
def test_only_admins_get_in(client, world, username):
    login(client, username)
    for url in ("/admin/", "/admin/users", "/admin/schools", "/admin/import", "/admin/audit"):
        assert client.get(url).status_code == 403, url
    response = post(client, "/admin/users/new", {"username": "x", "role": "admin"})
    assert response.status_code == 403
    assert find_user("x") is None


def test_admin_creates_a_teacher_for_a_school(admin, world):
    response = _post(
        admin,
        "/admin/users/new",
        {
            "username": "Ms.Jones",
            "role": "teacher",
            "schools": [str(world.school_b.id)],
            "password": "a long enough secret",
        },
        follow_redirects=True,
    )
    assert "Account &#39;ms.jones&#39; created." in response.get_data(as_text=True)
    user = find_user("ms.jones")
    assert user.role == "teacher" and [s.code for s in user.schools] == ["S02"]
    assert verify_password(user.password_hash, "a long enough secret")
    event = db.session.execute(db.select(AuditEvent).filter_by(action="user.create")).scalars()
    created = [e for e in event if e.target == "user:ms.jones"]
    assert created and created[0].user_id == world.admin.id
    assert created[0].detail["schools"] == ["S02"]
    assert "a long enough secret" not in repr(created[0].detail)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"username": "teacher.a"}, "The username &#39;teacher.a&#39; is taken."),
        ({"password": "short"}, "at least 10 characters"),
        ({"schools": []}, "A teacher needs at least one school."),
        ({"username": "bad name!"}, "A username has 2-120 characters"),
        ({"role": "superuser"}, "Not a valid choice"),
    ],
)
def test_bad_new_accounts_are_refused_with_a_reason(admin, world, data, message):
    form = {
        "username": "new.teacher",
        "role": "teacher",
        "schools": [str(world.school_a.id)],
        "password": "a long enough secret",
    }
    form.update(data)
    before = _count(User)
    response = _post(admin, "/admin/users/new", form)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _count(User) == before


def test_admin_edits_and_deactivates_a_user_who_is_logged_out(app, admin, world):
    teacher = app.test_client()
    login(teacher, "teacher.a")
    assert teacher.get("/teacher/").status_code == 200
    url = f"/admin/users/{world.teacher_a.id}"
    page = admin.get(url).get_data(as_text=True)
    assert 'name="active"' in page and "checked" in page
    response = _post(
        admin,
        url,
        {"role": "teacher", "schools": [str(world.school_a.id), str(world.school_b.id)]},
        follow_redirects=True,
    )
    assert response.status_code == 200
    user = db.session.get(User, world.teacher_a.id)
    assert not user.active and {s.code for s in user.schools} == {"S01", "S02"}
    assert teacher.get("/teacher/").status_code == 302  # logged out at once
    assert login(teacher, "teacher.a").status_code == 200  # and cannot log in


def test_the_last_admin_cannot_be_demoted(admin, world):
    response = _post(admin, f"/admin/users/{world.admin.id}", {"role": "teacher", "active": "y"})
    assert "last active admin" in response.get_data(as_text=True)
    assert db.session.get(User, world.admin.id).role == "admin"


def test_admin_sets_a_password(admin, world):
    url = f"/admin/users/{world.teacher_b.id}/password"
    mismatch = _post(admin, url, {"password": "new secret one", "repeat": "other"})
    assert "The two passwords are not the same." in mismatch.get_data(as_text=True)
    ok = _post(
        admin,
        url,
        {"password": "new secret one", "repeat": "new secret one"},
        follow_redirects=True,
    )
    assert "sessions are logged out" in ok.get_data(as_text=True)
    assert verify_password(db.session.get(User, world.teacher_b.id).password_hash, "new secret one")


def test_admin_adds_schools_with_codes_and_classes(admin, world):
    response = _post(
        admin,
        "/admin/schools",
        {"name": "  New   Primary ", "arm": "comparison"},
        follow_redirects=True,
    )
    assert "School S03 New Primary added." in response.get_data(as_text=True)
    school = db.session.execute(db.select(School).filter_by(code="S03")).scalar_one()
    assert school.arm == "comparison"
    for name in ("4A", "4B"):
        _post(
            admin,
            f"/admin/schools/{school.id}/classes",
            {"class-name": name, "class-year_group": "4"},
        )
    codes = [
        c.code
        for c in db.session.execute(db.select(SchoolClass).filter_by(school_id=school.id)).scalars()
    ]
    assert sorted(codes) == ["S03-C01", "S03-C02"]
    duplicate = _post(admin, f"/admin/schools/{school.id}/classes", {"class-name": "4a"})
    assert "already has a class called" in duplicate.get_data(as_text=True)
    bad_year = _post(
        admin, f"/admin/schools/{school.id}/classes", {"class-name": "4C", "class-year_group": "x"}
    )
    assert "is not a whole number" in bad_year.get_data(as_text=True)
    same_name = _post(admin, "/admin/schools", {"name": "new primary", "arm": "comparison"})
    assert "exists already" in same_name.get_data(as_text=True)
    bad_arm = _post(admin, "/admin/schools", {"name": "Odd School", "arm": "placebo"})
    assert "Not a valid choice" in bad_arm.get_data(as_text=True)


def test_a_schools_arm_is_fixed_once_pupils_have_cards(admin, world):
    response = _post(
        admin, f"/admin/schools/{world.school_a.id}", {"name": "Alpha Primary", "arm": "comparison"}
    )
    assert "cannot change" in response.get_data(as_text=True)
    assert db.session.get(School, world.school_a.id).arm == "in_harmony"


def _upload(client, content: bytes, name: str = "schools.csv"):
    return client.post(
        "/admin/import",
        data={
            "csrf_token": csrf_token(client, "/admin/import"),
            "file": (io.BytesIO(content), name),
        },
        content_type="multipart/form-data",
    )


def test_csv_import_creates_schools_and_classes_and_is_repeatable(admin, world):
    response = _upload(admin, GOOD_CSV.encode("utf-8-sig"))
    html = response.get_data(as_text=True)
    assert "Imported: 2 new schools, 3 new classes." in html
    hillside = db.session.execute(db.select(School).filter_by(name="Hillside Primary")).scalar_one()
    assert (hillside.code, hillside.arm, hillside.stratum) == ("S03", "in_harmony", "north")
    assert [(c.name, c.code, c.year_group) for c in hillside.classes] == [
        ("5B", "S03-C01", 5),
        ("6A", "S03-C02", 6),
    ]
    again = _upload(admin, GOOD_CSV.encode()).get_data(as_text=True)
    assert "Imported: 0 new schools, 0 new classes." in again
    assert "Already there (unchanged)" in again


def test_csv_import_reports_every_bad_line_and_imports_nothing(admin, world):
    bad = (
        "school,arm,class,year_group\n"
        "Hillside Primary,in_harmony,5B,5\n"
        "Hillside Primary,comparison,6A,6\n"  # arm differs from line 2
        "Riverside Academy,placebo,5R,5\n"  # unknown arm
        ",in_harmony,4A,4\n"  # no school name
        "Brook School,comparison,5B,twelve\n"  # year group not a number
        "Zeta Academy,in_harmony,Z1,5\n"  # exists with another arm
        "Hillside Primary,in_harmony,5B,5\n"  # the same class twice
    )
    schools, classes = _count(School), _count(SchoolClass)
    html = _upload(admin, bad.encode()).get_data(as_text=True)
    assert "Nothing was imported" in html
    for expected in (
        "line 3: &#39;Hillside Primary&#39; has arm &#39;comparison&#39; here but &#39;in_harmony&#39; on line 2.",
        "line 4: Unknown arm &#39;placebo&#39;",
        "line 5: The school needs a name.",
        "line 6: The year group &#39;twelve&#39; is not a whole number.",
        "line 7: &#39;Zeta Academy&#39; exists already with arm &#39;comparison&#39;",
        "line 8: The class &#39;5B&#39; of &#39;Hillside Primary&#39; is listed on line 2 already.",
    ):
        assert expected in html, expected
    assert (_count(School), _count(SchoolClass)) == (schools, classes)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"school,klass\nA,5B\n", "Unknown column &#39;klass&#39;"),
        (b"school,arm\nA,in_harmony\n", "The column &#39;class&#39; is missing."),
        (b"school;arm;class\nA;in_harmony;5B;extra\n", "line 2: 4 fields, but the header has 3."),
        ("school,arm,class\nÉcole,in_harmony,5B\n".encode("latin-1"), "is not UTF-8 text"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not a CSV text file"),
        (b"school,arm,class\n" + b"A,in_harmony,5B\n" * 80_000, "larger than 1000 kB"),
        (b"school,arm,class\n", "has a header but no lines"),
    ],
)
def test_csv_import_explains_unusable_files(admin, world, content, message):
    schools = _count(School)
    response = _upload(admin, content)
    assert response.status_code in (200, 413)
    if response.status_code == 200:
        assert message in response.get_data(as_text=True)
    assert _count(School) == schools


def test_semicolon_csv_from_a_european_spreadsheet(admin, world):
    content = b"School;Arm;Class;Year group\nHillside Primary;in_harmony;5B;5\n"
    assert "Imported: 1 new schools, 1 new classes." in _upload(admin, content).get_data(
        as_text=True
    )


def test_audit_log_shows_who_did_what_without_codes(admin, world):
    sheet = issue_sheet(admin, world, 2)
    codes = codes_on_sheet(sheet.get_data(as_text=True))
    html = admin.get("/admin/audit").get_data(as_text=True)
    assert "codes.issue" in html and "class:S01-C01" in html and "user.create" in html
    assert "admin" in html and "command line" in html  # fixture cards were issued without a user
    for code in codes:
        assert code not in html and code.replace("-", "") not in html
    filtered = admin.get("/admin/audit?action=user.").get_data(as_text=True)
    assert "user.create" in filtered and "codes.issue" not in filtered
    assert admin.get("/admin/audit?page=999").status_code == 200


# --- commands ------------------------------------------------------------------------------


def test_cli_creates_a_teacher_with_a_prompted_password(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "Mr.Khan",
            "--role",
            "teacher",
            "--school",
            "S01",
            "--school",
            "s02",
        ],
        input="a typed secret 1\na typed secret 1\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created teacher 'mr.khan' for S01, S02." in result.output
    user = find_user("mr.khan")
    assert verify_password(user.password_hash, "a typed secret 1")
    assert "a typed secret 1" not in result.output.split("Created")[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["x.y", "--role", "teacher", "--school", "S99", "--password", PASSWORD],
            "unknown school 'S99'",
        ),
        (
            ["x.y", "--role", "teacher", "--password", PASSWORD],
            "A teacher needs at least one school.",
        ),
        (["x.y", "--role", "admin", "--password", "short"], "at least 10 characters"),
        (["teacher.a", "--role", "admin", "--password", PASSWORD], "is taken"),
        (["x.y", "--role", "boss", "--password", PASSWORD], "'boss' is not one of"),
    ],
)
def test_cli_user_errors_are_clear(app, world, args, message):
    result = app.test_cli_runner().invoke(args=["users", "create", *args])
    assert result.exit_code != 0
    assert message in result.output


def test_cli_sets_a_password(app, world):
    result = app.test_cli_runner().invoke(
        args=["users", "set-password", "teacher.b", "--password", "another long one"]
    )
    assert result.exit_code == 0, result.output
    assert verify_password(find_user("teacher.b").password_hash, "another long one")


def test_cli_imports_schools_all_or_nothing(app, world, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text(GOOD_CSV, encoding="utf-8")
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["schools", "import", str(good), "--dry-run"])
    assert dry.exit_code == 0 and "Would import 3 lines: 2 new schools" in dry.output
    assert db.session.execute(db.select(School).filter_by(name="Hillside Primary")).first() is None
    result = runner.invoke(args=["schools", "import", str(good)])
    assert result.exit_code == 0, result.output
    assert "Imported 3 lines: 2 new schools, 3 new classes, 0 already there." in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("school,arm,class\nNew One,in_harmony,1A\nOther,nope,1B\n", encoding="utf-8")
    failed = runner.invoke(args=["schools", "import", str(bad)])
    assert failed.exit_code == 1
    assert f"{bad}: line 3: Unknown arm 'nope'" in failed.output
    assert db.session.execute(db.select(School).filter_by(name="New One")).first() is None
    listing = runner.invoke(args=["schools", "list"])
    assert "S03\tin_harmony\tHillside Primary\t5B (S03-C01), 6A (S03-C02)" in listing.output


def test_study_is_synced_for_a_fresh_database(app):
    # Schools can be added before anyone ran `flask study sync`.
    result = app.test_cli_runner().invoke(args=["schools", "list"])
    assert result.exit_code == 0, result.output
    assert shipped_study().key == "in_harmony"
