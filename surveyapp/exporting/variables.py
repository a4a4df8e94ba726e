"""The variables of an export, derived from the questionnaire model.

One :class:`Variable` per export column. Questions map to columns by the storage contract:
a question's id is its column, a grid row's id is its column, a multi-choice question gives
one 0/1 column per option named ``<id>_<code>``, and ``info`` items give none. The same list
drives the frame, every writer's labels and the codebook, so they cannot disagree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ..questionnaire.columns import MAX_COLUMN_NAME, META_COLUMNS, option_column  # noqa: F401 - re-exported
from ..questionnaire.model import (
    GridQuestion,
    InfoItem,
    LikertQuestion,
    MultiChoiceQuestion,
    NumberQuestion,
    Questionnaire,
    SingleChoiceQuestion,
    Text,
    TextQuestion,
    YesNoQuestion,
    localise,
)
from .missing import MISSING_LABELS

# Kinds of column.
META = "meta"
CODE = "code"  # one integer code (likert, single choice, yes/no, grid row)
OPTION = "option"  # one option of a multi-choice question: 1 selected, 0 not
NUMBER = "number"
TEXT = "text"
SCORE = "score"

ANSWER_KINDS = (CODE, OPTION, NUMBER, TEXT)

# The meta columns, the 32-character name limit and option column names are shared with the
# questionnaire loader, which reserves them, so a questionnaire that loads always exports.
MAX_NAME = MAX_COLUMN_NAME
# Words SPSS or Stata refuse as variable names.
RESERVED_NAMES = {
    "all", "and", "by", "eq", "ge", "gt", "le", "lt", "ne", "not", "or", "to", "with",
    "_all", "_b", "byte", "_coef", "_cons", "double", "float", "if", "in", "int", "long",
    "_n", "_pi", "_pred", "_rc", "_skip", "strl", "using",
}  # fmt: skip
_NAME_OK = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class ExportDesignError(ValueError):
    """The questionnaires cannot be turned into export columns (clashing or invalid names)."""


@dataclass
class Variable:
    name: str
    kind: str
    label: dict[str, str]
    text: dict[str, str] = field(default_factory=dict)
    question_type: str = ""
    question_id: str | None = None
    # The key of the answer row this column is read from (question id or grid row id).
    answer_key: str | None = None
    option_code: int | None = None
    value_labels: dict[int, dict[str, str]] = field(default_factory=dict)
    constructs: list[str] = field(default_factory=list)
    reverse_in: list[str] = field(default_factory=list)
    identifying: str | None = None
    measure: str = "nominal"  # nominal, ordinal, scale (SPSS measurement level)
    storage: str = "integer"  # integer, number, string
    show_if: str | None = None
    # Notes on how the export changed the values (anonymisation, derivation).
    transforms: list[str] = field(default_factory=list)

    def label_in(self, language: str) -> str:
        return localise(self.label, language) if self.label else self.name

    def value_labels_in(self, language: str) -> dict[int, str]:
        return {code: localise(text, language) for code, text in self.value_labels.items()}

    @property
    def is_answer(self) -> bool:
        return self.kind in ANSWER_KINDS

    @property
    def has_missing_codes(self) -> bool:
        """Numeric answer columns carry the negative missing codes."""
        return self.kind in (CODE, OPTION, NUMBER)


def _texts(text: Text | None, languages: Sequence[str], default: str) -> dict[str, str]:
    return {lang: localise(text, lang, default) for lang in languages} if text else {}


def _join(a: dict[str, str], b: dict[str, str], sep: str) -> dict[str, str]:
    return {lang: f"{a.get(lang, '')}{sep}{b.get(lang, '')}" for lang in a.keys() | b.keys()}


def languages_of(questionnaires: Iterable[Questionnaire]) -> list[str]:
    out: list[str] = []
    for q in questionnaires:
        for lang in q.languages:
            if lang not in out:
                out.append(lang)
    return out


def question_variables(
    questionnaire: Questionnaire, languages: Sequence[str], include_free_text: bool
) -> list[Variable]:
    """The answer columns of one questionnaire, in questionnaire order."""
    default = questionnaire.default_language
    in_constructs: dict[str, list[str]] = {}
    reversed_in: dict[str, list[str]] = {}
    for name, construct in questionnaire.constructs.items():
        for item in construct.items:
            in_constructs.setdefault(item, []).append(name)
            if item in construct.reverse:
                reversed_in.setdefault(item, []).append(name)

    def labels(choices) -> dict[int, dict[str, str]]:
        return {c.code: _texts(c.label, languages, default) for c in choices}

    out: list[Variable] = []
    for q in questionnaire.questions():
        if isinstance(q, InfoItem):
            continue
        if (isinstance(q, TextQuestion) or q.identifying == "direct") and not include_free_text:
            continue
        common = {
            "text": _texts(q.text, languages, default),
            "question_type": q.type,
            "question_id": q.id,
            "identifying": q.identifying,
            "show_if": q.show_if,
        }
        label = _texts(q.label or q.text, languages, default)
        if isinstance(q, GridQuestion):
            scale_labels = labels(questionnaire.scales[q.scale].options)
            for row in q.rows:
                out.append(
                    Variable(
                        name=row.id,
                        kind=CODE,
                        label=_join(label, _texts(row.label or row.text, languages, default), ": "),
                        answer_key=row.id,
                        value_labels=scale_labels,
                        constructs=in_constructs.get(row.id, []),
                        reverse_in=reversed_in.get(row.id, []),
                        measure="ordinal",
                        **{
                            **common,
                            "text": _join(
                                common["text"], _texts(row.text, languages, default), " — "
                            ),
                        },  # fmt: skip
                    )
                )
        elif isinstance(q, MultiChoiceQuestion):
            for choice in q.choices:
                out.append(
                    Variable(
                        name=option_column(q.id, choice.code),
                        kind=OPTION,
                        label=_join(label, _texts(choice.label, languages, default), ": "),
                        answer_key=q.id,
                        option_code=choice.code,
                        value_labels={
                            1: dict.fromkeys(languages, "selected"),
                            0: dict.fromkeys(languages, "not selected"),
                        },
                        **common,
                    )
                )
        elif isinstance(q, (LikertQuestion, SingleChoiceQuestion, YesNoQuestion)):
            out.append(
                Variable(
                    name=q.id,
                    kind=CODE,
                    label=label,
                    answer_key=q.id,
                    value_labels=labels(questionnaire.choices_for(q)),
                    constructs=in_constructs.get(q.id, []),
                    reverse_in=reversed_in.get(q.id, []),
                    measure="ordinal" if isinstance(q, LikertQuestion) else "nominal",
                    **common,
                )
            )
        elif isinstance(q, NumberQuestion):
            out.append(
                Variable(
                    name=q.id,
                    kind=NUMBER,
                    label=label,
                    answer_key=q.id,
                    measure="scale",
                    storage="integer" if q.integer else "number",
                    **common,
                )
            )
        elif isinstance(q, TextQuestion):
            out.append(
                Variable(
                    name=q.id,
                    kind=TEXT,
                    label=label,
                    answer_key=q.id,
                    storage="string",
                    transforms=[
                        "free text: may identify a pupil; included at the researcher's request",
                        "in CSV, text starting with = + - @ gets a leading ' so spreadsheets "
                        "do not run it as a formula",
                    ],
                    **common,
                )
            )
    return out


def score_variables(questionnaire: Questionnaire, languages: Sequence[str]) -> list[Variable]:
    out = []
    for name, construct in questionnaire.constructs.items():
        items = ", ".join(
            f"{item} (reversed)" if item in construct.reverse else item for item in construct.items
        )
        needed = construct.min_answered or len(construct.items)
        rule = (
            f"{construct.score} of items {items}; reverse items scored (min + max) - code; "
            f"missing unless at least {needed} of {len(construct.items)} items answered"
        )
        if construct.score == "sum":
            rule += "; a sum with skipped items is prorated (mean x number of items)"
        out.append(
            Variable(
                name=f"{name}_score",
                kind=SCORE,
                label=_texts(construct.label, languages, questionnaire.default_language),
                question_type="score",
                constructs=[name],
                measure="scale",
                storage="number",
                transforms=[f"derived: {rule}"],
            )
        )
    return out


def meta_variables(languages: Sequence[str]) -> list[Variable]:
    def v(name: str, label: str, storage: str = "string", measure: str = "nominal") -> Variable:
        return Variable(
            name=name,
            kind=META,
            label=dict.fromkeys(languages, label),
            storage=storage,
            measure=measure,
        )

    return [
        v("pseudonym", "Participant pseudonym"),
        v("arm", "Study arm"),
        v("wave", "Wave"),
        v("school", "School (code)"),
        v("class", "Class (code)"),
        v("questionnaire_version", "Questionnaire version (content hash)"),
        v("language", "Language the questionnaire was answered in"),
        v("status", "Response status (complete or partial)"),
        v("started", "Started (coarsened)"),
        v("completed", "Completed (coarsened)"),
        v("duration_min", "Minutes from start to completion", "integer", "scale"),
    ]


def check_name(name: str) -> str | None:
    """Why ``name`` cannot be a column in every format, or None."""
    if not _NAME_OK.match(name):
        return "must start with a letter and hold only letters, digits and underscores"
    if len(name) > MAX_NAME:
        return f"is longer than {MAX_NAME} characters (Stata's limit)"
    if name.lower() in RESERVED_NAMES:
        return "is a reserved word in SPSS or Stata"
    return None


def export_variables(
    questionnaires: Sequence[Questionnaire], include_free_text: bool
) -> list[Variable]:
    """Meta columns, then every questionnaire's answer columns (first definition wins), then
    the construct scores. Raises ExportDesignError on names no format can hold."""
    languages = languages_of(questionnaires) or ["en"]
    variables = meta_variables(languages)
    seen = {v.name: "an export column" for v in variables}
    answers: list[Variable] = []
    scores: list[Variable] = []
    for questionnaire in questionnaires:
        for var in question_variables(questionnaire, languages, include_free_text):
            if var.name in seen:
                if seen[var.name] == f"question {var.question_id}":
                    continue  # the same question in another questionnaire
                raise ExportDesignError(
                    f"column '{var.name}' of question '{var.question_id}' clashes with "
                    f"{seen[var.name]}; rename the question"
                )
            seen[var.name] = f"question {var.question_id}"
            answers.append(var)
        for var in score_variables(questionnaire, languages):
            if var.name in seen:
                if seen[var.name] == "a construct score":
                    continue
                raise ExportDesignError(
                    f"score column '{var.name}' clashes with {seen[var.name]}; "
                    "rename the construct or the question"
                )
            seen[var.name] = "a construct score"
            scores.append(var)
    for var in answers + scores:
        problem = check_name(var.name)
        if problem:
            raise ExportDesignError(
                f"column '{var.name}' {problem}; rename it in the questionnaire"
            )
    for var in answers:
        if var.has_missing_codes:
            var.transforms.append(
                "missing codes: "
                + "; ".join(f"{code} = {label}" for code, label in MISSING_LABELS.items())
            )
    return variables + answers + scores
