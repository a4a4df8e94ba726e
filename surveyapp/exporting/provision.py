"""Provision and participation returns next to the pupil data.

Schools return, once a term, how much In Harmony provision they ran (the study's
school-audience questionnaire). An export carries the *submitted* returns as a table of its
own, one row per school and term: ``school`` (its export code: never a name), ``term``,
``questionnaire_version`` and one column per question, named and coded exactly as pupil
answers are (multi-choice as one 0/1 column per option, missing codes, value labels). Free
text, such as comments marked ``identifying: direct``, only when the export asks for free
text. The school code is the same as in the pupil data, so the two can be joined.

Input contract: ``returns`` has ``return_id``, ``school``, ``term`` and
``questionnaire_version``; ``answers`` has ``return_id``, ``question_id`` and ``value``
(the storage contract), optionally ``declined``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from ..questionnaire.model import Questionnaire
from .frames import answer_matrix, mark_routing
from .missing import MISSING_LABELS
from .variables import META, Variable, question_variables

NAME = "provision"
META_COLUMNS = ("school", "term", "questionnaire_version")


@dataclass
class ProvisionInput:
    returns: pd.DataFrame
    answers: pd.DataFrame
    questionnaire: Questionnaire
    # Returns saved but not submitted: left out (they may still change), and counted.
    drafts: int = 0


@dataclass
class ProvisionTable:
    frame: pd.DataFrame
    variables: list[Variable]
    drafts: int = 0
    notes: list[str] = field(default_factory=list)


def provision_variables(
    questionnaire: Questionnaire, languages: Sequence[str], include_free_text: bool
) -> list[Variable]:
    def meta(name: str, label: str, transform: str = "") -> Variable:
        return Variable(
            name=name,
            kind=META,
            label=dict.fromkeys(languages, label),
            storage="string",
            transforms=[transform] if transform else [],
        )

    questions = question_variables(questionnaire, languages, include_free_text)
    for var in questions:
        if var.has_missing_codes:
            var.transforms.append(
                "missing codes: "
                + "; ".join(f"{code} = {label}" for code, label in MISSING_LABELS.items())
            )
    return [
        meta("school", "School (code)", "school name replaced by its code (as in the pupil data)"),
        meta("term", "School term of the return (e.g. 2026-autumn)"),
        meta("questionnaire_version", "Provision questionnaire version (content hash)"),
        *questions,
    ]


def build_provision(
    provision: ProvisionInput, languages: Sequence[str], include_free_text: bool
) -> ProvisionTable:
    """The provision table, ordered by school and term."""
    returns = provision.returns.sort_values(["school", "term"], kind="stable")
    returns = returns.reset_index(drop=True)
    variables = provision_variables(provision.questionnaire, languages, include_free_text)
    answer_vars = [v for v in variables if v.is_answer]
    answers = provision.answers.rename(columns={"return_id": "response_id"})
    if "declined" not in answers:
        answers = answers.assign(declined=False)
    ids = returns["return_id"].reset_index(drop=True)
    items = answer_matrix(ids, answers, answer_vars)
    mark_routing(items, ids, answers, answer_vars, [provision.questionnaire])
    meta = returns[list(META_COLUMNS)].astype(object)
    frame = pd.concat([meta, items], axis=1)
    notes = [
        f"{len(frame)} submitted provision return(s), one row per school and term; "
        "schools appear by the same code as in the pupil data.",
    ]
    if provision.drafts:
        notes.append(
            f"{provision.drafts} return(s) saved but not submitted are left out (they may "
            "still change)."
        )
    if not include_free_text:
        notes.append("Free-text and directly identifying answers are left out.")
    return ProvisionTable(frame=frame, variables=variables, drafts=provision.drafts, notes=notes)
