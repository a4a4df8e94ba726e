"""Missing-value codes shared by the frame, the writers and the codebook.

Numeric answer columns carry these negative codes instead of a bare blank so an analyst can
tell *why* a value is missing. SPSS files declare them as user-missing values, Stata files as
extended missing values (``.a``, ``.b``, ``.c``), CSV/Excel/Parquet keep the numbers and the
codebook explains them. A blank (system missing) means not answered, for no known reason.
Text columns use the same codes written as text.
"""

from __future__ import annotations

DECLINED = -99  # "I'd rather not say"
NOT_SHOWN = -98  # skipped by routing: the question's show_if was false for this response
SUPPRESSED = -97  # withheld by small-cell protection

MISSING_LABELS: dict[int, str] = {
    DECLINED: "prefer not to say",
    NOT_SHOWN: "not shown (skipped by routing)",
    SUPPRESSED: "withheld (small-cell protection)",
}

#: Stata extended missing value for each code.
STATA_LETTERS: dict[int, str] = {DECLINED: "a", NOT_SHOWN: "b", SUPPRESSED: "c"}

#: The value a suppressed text field (school, class, language) shows.
SUPPRESSED_TEXT = "suppressed"
