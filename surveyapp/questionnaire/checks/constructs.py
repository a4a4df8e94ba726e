"""Constructs: their items exist, can be scored together, and the scoring rules fit."""

from __future__ import annotations

from typing import Any

from ...yamlsource import Path_
from ..model import Construct
from .base import CheckerBase, model_fields


class ConstructChecks(CheckerBase):
    """The items, reverse items and min_answered of each construct."""

    def check_constructs(self, constructs: Any) -> None:
        if not isinstance(constructs, dict):
            return
        for name, construct in constructs.items():
            path: Path_ = ("constructs", name)
            self.check_name(path, name, "construct")
            if not isinstance(construct, dict):
                continue
            self.check_keys(path, construct, model_fields(Construct), "a construct")
            self.check_texts(path, construct, "construct")
            items = construct.get("items")
            if items is None or items == []:
                self.add(
                    (*path, "items") if "items" in construct else path,
                    f"construct '{name}' has no items",
                    "list the likert questions or grid rows it scores under items:",
                )
                continue
            if not isinstance(items, list):
                continue
            ranges: dict[tuple[int, int], str] = {}
            seen: set[str] = set()
            for index, item_id in enumerate(items):
                if not isinstance(item_id, str):
                    continue
                where = (*path, "items", index)
                if item_id in seen:
                    self.add(where, f"item '{item_id}' is listed twice in construct '{name}'")
                    continue
                seen.add(item_id)
                item = self.answerables.get(item_id)
                if item is None:
                    self.add(
                        where,
                        f"construct '{name}' has unknown item '{item_id}'",
                        self.suggest(item_id, "ids of likert questions or grid rows"),
                    )
                    continue
                if item.kind not in {"likert", "grid_row"}:
                    self.add(
                        where,
                        f"construct item '{item_id}' is a {item.kind} question",
                        "construct items must be likert questions or grid rows",
                    )
                    continue
                if item.codes:
                    span = (min(item.codes), max(item.codes))
                    ranges.setdefault(span, item_id)
                    if len(ranges) > 1 and ranges.get(span) == item_id:
                        other_span, other = next(iter(ranges.items()))
                        self.add(
                            where,
                            f"construct '{name}' mixes scales of different ranges: "
                            f"'{item_id}' is {span[0]}-{span[1]}, "
                            f"'{other}' is {other_span[0]}-{other_span[1]}",
                            "score together only items on scales with the same codes",
                        )
            reverse = construct.get("reverse")
            if isinstance(reverse, list):
                for index, item_id in enumerate(reverse):
                    if isinstance(item_id, str) and item_id not in seen:
                        self.add(
                            (*path, "reverse", index),
                            f"reverse item '{item_id}' is not among the items of construct "
                            f"'{name}'",
                            "add it to items, or remove it from reverse",
                        )
            minimum = construct.get("min_answered")
            if (
                isinstance(minimum, int)
                and not isinstance(minimum, bool)
                and not 1 <= minimum <= len(items)
            ):
                self.add(
                    (*path, "min_answered"),
                    f"min_answered {minimum} is impossible for {len(items)} items",
                    f"a number from 1 to {len(items)}",
                )
