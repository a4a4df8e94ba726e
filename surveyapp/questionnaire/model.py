"""Typed questionnaire model.

A questionnaire file is parsed into these objects; every later step (forms, storage,
export, codebook) reads them, never the raw YAML. A question's ``id`` is its name
everywhere: form field, database row, export column, codebook entry.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

# A visible text: one string for every language, or a map language -> text.
Text = str | dict[str, str]

VARIABLE_NAME = r"^[A-Za-z][A-Za-z0-9_]{0,31}$"
VariableName = Annotated[str, Field(pattern=VARIABLE_NAME)]


def localise(text: Text | None, language: str, default_language: str = "en") -> str:
    """The text in ``language``, falling back to the default language, then to any."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    if language in text:
        return text[language]
    if default_language in text:
        return text[default_language]
    return next(iter(text.values()), "")


class Strict(BaseModel):
    # Unknown keys (typos such as ``requried``) are errors, not silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Choice(Strict):
    code: int
    label: Text
    image: str | None = None


class Scale(Strict):
    """A named, reusable answer scale (e.g. a 5-point agree scale shown as faces)."""

    display: Literal["faces", "stars", "words"] = "words"
    options: list[Choice] = Field(min_length=2)

    @property
    def codes(self) -> list[int]:
        return [o.code for o in self.options]


class QuestionBase(Strict):
    id: VariableName
    text: Text
    help: Text | None = None
    required: bool = False
    # Offer "I'd rather not say" (stored as declined, not as a missing answer).
    allow_decline: bool = True
    show_if: str | None = None
    # quasi: could identify a pupil in combination (year group, gender);
    # direct: could identify on its own (free text).
    identifying: Literal["quasi", "direct"] | None = None
    # Pre-recorded audio per language, played instead of speech synthesis.
    audio: dict[str, str] | None = None
    # Short label for variable lists and the codebook; defaults to the text.
    label: Text | None = None

    _condition: Any = PrivateAttr(default=None)

    @property
    def condition(self) -> Any:
        """The parsed ``show_if`` expression, set by the loader."""
        return self._condition


class LikertQuestion(QuestionBase):
    type: Literal["likert"]
    scale: str


class SingleChoiceQuestion(QuestionBase):
    type: Literal["single_choice"]
    choices: list[Choice] = Field(min_length=2)


class MultiChoiceQuestion(QuestionBase):
    type: Literal["multi_choice"]
    choices: list[Choice] = Field(min_length=2)


class YesNoQuestion(QuestionBase):
    type: Literal["yes_no"]


class NumberQuestion(QuestionBase):
    type: Literal["number"]
    min: float | None = None
    max: float | None = None
    integer: bool = True
    unit: Text | None = None


class TextQuestion(QuestionBase):
    type: Literal["text"]
    long: bool = False
    max_length: int = Field(default=500, ge=1, le=5000)


class GridRow(Strict):
    id: VariableName
    text: Text
    label: Text | None = None


class GridQuestion(QuestionBase):
    """Several statements answered on one scale; each row is its own variable."""

    type: Literal["grid"]
    scale: str
    rows: list[GridRow] = Field(min_length=1)


class InfoItem(QuestionBase):
    """Text with no answer (an explanation, a picture)."""

    type: Literal["info"]
    allow_decline: bool = False
    image: str | None = None


Question = Annotated[
    LikertQuestion
    | SingleChoiceQuestion
    | MultiChoiceQuestion
    | YesNoQuestion
    | NumberQuestion
    | TextQuestion
    | GridQuestion
    | InfoItem,
    Field(discriminator="type"),
]

YES_NO_CODES = {"yes": 1, "no": 0}


def answer_keys(question: Question) -> list[str]:
    """The keys a question stores its answers under: its id, a grid's row ids, none for info."""
    if isinstance(question, InfoItem):
        return []
    if isinstance(question, GridQuestion):
        return [row.id for row in question.rows]
    return [question.id]


class Page(Strict):
    id: VariableName
    title: Text | None = None
    questions: list[Question] = Field(min_length=1)


class Construct(Strict):
    """A scale of items scored together (e.g. self-esteem)."""

    label: Text
    items: list[VariableName] = Field(min_length=1)
    reverse: list[VariableName] = Field(default_factory=list)
    score: Literal["mean", "sum"] = "mean"
    # Fewer answered items than this gives a missing score.
    min_answered: int | None = None


class Questionnaire(Strict):
    id: VariableName
    title: Text
    description: Text | None = None
    audience: Literal["pupil", "school"] = "pupil"
    languages: list[str] = Field(min_length=1)
    default_language: str = "en"
    # Language -> name of the language written in that language (for the picker).
    language_names: dict[str, str] = Field(default_factory=dict)
    scales: dict[VariableName, Scale] = Field(default_factory=dict)
    constructs: dict[VariableName, Construct] = Field(default_factory=dict)
    pages: list[Page] = Field(min_length=1)

    # Set by the loader: the content hash of the file, and where it came from.
    _version: str = PrivateAttr(default="")
    _source: str = PrivateAttr(default="")
    # Filled on first use by the navigation module (the file never changes once loaded).
    _navigation_plan: Any = PrivateAttr(default=None)

    @property
    def version(self) -> str:
        return self._version

    @property
    def source(self) -> str:
        return self._source

    def questions(self) -> list[Question]:
        return [q for page in self.pages for q in page.questions]

    def answer_keys(self) -> list[str]:
        """Every answer key in questionnaire order (question ids, grid row ids, no info)."""
        return [key for q in self.questions() for key in answer_keys(q)]

    def question(self, question_id: str) -> Question:
        for q in self.questions():
            if q.id == question_id:
                return q
        raise KeyError(question_id)

    def page(self, page_id: str) -> Page:
        for p in self.pages:
            if p.id == page_id:
                return p
        raise KeyError(page_id)

    def text(self, text: Text | None, language: str) -> str:
        return localise(text, language, self.default_language)

    def choices_for(self, question: Question) -> list[Choice]:
        """The answer options of a question, whatever its type (empty for number/text/info)."""
        if isinstance(question, (LikertQuestion, GridQuestion)):
            return list(self.scales[question.scale].options)
        if isinstance(question, (SingleChoiceQuestion, MultiChoiceQuestion)):
            return list(question.choices)
        if isinstance(question, YesNoQuestion):
            return [
                Choice(code=1, label={"en": "Yes"}),
                Choice(code=0, label={"en": "No"}),
            ]
        return []
