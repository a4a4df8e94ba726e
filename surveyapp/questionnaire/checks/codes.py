"""The codes and ranges an answer can take: choices, scales and number ranges."""

from __future__ import annotations

import difflib
from typing import Any

from ...yamlsource import Path_
from ..model import Choice, Scale
from .base import Answerable, CheckerBase, model_fields, show


class CodeChecks(CheckerBase):
    """Choice codes (unique per list), scale references and number ranges."""

    def check_choices(self, path: Path_, options: Any, owner: str) -> tuple[int, ...]:
        if not isinstance(options, list):
            return ()
        codes: list[int] = []
        seen: dict[int, int] = {}
        for index, option in enumerate(options):
            if not isinstance(option, dict):
                continue
            self.check_keys((*path, index), option, model_fields(Choice), "a choice")
            self.check_texts((*path, index), option, "choice")
            code = option.get("code")
            if not isinstance(code, int) or isinstance(code, bool):
                continue
            if code in seen:
                self.add(
                    (*path, index, "code"),
                    f"duplicate code {code} in {owner}: already used at line {seen[code]}",
                    "every choice needs its own code",
                )
                continue
            seen[code] = self.source.position((*path, index, "code"))[0]
            codes.append(code)
        return tuple(codes)

    def check_scales(self, scales: Any) -> None:
        if not isinstance(scales, dict):
            return
        for name, scale in scales.items():
            if not isinstance(scale, dict):
                continue
            path: Path_ = ("scales", name)
            self.check_keys(path, scale, model_fields(Scale), "a scale")
            self.scale_codes[str(name)] = self.check_choices(
                (*path, "options"), scale.get("options"), f"scale '{name}'"
            )

    def check_scale_reference(self, path: Path_, scale: Any) -> str | None:
        if not isinstance(scale, str):
            return None
        if scale in self.scale_codes:
            return scale
        known = sorted(self.scale_codes)
        close = difflib.get_close_matches(scale, known, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else f"defined scales: {', '.join(known)}"
        if not known:
            hint = "define it under scales: at the top of the file"
        self.add((*path, "scale"), f"unknown scale '{scale}'", hint)
        return None

    def check_number(self, path: Path_, question: dict, item: Answerable) -> None:
        low, high = question.get("min"), question.get("max")
        numeric = (int, float)
        item.integer = question.get("integer", True) is not False
        if isinstance(low, numeric) and not isinstance(low, bool):
            item.minimum = low
        if isinstance(high, numeric) and not isinstance(high, bool):
            item.maximum = high
        if item.minimum is not None and item.maximum is not None and item.minimum > item.maximum:
            self.add(
                (*path, "min"),
                f"min {show(item.minimum)} is greater than max {show(item.maximum)}",
                "swap them, min must be at most max",
            )
