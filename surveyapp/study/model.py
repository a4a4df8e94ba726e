"""Typed study design: arms, waves, allocation and anonymisation policy.

The pydantic model checks the shape of a study file (types, unknown keys); the rules that
relate one part of the file to another (duplicate ids, dates, ratio and strata naming arms and
fields) live in :mod:`surveyapp.study.checks` so each problem can point at its own line.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from ..questionnaire.model import Text, VariableName

METHODS = ("by_school", "randomised")
LEVELS = ("school", "class", "pupil")

# What a stratum may be made of at each allocation level. ``stratum`` is the school's own
# stratum label (e.g. a region or deprivation band, set when the school is added or imported).
# A unit cannot be stratified by itself or by something below it.
STRATUM_FIELDS: dict[str, tuple[str, ...]] = {
    "school": ("stratum",),
    "class": ("school", "stratum", "year_group"),
    "pupil": ("school", "class", "stratum", "year_group"),
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Arm(Strict):
    id: VariableName
    label: Text


class WaveDesign(Strict):
    id: VariableName
    label: Text
    opens: date | None = None
    closes: date | None = None
    questionnaire: VariableName


class Allocation(Strict):
    # by_school: the school's arm, set when the school is added or imported.
    # randomised: seeded, stratified permuted blocks at school, class or pupil level.
    method: Literal["by_school", "randomised"] = "by_school"
    level: Literal["school", "class", "pupil"] = "school"
    seed: str | None = None
    # Range checks (at least 2, a multiple of the ratio) are in checks.py, with positions.
    block_size: int = 4
    strata: list[str] = Field(default_factory=list)
    ratio: dict[str, int] | None = None

    @field_validator("seed", mode="before")
    @classmethod
    def _seed_as_text(cls, value: Any) -> Any:
        # ``seed: 20260901`` is read as a number; the seed is used as text either way.
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    @property
    def randomised(self) -> bool:
        return self.method == "randomised"

    def weights(self, arm_ids: list[str]) -> dict[str, int]:
        """Arm -> share of each block (1 each unless a ratio is given)."""
        if self.ratio:
            return {arm: self.ratio.get(arm, 0) for arm in arm_ids}
        return dict.fromkeys(arm_ids, 1)


class Anonymisation(Strict):
    # Smallest group an export may show; checked (at least 2) in checks.py.
    k: int = 5
    time_resolution: Literal["date", "week", "term"] = "term"
    include_free_text: bool = False
    unlinkable: bool = False
    quasi_identifiers: list[str] = Field(default_factory=list)


class StudyDesign(Strict):
    id: VariableName
    title: Text
    arms: list[Arm] = Field(min_length=1)
    waves: list[WaveDesign] = Field(min_length=1)
    allocation: Allocation = Allocation()
    anonymisation: Anonymisation = Anonymisation()
    # The school-audience questionnaire for provision and participation returns.
    provision_questionnaire: VariableName | None = None

    # Set by the loader: line and column of every key, for cross-file checks (catalog.py).
    _positions: dict = PrivateAttr(default_factory=dict)
    _source: str = PrivateAttr(default="")
    _version: str = PrivateAttr(default="")

    @property
    def source(self) -> str:
        return self._source

    @property
    def version(self) -> str:
        return self._version

    def position(self, path: tuple) -> tuple[int, int]:
        """Line and column (1-based) of the deepest known key on ``path`` in the study file."""
        for end in range(len(path), -1, -1):
            pos = self._positions.get(tuple(path[:end]))
            if pos:
                return pos
        return (1, 1)

    def arm_ids(self) -> list[str]:
        return [a.id for a in self.arms]

    def arm(self, arm_id: str) -> Arm:
        for a in self.arms:
            if a.id == arm_id:
                return a
        raise KeyError(arm_id)

    def wave_ids(self) -> list[str]:
        return [w.id for w in self.waves]

    def wave(self, wave_id: str) -> WaveDesign:
        for w in self.waves:
            if w.id == wave_id:
                return w
        raise KeyError(wave_id)

    def period(self) -> tuple[date | None, date | None]:
        """First opening and last closing date of any wave (None where no wave gives one)."""
        opens = [w.opens for w in self.waves if w.opens]
        closes = [w.closes for w in self.waves if w.closes]
        return (min(opens) if opens else None, max(closes) if closes else None)
