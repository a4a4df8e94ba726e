"""Construct (scale) scores and their internal consistency. Pure: pandas and numpy only.

Rules, per construct in the questionnaire file:

- an item value counts only if it is one of the item's answer codes; anything else (missing,
  "I'd rather not say" and the export's negative missing codes) is not answered;
- a reverse-coded item is flipped on its own scale: ``(min + max) - code``, using the codes of
  the scale the item is answered on (so a 1-4 scale maps 1<->4 and 2<->3, whatever the labels);
- a score needs at least ``min_answered`` answered items (every item when not set), otherwise
  it is missing;
- ``mean`` is the mean of the answered items; ``sum`` is the sum scaled up to the full number
  of items (``mean * n_items``) so that a pupil who skipped an allowed item is not scored as
  if they had answered it with zero. With every item answered it is the plain sum.

Cronbach's alpha uses the (reverse-coded) items of complete cases only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .model import (
    Construct,
    GridQuestion,
    LikertQuestion,
    Questionnaire,
    SingleChoiceQuestion,
    YesNoQuestion,
)


class ScoringError(ValueError):
    """A construct names an item that cannot be scored (unknown, or not answered on codes)."""


def item_codes(questionnaire: Questionnaire, item_id: str) -> list[int]:
    """The answer codes of a construct item: a likert or single-choice question, a yes/no
    question, or a grid row (answered on its grid's scale)."""
    for question in questionnaire.questions():
        if isinstance(question, GridQuestion):
            if any(row.id == item_id for row in question.rows):
                return questionnaire.scales[question.scale].codes
            continue
        if question.id != item_id:
            continue
        if isinstance(question, (LikertQuestion, SingleChoiceQuestion, YesNoQuestion)):
            return [c.code for c in questionnaire.choices_for(question)]
        raise ScoringError(
            f"construct item '{item_id}' is a {question.type} question; "
            "only likert, single_choice, yes_no questions and grid rows can be scored"
        )
    raise ScoringError(f"construct item '{item_id}' is not a question or grid row")


def construct_item_codes(
    questionnaire: Questionnaire, construct: Construct
) -> dict[str, list[int]]:
    return {item: item_codes(questionnaire, item) for item in construct.items}


def keyed_items(
    values: pd.DataFrame, construct: Construct, codes: Mapping[str, Sequence[int]]
) -> pd.DataFrame:
    """The construct's items as floats: invalid codes become NaN, reverse items are flipped."""
    out = {}
    for item in construct.items:
        item_values = codes[item]
        if item in values.columns:
            column = pd.to_numeric(values[item], errors="coerce").astype("float64")
        else:
            column = pd.Series(np.nan, index=values.index, dtype="float64")
        column = column.where(column.isin(list(item_values)))
        if item in construct.reverse:
            column = (min(item_values) + max(item_values)) - column
        out[item] = column
    return pd.DataFrame(out, index=values.index)


def required_items(construct: Construct) -> int:
    """How many answered items a score needs (every item unless ``min_answered`` says fewer)."""
    n_items = len(construct.items)
    if construct.min_answered is None:
        return n_items
    return max(1, min(construct.min_answered, n_items))


def score_construct(
    values: pd.DataFrame, construct: Construct, codes: Mapping[str, Sequence[int]]
) -> pd.Series:
    """One score per row of ``values`` (columns named by item id), NaN where too few items."""
    items = keyed_items(values, construct, codes)
    answered = items.notna().sum(axis=1)
    mean = items.mean(axis=1, skipna=True)
    score = mean if construct.score == "mean" else mean * len(construct.items)
    return score.where(answered >= required_items(construct)).astype("float64")


def score_constructs(questionnaire: Questionnaire, values: pd.DataFrame) -> pd.DataFrame:
    """Every construct of ``questionnaire`` scored on ``values``: columns ``<construct>_score``."""
    scores = {}
    for name, construct in questionnaire.constructs.items():
        codes = construct_item_codes(questionnaire, construct)
        scores[f"{name}_score"] = score_construct(values, construct, codes)
    return pd.DataFrame(scores, index=values.index)


def cronbach_alpha(items: pd.DataFrame) -> float:
    """Cronbach's alpha of the columns of ``items`` over complete rows.

    ``k / (k - 1) * (1 - sum of item variances / variance of the total)``, sample variances.
    NaN when there are fewer than two items, fewer than two complete rows, or no variance.
    """
    complete = items.dropna()
    n_items = complete.shape[1]
    if n_items < 2 or len(complete) < 2:
        return float("nan")
    item_variances = complete.var(axis=0, ddof=1).sum()
    total_variance = complete.sum(axis=1).var(ddof=1)
    if not np.isfinite(total_variance) or total_variance == 0:
        return float("nan")
    return float(n_items / (n_items - 1) * (1 - item_variances / total_variance))


def construct_alpha(
    values: pd.DataFrame, construct: Construct, codes: Mapping[str, Sequence[int]]
) -> tuple[float, int]:
    """Alpha of one construct (reverse items flipped) and the number of complete cases."""
    items = keyed_items(values, construct, codes)
    return cronbach_alpha(items), int(items.notna().all(axis=1).sum())
