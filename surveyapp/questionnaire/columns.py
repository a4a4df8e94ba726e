"""How a questionnaire's answers are named as export columns.

The loader reserves these names and checks the columns a questionnaire will make, so a
questionnaire that loads can always be exported; the export builds its columns by the same
rules. Both sides read them from here so they cannot drift apart.
"""

from __future__ import annotations

#: Columns every export row carries besides the answers; a question may not take their names.
META_COLUMNS = (
    "pseudonym",
    "arm",
    "wave",
    "school",
    "class",
    "questionnaire_version",
    "language",
    "status",
    "started",
    "completed",
    "duration_min",
)

#: Stata's limit on a variable name; SPSS allows 64, so one name works everywhere.
MAX_COLUMN_NAME = 32


def option_column(question_id: str, code: int) -> str:
    """The 0/1 column of one choice of a multi_choice question: ``<id>_<code>``.

    A negative code (which the loader refuses) would give ``<id>_m<code>``, since a minus sign
    cannot stand in a column name.
    """
    return f"{question_id}_{code}" if code >= 0 else f"{question_id}_m{-code}"
