"""Small-cell protection: no released row stands out in a group smaller than k.

The quasi-identifiers are school, class, language, every question marked
``identifying: quasi`` and any extra column the policy lists. Within each wave (a pupil
answers once per wave, so a group of k rows is k different pupils), a row whose combination
of those values is shared by fewer than k rows is *at risk*. At-risk rows are repaired in
this order, re-counting after each step, so the least information is lost first:

1. rare values: a value of one field shared by fewer than k rows of the wave is suppressed
   (a class smaller than k is generalised to its school; a school smaller than k is
   suppressed together with its class);
2. one step at a time for the rows still at risk: generalise class to school level, or
   withhold one quasi-identifying question, or language, whichever leaves the fewest rows
   at risk (ties in that order, questions with the most distinct values first);
3. school (and class) withheld for rows still at risk;
4. anything left at risk is fully suppressed.

Safe rows are never changed: a group is either all safe (size >= k) or all at risk, and only
at-risk rows move, so safe groups can only grow. After the last step every combination
occurs at least k times or is fully suppressed, which the property tests check on arbitrary
input. A suppressed value is its own value: ``-97`` in numeric columns, ``suppressed`` in
text columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .missing import SUPPRESSED, SUPPRESSED_TEXT

_SUP = -2  # the suppressed value in the integer working copy (factorize uses -1 for NaN)


@dataclass(frozen=True)
class QuasiField:
    name: str
    columns: tuple[str, ...]
    kind: str  # school, class, question, column


@dataclass
class ProtectionReport:
    k: int
    fields: list[str]
    rows: int = 0
    rows_touched: int = 0
    rows_fully_suppressed: int = 0
    classes_generalised: int = 0
    cells_suppressed: dict[str, int] = field(default_factory=dict)

    @property
    def cells_touched(self) -> int:
        return sum(self.cells_suppressed.values())

    def summary(self) -> str:
        return (
            f"k = {self.k}: {self.rows_touched} of {self.rows} rows changed "
            f"({self.cells_touched} cells withheld, {self.classes_generalised} classes "
            f"generalised to school level, {self.rows_fully_suppressed} rows with every "
            "quasi-identifier withheld)"
        )


def quasi_fields(
    frame: pd.DataFrame,
    question_columns: dict[str, list[str]],
    quasi_questions: Sequence[str],
    extra: Sequence[str] = (),
) -> list[QuasiField]:
    """The fields to protect. ``question_columns`` maps each question id to its columns."""
    fields: list[QuasiField] = []
    seen: set[str] = set()
    for name in [*quasi_questions, *extra]:
        if name in seen or name in ("school", "class"):
            continue
        if name in question_columns:
            columns = tuple(c for c in question_columns[name] if c in frame.columns)
            if columns:
                fields.append(QuasiField(name, columns, "question"))
                seen.add(name)
        elif name in frame.columns:
            fields.append(QuasiField(name, (name,), "column"))
            seen.add(name)
        else:
            raise ValueError(
                f"quasi-identifier '{name}' is neither a question nor a column of the export"
            )
    if "language" in frame.columns and "language" not in seen:
        fields.append(QuasiField("language", ("language",), "column"))
    fields.append(QuasiField("class", ("class",), "class"))
    fields.append(QuasiField("school", ("school",), "school"))
    return fields


def protect(
    frame: pd.DataFrame, fields: Sequence[QuasiField], k: int, stratum: str | None = "wave"
) -> tuple[pd.DataFrame, ProtectionReport]:
    """A copy of ``frame`` in which every quasi-identifier combination (per ``stratum``)
    occurs at least ``k`` times or is fully suppressed; and what was changed."""
    fields = [f for f in fields if all(c in frame.columns for c in f.columns)]
    columns = [c for f in fields for c in f.columns]
    report = ProtectionReport(k=k, fields=[f.name for f in fields], rows=len(frame))
    out = frame.copy()
    if not columns or frame.empty:
        return out, report

    work = pd.DataFrame(
        {c: pd.factorize(frame[c], use_na_sentinel=True)[0] for c in columns}, index=frame.index
    )
    group_keys = list(columns)
    if stratum and stratum in frame.columns:
        work["__stratum"] = pd.factorize(frame[stratum], use_na_sentinel=True)[0]
        group_keys = ["__stratum", *columns]
    strata = ["__stratum"] if "__stratum" in work else []

    def sizes(w: pd.DataFrame, keys: list[str]) -> np.ndarray:
        return w.groupby(keys, sort=False)[keys[0]].transform("size").to_numpy()

    def at_risk(w: pd.DataFrame) -> np.ndarray:
        fully = (w[columns] == _SUP).all(axis=1).to_numpy()
        return (sizes(w, group_keys) < k) & ~fully

    def targets(f: QuasiField) -> list[str]:
        # A class code names its school, so withholding the school withholds the class.
        return [*f.columns, "class"] if f.kind == "school" and "class" in work else list(f.columns)

    def suppress(w: pd.DataFrame, f: QuasiField, rows: np.ndarray) -> None:
        for c in targets(f):
            w.loc[rows, c] = _SUP

    def exhausted(w: pd.DataFrame, f: QuasiField, rows: np.ndarray) -> bool:
        return bool((w.loc[rows, targets(f)] == _SUP).all(axis=None))

    by_kind = {f.kind: f for f in fields if f.kind in ("school", "class")}
    questions = [f for f in fields if f.kind in ("question", "column") and f.name != "language"]
    language = [f for f in fields if f.name == "language"]

    # 1. Rare values of each field (within the stratum): every row holding one is at risk.
    for f in [*questions, *language, *by_kind.values()]:
        rare = sizes(work, [*strata, *f.columns]) < k
        rare &= ~(work[list(f.columns)] == _SUP).all(axis=1).to_numpy()
        if rare.any():
            suppress(work, f, rare)
    # 2-3. For the rows still at risk, take the step (class to school level, or withholding
    # one quasi-identifying question, or language) that leaves the fewest rows at risk; ties
    # and steps that help no row alone go in the order: class, questions with the most
    # distinct values first, language. Each step is used at most once: the rows at risk only
    # ever shrink, so a step already applied to them has nothing left to do.
    ordered = sorted(questions, key=lambda f: -int(work[list(f.columns)].nunique().max()))
    steps = [*([by_kind["class"]] if "class" in by_kind else []), *ordered, *language]
    risky = at_risk(work)
    while risky.any():
        open_steps = [f for f in steps if not exhausted(work, f, risky)]
        if not open_steps:
            break
        best_trial, best_left = None, None
        for f in open_steps:
            trial = work.copy()
            suppress(trial, f, risky)
            left = int(at_risk(trial).sum())
            if best_left is None or left < best_left:
                best_trial, best_left = trial, left
        if best_left >= int(risky.sum()):
            best_trial = work.copy()
            suppress(best_trial, open_steps[0], risky)
        work = best_trial
        risky = at_risk(work)
    # 4. School (with its class).  5. Everything.
    if risky.any() and "school" in by_kind:
        suppress(work, by_kind["school"], risky)
        risky = at_risk(work)
    if risky.any():
        work.loc[risky, columns] = _SUP

    touched = np.zeros(len(frame), dtype=bool)
    for c in columns:
        hit = (work[c] == _SUP).to_numpy()
        if not hit.any():
            continue
        touched |= hit
        report.cells_suppressed[c] = int(hit.sum())
        if pd.api.types.is_numeric_dtype(out[c]) and not pd.api.types.is_bool_dtype(out[c]):
            out[c] = out[c].astype("float64")
            out.loc[hit, c] = SUPPRESSED
        else:
            out[c] = out[c].astype(object)
            out.loc[hit, c] = SUPPRESSED_TEXT
    report.rows_touched = int(touched.sum())
    report.rows_fully_suppressed = int((work[columns] == _SUP).all(axis=1).sum())
    if "class" in work and "school" in work:
        report.classes_generalised = int(((work["class"] == _SUP) & (work["school"] != _SUP)).sum())
    return out, report


def combinations_ok(
    frame: pd.DataFrame, columns: Sequence[str], k: int, stratum: str | None
) -> bool:
    """The guarantee, checked independently of :func:`protect`: every combination of
    ``columns`` (per stratum; NaN and suppressed are values too) occurs at least k times,
    or every one of its columns is suppressed."""
    if frame.empty or not columns:
        return True

    def text(column: pd.Series) -> pd.Series:
        return column.astype(object).where(column.notna(), "<blank>").astype(str)

    keys = pd.DataFrame({c: text(frame[c]) for c in columns})
    if stratum:
        keys["__stratum"] = text(frame[stratum])
    counts = keys.groupby(list(keys.columns), sort=False, dropna=False)[columns[0]].transform(
        "size"
    )
    withheld = {SUPPRESSED_TEXT, str(float(SUPPRESSED)), str(SUPPRESSED)}
    suppressed = keys[list(columns)].isin(withheld).all(axis=1)
    return bool(((counts >= k) | suppressed).all())
