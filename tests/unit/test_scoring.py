"""Construct scoring: reverse coding, min_answered, sum and mean rules, Cronbach's alpha."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from surveyapp.questionnaire.loader import load_questionnaire
from surveyapp.questionnaire.scoring import (
    ScoringError,
    construct_alpha,
    construct_item_codes,
    cronbach_alpha,
    item_codes,
    score_constructs,
)

QUESTIONNAIRE = """
id: scoring_test
title: {en: "Scoring test"}
languages: [en]
scales:
  agree4:
    options:
      - {code: 1, label: "No"}
      - {code: 2, label: "Not really"}
      - {code: 3, label: "A bit"}
      - {code: 4, label: "A lot"}
  odd:
    options:
      - {code: 0, label: "Never"}
      - {code: 2, label: "Sometimes"}
      - {code: 6, label: "Always"}
constructs:
  confidence:
    label: {en: "Confidence"}
    items: [conf_1, conf_2, conf_3]
    reverse: [conf_3]
    score: mean
    min_answered: 2
  strict_sum:
    label: "Strict sum"
    items: [conf_1, conf_2, conf_3]
    reverse: [conf_3]
    score: sum
  often:
    label: "Often"
    items: [often_a, often_b]
    reverse: [often_b]
    score: sum
    min_answered: 1
pages:
  - id: p1
    questions:
      - {id: conf_1, type: likert, scale: agree4, text: "I am good at things."}
      - {id: conf_2, type: likert, scale: agree4, text: "I can learn hard things."}
      - {id: conf_3, type: likert, scale: agree4, text: "I often give up."}
      - id: practice
        type: grid
        scale: odd
        text: "How often?"
        rows:
          - {id: often_a, text: "I practise"}
          - {id: often_b, text: "I miss practice"}
      - {id: comment, type: text, text: "Anything else?"}
"""


@pytest.fixture(scope="module")
def questionnaire():
    return load_questionnaire("scoring_test.yaml", text=QUESTIONNAIRE)


def test_item_codes_follow_the_items_scale(questionnaire):
    assert item_codes(questionnaire, "conf_1") == [1, 2, 3, 4]
    assert item_codes(questionnaire, "often_b") == [0, 2, 6]
    with pytest.raises(ScoringError, match="text question"):
        item_codes(questionnaire, "comment")
    with pytest.raises(ScoringError, match="not a question"):
        item_codes(questionnaire, "nothing")


def test_reverse_coding_uses_min_plus_max_of_the_scale(questionnaire):
    values = pd.DataFrame({"conf_1": [4, 4], "conf_2": [4, 4], "conf_3": [1, 4]})
    scores = score_constructs(questionnaire, values)
    # conf_3 = 1 reverses to 4, conf_3 = 4 reverses to 1 on a 1..4 scale.
    assert scores["confidence_score"].tolist() == [4.0, 3.0]
    assert scores["strict_sum_score"].tolist() == [12.0, 9.0]
    # A scale with uneven codes 0, 2, 6: reversed as 6 - code.
    grid = pd.DataFrame({"often_a": [6, 0], "often_b": [0, 6]})
    assert score_constructs(questionnaire, grid)["often_score"].tolist() == [12.0, 0.0]


def test_min_answered_and_missing_codes(questionnaire):
    values = pd.DataFrame(
        {
            "conf_1": [3, 3, -99, np.nan, 7],
            "conf_2": [2, np.nan, -99, np.nan, 2],
            "conf_3": [np.nan, np.nan, 4, 4, -98],
        }
    )
    scores = score_constructs(questionnaire, values)
    confidence = scores["confidence_score"]
    # Row 0: two answered items (min_answered 2): mean of 3 and 2.
    assert confidence[0] == 2.5
    # Row 1: one item only; -99 / -98 / out-of-scale 7 count as not answered.
    assert confidence[1:].isna().all()
    # strict_sum has no min_answered: every item is needed.
    assert scores["strict_sum_score"].isna().all()


def test_sum_with_an_allowed_missing_item_is_prorated(questionnaire):
    grid = pd.DataFrame({"often_a": [2, np.nan], "often_b": [np.nan, np.nan]})
    often = score_constructs(questionnaire, grid)["often_score"]
    assert often[0] == 4.0  # mean 2 over one answered item, times 2 items
    assert math.isnan(often[1])


def test_missing_item_column_counts_as_unanswered(questionnaire):
    values = pd.DataFrame({"conf_1": [4], "conf_2": [2]})
    assert score_constructs(questionnaire, values)["confidence_score"].tolist() == [3.0]


# Hand-computed example: item variances 1.7, 0.7, 0.7 (sum 3.1); totals 5, 7, 9, 11, 12 have
# variance 8.2; alpha = 3/2 * (1 - 3.1/8.2) = 7.65/8.2.
HAND_ALPHA = 7.65 / 8.2


def test_cronbach_alpha_matches_hand_computation():
    items = pd.DataFrame({"a": [1, 2, 3, 4, 4], "b": [2, 2, 3, 3, 4], "c": [2, 3, 3, 4, 4]})
    assert cronbach_alpha(items) == pytest.approx(HAND_ALPHA, abs=1e-12)
    assert cronbach_alpha(items) == pytest.approx(0.932926829, abs=1e-9)


def test_alpha_reverse_codes_and_uses_complete_cases(questionnaire):
    construct = questionnaire.constructs["confidence"]
    codes = construct_item_codes(questionnaire, construct)
    # conf_3 stored as answered (reverse-keyed): 5 - (2, 3, 3, 4, 4); plus one incomplete row.
    values = pd.DataFrame(
        {
            "conf_1": [1, 2, 3, 4, 4, 1],
            "conf_2": [2, 2, 3, 3, 4, np.nan],
            "conf_3": [3, 2, 2, 1, 1, 4],
        }
    )
    alpha, n = construct_alpha(values, construct, codes)
    assert n == 5
    assert alpha == pytest.approx(HAND_ALPHA, abs=1e-12)


def test_alpha_is_undefined_without_variance_or_cases():
    assert math.isnan(cronbach_alpha(pd.DataFrame({"a": [1, 1], "b": [2, 2]})))
    assert math.isnan(cronbach_alpha(pd.DataFrame({"a": [1], "b": [2]})))
    assert math.isnan(cronbach_alpha(pd.DataFrame({"a": [1, 2, 3]})))
