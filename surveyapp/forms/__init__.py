"""Forms built from questionnaire pages (WTForms), reusable by any blueprint."""

from .builder import PageForm, QuestionBlock, build_page_form, stored_for_form
from .fields import DECLINE_SUFFIX, DECLINE_VALUE, AnswerField, Option

__all__ = [
    "DECLINE_SUFFIX",
    "DECLINE_VALUE",
    "AnswerField",
    "Option",
    "PageForm",
    "QuestionBlock",
    "build_page_form",
    "stored_for_form",
]
