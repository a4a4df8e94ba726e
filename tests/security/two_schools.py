"""Two schools, every role, and something of each kind in each school. No tests here.

School A (``Alpha Primary``) belongs to ``teacher.a``; school B (``Zeta Academy``, class
``ZZ9``, pupils ``ZZ9-01``...) to ``teacher.b``. Each school has classes, participants with
cards, a completed response with an answer, and a submitted provision return. School B's
words are distinctive so a page can be searched for them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from surveyapp import provision
from surveyapp.admin import schools as school_svc
from surveyapp.admin.accounts import create_user
from surveyapp.catalog import get_catalog
from surveyapp.extensions import db
from surveyapp.models import (
    Answer,
    ProvisionReturn,
    Response,
    School,
    SchoolClass,
    Study,
    User,
    Wave,
    utcnow,
)
from surveyapp.participants import issue_cards
from surveyapp.study_sync import sync_study

PASSWORD = "correct horse battery staple"
B_WORDS = ("Zeta Academy", "ZZ9")
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class TwoSchools:
    study: Study
    baseline: Wave
    school_a: School
    school_b: School
    class_a: SchoolClass
    class_a2: SchoolClass
    class_b: SchoolClass
    participant_a: str
    participant_b: str
    return_a: ProvisionReturn
    return_b: ProvisionReturn
    term: str
    users: dict[str, User]


def _response(participant_id: str, wave: Wave) -> Response:
    q = get_catalog().questionnaire(wave.questionnaire_id)
    question = next(x for x in q.questions() if x.type == "likert")
    code = q.choices_for(question)[0].code
    now = utcnow()
    response = Response(
        participant_id=participant_id,
        wave_id=wave.id,
        questionnaire_id=q.id,
        questionnaire_version=q.version,
        pages_total=1,
        pages_done=1,
        completed_at=now,
    )
    db.session.add(response)
    db.session.flush()
    db.session.add(Answer(response_id=response.id, question_id=question.id, value=code))
    return response


def build_two_schools() -> TwoSchools:
    design = get_catalog().study
    study = sync_study(design)
    baseline = next(w for w in study.waves if w.key == "baseline")
    baseline.state = "open"
    a = school_svc.create_school(study, "Alpha Primary", "in_harmony", None)
    b = school_svc.create_school(study, "Zeta Academy", "comparison", None)
    class_a = school_svc.create_class(a, "5B", None, None)
    class_a2 = school_svc.create_class(a, "6C", None, None)
    class_b = school_svc.create_class(b, "ZZ9", None, None)
    users = {
        "teacher": create_user("teacher.a", "teacher", PASSWORD, [a], None),
        "teacher_b": create_user("teacher.b", "teacher", PASSWORD, [b], None),
        "researcher": create_user("researcher", "researcher", PASSWORD, [], None),
        "admin": create_user("admin", "admin", PASSWORD, [], None),
    }
    cards_a = issue_cards(class_a, baseline, 3, None)
    cards_b = issue_cards(class_b, baseline, 3, None)
    _response(cards_a[0].participant_id, baseline)
    _response(cards_b[0].participant_id, baseline)
    questionnaire = provision.provision_questionnaire(design)
    term = provision.study_terms(design)[0]
    return_a = provision.save_return(a, term, questionnaire, {}, users["teacher"], submit=True)
    return_b = provision.save_return(b, term, questionnaire, {}, users["teacher_b"], submit=True)
    db.session.commit()
    return TwoSchools(
        study=study,
        baseline=baseline,
        school_a=a,
        school_b=b,
        class_a=class_a,
        class_a2=class_a2,
        class_b=class_b,
        participant_a=cards_a[1].participant_id,
        participant_b=cards_b[1].participant_id,
        return_a=return_a,
        return_b=return_b,
        term=term,
        users=users,
    )


def csrf_token(client, url: str) -> str:
    page = client.get(url)
    match = _CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url} ({page.status_code})"
    return match.group(1)


def login(client, username: str) -> None:
    token = csrf_token(client, "/auth/login")
    reply = client.post(
        "/auth/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert reply.status_code == 302, f"login of {username} answered {reply.status_code}"


def database_state() -> dict[str, list]:
    """Every row of every table, in a stable order: to show that a request changed nothing."""
    db.session.expire_all()
    state = {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(table.select()).all()
        state[table.name] = sorted(tuple(map(repr, row)) for row in rows)
    return state
