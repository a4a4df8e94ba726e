"""Typed study design: arms, waves, allocation and anonymisation policy."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..questionnaire.model import Text, VariableName


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
    method: Literal["by_school", "randomised"] = "by_school"
    level: Literal["school", "class", "pupil"] = "school"
    seed: str | None = None
    block_size: int = Field(default=4, ge=2)
    strata: list[str] = Field(default_factory=list)
    ratio: dict[str, int] | None = None


class Anonymisation(Strict):
    k: int = Field(default=5, ge=2)
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
    provision_questionnaire: VariableName | None = None

    def arm_ids(self) -> list[str]:
        return [a.id for a in self.arms]

    def wave(self, wave_id: str) -> WaveDesign:
        for w in self.waves:
            if w.id == wave_id:
                return w
        raise KeyError(wave_id)
