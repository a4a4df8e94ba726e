"""Card sheets: layout, CSP-safe markup, clear codes kept out of the database and logs, CLI."""

from __future__ import annotations

import logging
import re

import pytest
import sqlalchemy as sa

from surveyapp.codes import CodeState, resolve_code
from surveyapp.extensions import db
from tests.builders import login
from tests.web.test_auth_support import (  # noqa: F401 - world_fixture is a fixture
    codes_on_sheet,
    issue_sheet,
    world_fixture,
)


@pytest.fixture
def teacher(client, world):
    login(client, "teacher.a")
    return client


def test_a4_sheets_hold_ten_cards_each(teacher, world):
    html = issue_sheet(teacher, world, 12).get_data(as_text=True)
    sheets = html.split('<section class="sheet"')[1:]
    assert [s.count('<article class="card">') for s in sheets] == [10, 2]
    assert len(set(codes_on_sheet(html))) == 12
    assert "css/cards.css" in html


def test_sheet_markup_is_allowed_by_the_content_security_policy(teacher, world):
    response = issue_sheet(teacher, world, 3)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "style-src 'self'" in response.headers["Content-Security-Policy"]
    html = response.get_data(as_text=True)
    assert " style=" not in html and "<style" not in html
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None
    assert re.search(r"\son[a-z]+=", html) is None
    assert ' id="qr-path"' not in html  # no duplicate ids when cards repeat


def test_card_shows_grouped_code_class_number_wave_and_a_name_line(teacher, world):
    html = issue_sheet(teacher, world, 1).get_data(as_text=True)
    card = html.split('<article class="card">')[1].split("</article>")[0]
    (code,) = codes_on_sheet(card)
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", code)
    assert "Class 5B" in card and "Pupil 5B-04" in card and "Baseline" in card
    assert 'class="card-name">Name:' in card
    assert f"/s/{code.replace('-', '')}" in card


def test_clear_codes_reach_neither_the_database_nor_the_logs(app, teacher, world, caplog):
    caplog.set_level(logging.DEBUG)
    html = issue_sheet(teacher, world, 4).get_data(as_text=True)
    codes = [c.replace("-", "") for c in codes_on_sheet(html)]
    assert len(codes) == 4
    dump = []
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                dump.append(repr(tuple(row)))
    everything = "\n".join(dump)
    logs = "\n".join(r.getMessage() for r in caplog.records)
    for code in codes:
        assert code not in everything
        assert code[:4] + "-" + code[4:] not in everything
        assert code not in logs


def test_cli_issues_a_printable_sheet(app, world, tmp_path):
    out = tmp_path / "cards" / "5b.html"
    result = app.test_cli_runner().invoke(
        args=[
            "codes", "issue", "--school", "S01", "--class", "5B", "--wave", "baseline",
            "--count", "11", "--out", str(out),
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Issued 11 cards for S01 5B, baseline: 5B-04" in result.output
    html = out.read_text(encoding="utf-8")
    assert "<style>" in html and "@page" in html  # standalone: CSS inside the file
    codes = codes_on_sheet(html)
    assert len(codes) == 11
    assert html.count('<section class="sheet"') == 2
    assert all(resolve_code(c)[0] == CodeState.ISSUED for c in codes)
    assert not list(out.parent.glob("*.partial"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--school", "S09"], "unknown school 'S09' (known: S01, S02)"),
        (["--class", "9Z"], "S01 has no class '9Z' (its classes: 5B, 6C)"),
        (["--wave", "endline"], "Unknown wave 'endline'"),
        (["--wave", "followup_1"], "has not been opened yet"),
        (["--count", "0"], "0 is not in the range 1<=x<=100"),
    ],
)
def test_cli_explains_bad_input(app, world, tmp_path, args, message):
    base = {"--school": "S01", "--class": "5B", "--wave": "baseline", "--count": "2"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    out = tmp_path / "x.html"
    argv = ["codes", "issue", "--out", str(out)]
    for flag, value in base.items():
        argv += [flag, value]
    result = app.test_cli_runner().invoke(args=argv)
    assert result.exit_code != 0
    assert message in result.output
    assert not out.exists()
