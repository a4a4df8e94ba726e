"""Plain input frames -> the wide frame (one row per response) and the long frame (one row
per answer).

Input contract (what :mod:`surveyapp.export_query` produces from the database, and what the
benchmark generates in memory):

``responses``: one row per response with ``response_id``, ``participant_id``, ``arm``,
``wave``, ``wave_position`` (optional, orders waves), ``school`` and ``class`` (the export
codes such as ``S01`` and ``S01-C02``, never names), ``questionnaire_id``,
``questionnaire_version``, ``language``, ``started_at``, ``completed_at``.

``answers``: one row per stored answer with ``response_id``, ``question_id`` (the answer key:
question id, or grid row id), ``value`` (the decoded JSON: int, float, str or list of codes)
and ``declined`` (bool). Optionally ``number`` (float64): the value when it is a number, NaN
otherwise; where it is given, ``value`` may be None for numbers. The database path
(:mod:`surveyapp.exporting.stored`) delivers numbers that way, as one float column instead of
millions of Python objects; without the column it is derived from ``value``.

Everything is vectorised: answers land in a NumPy matrix by fancy indexing (row of the
response, column of the variable), never by a Python loop over responses.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..questionnaire.conditions import DECLINED as CONDITION_DECLINED
from ..questionnaire.conditions import parse_condition
from ..questionnaire.model import Questionnaire
from .coarsen import coarsen_times, duration_minutes, pseudonyms
from .missing import DECLINED, NOT_SHOWN
from .variables import CODE, META_COLUMNS, NUMBER, OPTION, TEXT, Variable

RESPONSE_COLUMNS = (
    "response_id",
    "participant_id",
    "arm",
    "wave",
    "school",
    "class",
    "questionnaire_id",
    "questionnaire_version",
    "language",
    "started_at",
    "completed_at",
)
ANSWER_COLUMNS = ("response_id", "question_id", "value", "declined")


class ExportInputError(ValueError):
    """The input frames do not follow the contract above."""


def check_inputs(responses: pd.DataFrame, answers: pd.DataFrame) -> None:
    missing = [c for c in RESPONSE_COLUMNS if c not in responses.columns]
    if missing:
        raise ExportInputError(f"responses frame lacks column(s): {', '.join(missing)}")
    missing = [c for c in ANSWER_COLUMNS if c not in answers.columns]
    if missing:
        raise ExportInputError(f"answers frame lacks column(s): {', '.join(missing)}")
    if responses["response_id"].duplicated().any():
        raise ExportInputError("responses frame has duplicate response_id values")


def answer_numbers(answers: pd.DataFrame) -> np.ndarray:
    """The ``number`` column of ``answers``, derived from ``value`` when it is not given."""
    if "number" in answers.columns:
        return answers["number"].to_numpy(dtype=np.float64, na_value=np.nan)
    values = answers["value"].to_numpy(dtype=object)
    is_number = np.fromiter(
        (isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)
         for x in values),
        dtype=bool,
        count=len(values),
    )  # fmt: skip
    numbers = np.full(len(values), np.nan)
    numbers[is_number] = values[is_number].astype(np.float64)
    return numbers


def answer_values(answers: pd.DataFrame, numbers: np.ndarray) -> np.ndarray:
    """Every answer's value as an object (numbers included), for the few places that need
    Python values (routing conditions, free text)."""
    values = answers["value"].to_numpy(dtype=object).copy()
    hit = ~np.isnan(numbers)
    values[hit] = numbers[hit]
    return values


def order_responses(responses: pd.DataFrame, pseudonym: pd.Series) -> np.ndarray:
    """Row order: wave, school, class, pseudonym. Never storage order, which would leak who
    answered first."""
    keys = pd.DataFrame(
        {
            "wave_position": responses["wave_position"]
            if "wave_position" in responses
            else pd.Series(0, index=responses.index),
            "wave": responses["wave"].astype(str),
            "school": responses["school"].astype(str),
            "class": responses["class"].astype(str),
            "pseudonym": pseudonym.astype(str),
        }
    )
    return keys.sort_values(list(keys.columns), kind="stable").index.to_numpy()


def meta_frame(responses: pd.DataFrame, pseudonym_key: str, time_resolution: str) -> pd.DataFrame:
    """The meta columns of the wide frame, one row per response, in ``responses`` order."""
    started = pd.to_datetime(responses["started_at"], errors="coerce")
    completed = pd.to_datetime(responses["completed_at"], errors="coerce")
    frame = pd.DataFrame(
        {
            "pseudonym": pseudonyms(responses["participant_id"], pseudonym_key),
            "arm": responses["arm"].astype(object),
            "wave": responses["wave"].astype(object),
            "school": responses["school"].astype(object),
            "class": responses["class"].astype(object),
            "questionnaire_version": responses["questionnaire_version"].astype(object),
            "language": responses["language"].astype(object),
            "status": np.where(completed.notna(), "complete", "partial").astype(object),
            "started": coarsen_times(started, time_resolution),
            "completed": coarsen_times(completed, time_resolution),
            "duration_min": duration_minutes(started, completed),
        },
        index=responses.index,
    )
    assert tuple(frame.columns) == META_COLUMNS
    return frame


def answer_matrix(
    response_ids: pd.Series, answers: pd.DataFrame, variables: Sequence[Variable]
) -> pd.DataFrame:
    """Answer columns for ``response_ids`` (in that order): floats with missing codes for
    code, option and number columns; objects for text. Declined answers get -99."""
    ids = pd.Index(response_ids)
    n = len(ids)
    numeric = [v for v in variables if v.kind in (CODE, OPTION, NUMBER)]
    texts = [v for v in variables if v.kind == TEXT]
    num_col = {v.name: i for i, v in enumerate(numeric)}
    matrix = np.full((n, len(numeric)), np.nan)
    text_matrix = np.full((n, len(texts)), None, dtype=object)

    rows = ids.get_indexer(answers["response_id"].to_numpy())
    key_codes, key_names = pd.factorize(answers["question_id"], use_na_sentinel=True)
    numbers = answer_numbers(answers)
    values = answers["value"].to_numpy(dtype=object)
    declined = answers["declined"].fillna(False).to_numpy(dtype=bool)
    keep = rows >= 0
    if not keep.all():  # answers of responses outside the selection
        rows, key_codes, numbers, values, declined = (
            rows[keep],
            key_codes[keep],
            numbers[keep],
            values[keep],
            declined[keep],
        )
    name_index = {name: i for i, name in enumerate(key_names)}

    def column_of(mapping: dict[str, int]) -> np.ndarray:
        """Per answer, the matrix column its key maps to (-1: none). One lookup per key."""
        table = np.full(len(key_names) + 1, -1, dtype=np.int64)  # last slot: missing key
        for key, column in mapping.items():
            if key in name_index:
                table[name_index[key]] = column
        return table[key_codes]

    # Scalar codes and numbers: one column per answer key.
    cols = column_of({v.answer_key: num_col[v.name] for v in numeric if v.kind in (CODE, NUMBER)})
    hit = cols >= 0
    if hit.any():
        scalars = numbers[hit]  # a value that is not a number (a list, a word) stays blank
        scalars[declined[hit]] = DECLINED
        matrix[rows[hit], cols[hit]] = scalars

    # Multi-choice: an answered question sets all its options to 0, then its codes to 1.
    options: dict[str, dict[int, int]] = {}
    for v in numeric:
        if v.kind == OPTION:
            options.setdefault(v.answer_key, {})[v.option_code] = num_col[v.name]
    for key, code_cols in options.items():
        if key not in name_index:
            continue
        sel = key_codes == name_index[key]
        q_rows, q_values, q_declined = rows[sel], values[sel], declined[sel]
        is_list = np.fromiter((isinstance(x, list) for x in q_values), bool, len(q_values))
        answered = is_list & ~q_declined
        col_idx = np.array(list(code_cols.values()))
        matrix[np.ix_(q_rows[answered], col_idx)] = 0.0
        matrix[np.ix_(q_rows[q_declined], col_idx)] = DECLINED
        exploded = pd.Series(q_values[answered], index=q_rows[answered]).explode()
        exploded = pd.to_numeric(exploded, errors="coerce").dropna()
        target = exploded.map(code_cols)
        known = target.notna()
        matrix[exploded.index[known].to_numpy(), target[known].astype(np.int64).to_numpy()] = 1.0

    # Free text.
    if texts:
        tcols = column_of({v.answer_key: i for i, v in enumerate(texts)})
        thit = tcols >= 0
        tnumbers, tobjects = numbers[thit], values[thit]
        tvalues = np.array(
            [
                _number_text(n) if not np.isnan(n) else None if x is None else str(x)
                for n, x in zip(tnumbers, tobjects, strict=True)
            ],
            dtype=object,
        )
        tvalues[declined[thit]] = str(DECLINED)
        text_matrix[rows[thit], tcols[thit]] = tvalues

    frame = pd.DataFrame(matrix, columns=[v.name for v in numeric])
    for i, v in enumerate(texts):
        frame[v.name] = text_matrix[:, i]
    return frame[[v.name for v in variables if v.kind in (CODE, OPTION, NUMBER, TEXT)]]


def _number_text(number: float) -> str:
    return str(int(number)) if number.is_integer() else str(number)


def _hashable(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


def mark_routing(
    frame: pd.DataFrame,
    response_ids: pd.Series,
    answers: pd.DataFrame,
    variables: Sequence[Variable],
    questionnaires: Sequence[Questionnaire],
) -> None:
    """Blank cells of questions whose ``show_if`` is false for the response become -98.

    Each condition is evaluated once per distinct combination of the answers it reads, not
    once per response.
    """
    conditional: dict[str, object] = {}
    for questionnaire in questionnaires:
        for q in questionnaire.questions():
            if q.show_if and q.id not in conditional:
                conditional[q.id] = q.condition or parse_condition(q.show_if)
    if not conditional:
        return
    by_question: dict[str, list[str]] = {}
    for v in variables:
        if v.question_id in conditional and v.name in frame.columns:
            by_question.setdefault(v.question_id, []).append(v.name)
    if not by_question:
        return
    refs = sorted({name for qid in by_question for name in conditional[qid].references})
    ids = pd.Index(response_ids)
    sub = answers[answers["question_id"].isin(refs).to_numpy()]
    sub = sub[ids.get_indexer(sub["response_id"]) >= 0]
    values = pd.Series(answer_values(sub, answer_numbers(sub)), index=sub.index, dtype=object).map(
        _hashable
    )
    values[sub["declined"].fillna(False).astype(bool).to_numpy()] = CONDITION_DECLINED
    raw = (
        pd.DataFrame(
            {
                "r": sub["response_id"].to_numpy(),
                "k": sub["question_id"].to_numpy(),
                "v": values.to_numpy(),
            }
        )
        .pivot(index="r", columns="k", values="v")
        .reindex(index=ids, columns=refs)
    )
    for qid, columns in by_question.items():
        condition = conditional[qid]
        used = sorted(condition.references)
        part = raw[used].reset_index(drop=True)
        group = part.groupby(used, dropna=False, sort=False).ngroup().to_numpy()
        firsts = ~pd.Series(group).duplicated().to_numpy()
        shown = np.zeros(group.max() + 1 if len(group) else 0, dtype=bool)
        for g, row in zip(group[firsts], part[firsts].itertuples(index=False), strict=True):
            answers_now = {
                name: value for name, value in zip(used, row, strict=True) if not _blank(value)
            }
            shown[g] = condition.evaluate(answers_now)
        hidden = ~shown[group]
        for name in columns:
            col = frame[name]
            if col.dtype == object:
                frame.loc[hidden & col.isna().to_numpy(), name] = str(NOT_SHOWN)
            else:
                frame.loc[hidden & col.isna().to_numpy(), name] = NOT_SHOWN


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def long_frame(wide: pd.DataFrame, variables: Sequence[Variable], language: str) -> pd.DataFrame:
    """One row per answer (blank cells dropped): who, then variable, value, its label, text."""
    ids = ["pseudonym", "arm", "wave", "school", "class", "language", "status"]
    numeric = [v.name for v in variables if v.kind in (CODE, OPTION, NUMBER)]
    texts = [v.name for v in variables if v.kind == TEXT]
    parts = []
    if numeric:
        long = wide[ids + numeric].melt(id_vars=ids, var_name="variable", value_name="value")
        parts.append(long[long["value"].notna()])
    if texts:
        long = wide[ids + texts].melt(id_vars=ids, var_name="variable", value_name="text")
        parts.append(long[long["text"].notna()])
    if not parts:
        return pd.DataFrame(
            columns=[*ids, "variable", "question_id", "value", "value_label", "text"]
        )
    out = pd.concat(parts, ignore_index=True)
    for column in ("value", "text"):
        if column not in out:
            out[column] = np.nan if column == "value" else None
    question_of = {v.name: v.question_id for v in variables}
    out["question_id"] = out["variable"].map(question_of)
    labels = [
        (v.name, float(code), text)
        for v in variables
        for code, text in v.value_labels_in(language).items()
    ]
    label_table = pd.DataFrame(labels, columns=["variable", "value", "value_label"])
    out = out.merge(label_table, on=["variable", "value"], how="left")
    for column in ids + ["variable", "question_id"]:
        out[column] = out[column].astype("category")
    order = [*ids, "variable", "question_id", "value", "value_label", "text"]
    return out[order]
