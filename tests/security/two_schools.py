"""Two schools, every role, and something of each kind in each school. No tests here.

The schools, accounts and cards of :func:`tests.builders.staff_world`: school A
(``Alpha Primary``) belongs to ``teacher.a``; school B (``Zeta Academy``, class ``ZZ9``,
pupils ``ZZ9-01``...) to ``teacher.b``. Added here: each school has a completed response
with an answer, and a submitted provision return. School B's words are distinctive so a
page can be searched for them.
"""

from __future__ import annotations

from dataclasses import dataclass

from surveyapp import provision
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
from tests import builders
from tests.builders import add_response

B_WORDS = ("Zeta Academy", "ZZ9")


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
    """A completed response with one likert answer."""
    q = get_catalog().questionnaire(wave.questionnaire_id)
    question = next(x for x in q.questions() if x.type == "likert")
    code = q.choices_for(question)[0].code
    response = add_response(participant_id, wave, completed_at=utcnow(), version=q.version, pages=1)
    db.session.add(Answer(response_id=response.id, question_id=question.id, value=code))
    return response


def build_two_schools() -> TwoSchools:
    world = builders.staff_world()
    _response(world.cards_a[0].participant_id, world.baseline)
    _response(world.cards_b[0].participant_id, world.baseline)
    design = get_catalog().study
    questionnaire = provision.provision_questionnaire(design)
    term = provision.study_terms(design)[0]
    return_a = provision.save_return(
        world.school_a, term, questionnaire, {}, world.teacher_a, submit=True
    )
    return_b = provision.save_return(
        world.school_b, term, questionnaire, {}, world.teacher_b, submit=True
    )
    db.session.commit()
    return TwoSchools(
        study=world.study,
        baseline=world.baseline,
        school_a=world.school_a,
        school_b=world.school_b,
        class_a=world.class_a,
        class_a2=world.class_a2,
        class_b=world.class_b,
        participant_a=world.cards_a[1].participant_id,
        participant_b=world.cards_b[1].participant_id,
        return_a=return_a,
        return_b=return_b,
        term=term,
        users={
            "teacher": world.teacher_a,
            "teacher_b": world.teacher_b,
            "researcher": world.researcher,
            "admin": world.admin,
        },
    )


def login(client, username: str) -> None:
    """Log in through the form; the login must succeed."""
    reply = builders.login(client, username)
    assert reply.status_code == 302, f"login of {username} answered {reply.status_code}"


def database_state() -> dict[str, list]:
    """Every row of every table, in a stable order: to show that a request changed nothing."""
    db.session.expire_all()
    state = {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(table.select()).all()
        state[table.name] = sorted(tuple(map(repr, row)) for row in rows)
    return state
