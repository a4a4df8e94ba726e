"""Small-cell protection: no released pupil stands out in a group smaller than k.

The quasi-identifiers are school, class, language, every question marked
``identifying: quasi`` and any extra column the policy lists.

**Across linked waves.** A pupil answers once per wave and keeps one pseudonym, so whoever
holds the file can put a pupil's baseline and follow-up rows side by side: what identifies
a pupil is the combination of their quasi-identifiers in *every* exported wave (the class at
baseline and the class at follow-up, say), together with the waves they took part in. So the
unit of protection is the pupil, not the row (:func:`protect_linked`): each pupil's *profile*
is, per field, the tuple of that field's values across the exported waves (absent where the
pupil has no row), and pupils are grouped by the waves they appear in. A field withheld for a
pupil is withheld in all of their rows. With one wave this is exactly row-level protection.

Within each group (:func:`protect`, which does the same for plain rows), a member whose
combination of those values is shared by fewer than k members is *at risk*. At-risk members
are repaired in this order, re-counting after each step, so the least information is lost
first:

1. rare values: a value of one field shared by fewer than k members of the group is
   suppressed (a class smaller than k is generalised to its school; a school smaller than k
   is suppressed together with its class);
2. one step at a time for the members still at risk: generalise class to school level, or
   withhold one quasi-identifying question, or language, whichever leaves the fewest at risk
   (ties in that order, questions with the most distinct values first);
3. school (and class) withheld for members still at risk;
4. anything left at risk is fully suppressed.

Safe members are never changed: a combination is either all safe (size >= k) or all at
risk, and only at-risk members move, so safe combinations can only grow. After the last step
every combination occurs at least k times or is fully suppressed, which the property tests
check on arbitrary input, per wave and per linked pupil. A suppressed value is its own
value: ``-97`` in numeric columns, ``suppressed`` in text columns.
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


def _suppression(
    frame: pd.DataFrame, fields: Sequence[QuasiField], k: int, stratum: str | None
) -> pd.DataFrame:
    """Which cells of the fields' columns to withhold (booleans, one column per column)."""
    columns = [c for f in fields for c in f.columns]
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

    by_kind = {f.kind: f for f in fields if f.kind in ("school", "class")}

    def targets(f: QuasiField) -> list[str]:
        # A class code names its school, so withholding the school withholds the class.
        if f.kind == "school" and "class" in by_kind:
            return [*f.columns, *by_kind["class"].columns]
        return list(f.columns)

    def suppress(w: pd.DataFrame, f: QuasiField, rows: np.ndarray) -> None:
        for c in targets(f):
            w.loc[rows, c] = _SUP

    def exhausted(w: pd.DataFrame, f: QuasiField, rows: np.ndarray) -> bool:
        return bool((w.loc[rows, targets(f)] == _SUP).all(axis=None))

    questions = [f for f in fields if f.kind in ("question", "column") and f.name != "language"]
    language = [f for f in fields if f.name == "language"]

    # 1. Rare values of each field (within the stratum): every member holding one is at risk.
    for f in [*questions, *language, *by_kind.values()]:
        rare = sizes(work, [*strata, *f.columns]) < k
        rare &= ~(work[list(f.columns)] == _SUP).all(axis=1).to_numpy()
        if rare.any():
            suppress(work, f, rare)
    # 2-3. For the members still at risk, take the step (class to school level, or
    # withholding one quasi-identifying question, or language) that leaves the fewest at
    # risk; ties and steps that help nobody alone go in the order: class, questions with the
    # most distinct values first, language. Each step is used at most once: the members at
    # risk only ever shrink, so a step already applied to them has nothing left to do.
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
    return work[columns] == _SUP


def _withhold(
    frame: pd.DataFrame, fields: Sequence[QuasiField], k: int, withheld: pd.DataFrame
) -> tuple[pd.DataFrame, ProtectionReport]:
    """A copy of ``frame`` with the ``withheld`` cells suppressed, and the report."""
    columns = list(withheld.columns)
    report = ProtectionReport(k=k, fields=[f.name for f in fields], rows=len(frame))
    out = frame.copy()
    touched = np.zeros(len(frame), dtype=bool)
    for c in columns:
        hit = withheld[c].to_numpy()
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
    if columns:
        report.rows_fully_suppressed = int(withheld.all(axis=1).sum())
    if "class" in withheld and "school" in withheld:
        report.classes_generalised = int((withheld["class"] & ~withheld["school"]).sum())
    return out, report


def _usable(frame: pd.DataFrame, fields: Sequence[QuasiField]) -> list[QuasiField]:
    return [f for f in fields if all(c in frame.columns for c in f.columns)]


def protect(
    frame: pd.DataFrame, fields: Sequence[QuasiField], k: int, stratum: str | None = "wave"
) -> tuple[pd.DataFrame, ProtectionReport]:
    """Row-level protection: a copy of ``frame`` in which every quasi-identifier combination
    (per ``stratum``) occurs at least ``k`` times or is fully suppressed; and what was
    changed. Right for rows that cannot be linked to one another."""
    fields = _usable(frame, fields)
    columns = [c for f in fields for c in f.columns]
    if not columns or frame.empty:
        return frame.copy(), ProtectionReport(k=k, fields=[f.name for f in fields], rows=len(frame))
    return _withhold(frame, fields, k, _suppression(frame, fields, k, stratum))


@dataclass
class Profiles:
    """Pupils and their profiles: one row per pupil, one column per field (the field's
    values in every wave slot, as one code) and the pattern of waves the pupil is in."""

    table: pd.DataFrame
    pupil_of_row: np.ndarray  # row of ``frame`` -> row of ``table``


def pupil_profiles(
    frame: pd.DataFrame, fields: Sequence[QuasiField], person: str, wave: str | None
) -> Profiles:
    pupil_of_row, pupils = pd.factorize(frame[person].astype(str), use_na_sentinel=False)
    n = len(pupils)
    waves = (
        frame[wave].astype(str)
        if wave and wave in frame.columns
        else pd.Series("", index=frame.index)
    )
    # A wave slot per (wave, occurrence): a pupil found twice in one wave (which the
    # database does not allow) is linked through both rows all the same.
    occurrence = (
        pd.DataFrame({"wave": waves.to_numpy(), "pupil": pupil_of_row})
        .groupby(["wave", "pupil"], sort=False)
        .cumcount()
    )
    slots, _ = pd.factorize(waves.to_numpy() + "#" + occurrence.astype(str).to_numpy())
    n_slots = int(slots.max()) + 1 if len(slots) else 0
    present = np.zeros((n, n_slots), dtype=bool)
    present[pupil_of_row, slots] = True
    pattern = pd.factorize(pd.Series([row.tobytes() for row in present]))[0]
    table = pd.DataFrame({"__pattern": pattern})
    absent = -2  # factorize codes NaN as -1; an absent slot is neither a value nor blank
    for f in fields:
        parts = {}
        for c in f.columns:
            codes = pd.factorize(frame[c], use_na_sentinel=True)[0]
            grid = np.full((n, n_slots), absent, dtype=np.int64)
            grid[pupil_of_row, slots] = codes
            for s in range(n_slots):
                parts[f"{c}#{s}"] = grid[:, s]
        table[f.name] = pd.DataFrame(parts).groupby(list(parts), sort=False).ngroup().to_numpy()
    return Profiles(table=table, pupil_of_row=pupil_of_row)


def protect_linked(
    frame: pd.DataFrame,
    fields: Sequence[QuasiField],
    k: int,
    person: str = "pseudonym",
    wave: str | None = "wave",
) -> tuple[pd.DataFrame, ProtectionReport]:
    """Pupil-level protection (see the module docstring): every pupil's profile across the
    exported waves is shared by at least ``k`` pupils who took part in the same waves, or
    every quasi-identifier of that pupil is withheld in every one of their rows."""
    fields = _usable(frame, fields)
    columns = [c for f in fields for c in f.columns]
    if not columns or frame.empty:
        return frame.copy(), ProtectionReport(k=k, fields=[f.name for f in fields], rows=len(frame))
    profiles = pupil_profiles(frame, fields, person, wave)
    pupil_fields = [QuasiField(f.name, (f.name,), f.kind) for f in fields]
    per_pupil = _suppression(profiles.table, pupil_fields, k, "__pattern")
    withheld = pd.DataFrame(index=frame.index)
    for f in fields:
        hit = per_pupil[f.name].to_numpy()[profiles.pupil_of_row]
        for c in f.columns:
            withheld[c] = hit
    return _withhold(frame, fields, k, withheld)


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


def linked_combinations_ok(
    frame: pd.DataFrame, columns: Sequence[str], k: int, person: str, wave: str | None
) -> bool:
    """The guarantee across linked waves, checked independently of :func:`protect_linked`:
    every pupil's released rows (wave and quasi-identifiers, NaN and suppressed as values of
    their own) are shared, row for row, by at least k pupils, or every quasi-identifier in
    every one of their rows is suppressed."""
    if frame.empty or not columns:
        return True

    def text(column: pd.Series) -> pd.Series:
        return column.astype(object).where(column.notna(), "<blank>").astype(str)

    keys = pd.DataFrame({c: text(frame[c]) for c in columns})
    keys["__wave"] = text(frame[wave]) if wave else ""
    rows = pd.DataFrame(
        {
            "pupil": frame[person].astype(str).to_numpy(),
            "row": keys.groupby(list(keys.columns), sort=False).ngroup().to_numpy(),
        }
    ).sort_values(["pupil", "row"])
    profile = rows.groupby("pupil")["row"].agg(tuple)
    withheld = {SUPPRESSED_TEXT, str(float(SUPPRESSED)), str(SUPPRESSED)}
    fully = keys[list(columns)].isin(withheld).all(axis=1)
    pupil_fully = fully.groupby(frame[person].astype(str).to_numpy()).all()
    counts = profile.map(profile.value_counts())
    return bool(((counts >= k) | pupil_fully.reindex(profile.index)).all())
