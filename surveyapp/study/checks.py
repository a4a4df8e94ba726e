"""Rules that relate one part of a study file to another.

Each problem carries the path of the key it is about, so the loader can report it as
``file:line:column``. All problems are collected, not just the first.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import STRATUM_FIELDS, StudyDesign


@dataclass(frozen=True)
class Issue:
    path: tuple
    message: str
    hint: str = ""


def _duplicates(ids: list[str]) -> dict[int, str]:
    """Index -> id for every repeat of an id seen earlier."""
    seen: set[str] = set()
    repeats = {}
    for index, value in enumerate(ids):
        if value in seen:
            repeats[index] = value
        seen.add(value)
    return repeats


def check_design(design: StudyDesign) -> list[Issue]:
    """Every cross-reference problem in ``design`` (empty when the design is consistent)."""
    issues: list[Issue] = []
    issues += _check_arms(design)
    issues += _check_waves(design)
    issues += _check_allocation(design)
    issues += _check_anonymisation(design)
    return issues


def _check_arms(design: StudyDesign) -> list[Issue]:
    return [
        Issue(("arms", index, "id"), f"duplicate arm id '{arm_id}'", "every arm needs its own id")
        for index, arm_id in _duplicates(design.arm_ids()).items()
    ]


def _check_waves(design: StudyDesign) -> list[Issue]:
    issues = [
        Issue(
            ("waves", index, "id"), f"duplicate wave id '{wave_id}'", "every wave needs its own id"
        )
        for index, wave_id in _duplicates(design.wave_ids()).items()
    ]
    for index, wave in enumerate(design.waves):
        if wave.opens and wave.closes and wave.closes < wave.opens:
            issues.append(
                Issue(
                    ("waves", index, "closes"),
                    f"wave '{wave.id}' closes ({wave.closes.isoformat()}) before it opens "
                    f"({wave.opens.isoformat()})",
                    "the closing date must be on or after the opening date",
                )
            )
    return issues


def _check_allocation(design: StudyDesign) -> list[Issue]:
    allocation = design.allocation
    arms = design.arm_ids()
    base = ("allocation",)
    issues: list[Issue] = []
    if allocation.method == "by_school":
        # Keys that only randomisation reads are a sign the author meant to randomise.
        only_randomised = {
            "seed": allocation.seed is not None,
            "strata": bool(allocation.strata),
            "ratio": allocation.ratio is not None,
            "level": allocation.level != "school",
        }
        for key, present in only_randomised.items():
            if present:
                issues.append(
                    Issue(
                        (*base, key),
                        f"'{key}' is only used by randomised allocation",
                        "set 'method: randomised' or remove it",
                    )
                )
        return issues

    if len(arms) < 2:
        issues.append(
            Issue(("arms",), "randomised allocation needs at least two arms", "add another arm")
        )
    if not allocation.seed or not allocation.seed.strip():
        issues.append(
            Issue(
                (*base, "method"),
                "randomised allocation needs a 'seed'",
                "add e.g. 'seed: \"ih-2026\"' so the allocation can be reproduced",
            )
        )
    allowed = STRATUM_FIELDS[allocation.level]
    for index, name in enumerate(allocation.strata):
        if name not in allowed:
            issues.append(
                Issue(
                    (*base, "strata", index),
                    f"unknown stratum field '{name}' for allocation by {allocation.level}",
                    f"one of: {', '.join(allowed)}",
                )
            )
    for index, name in _duplicates(allocation.strata).items():
        issues.append(Issue((*base, "strata", index), f"stratum field '{name}' is listed twice"))

    weights_ok = True
    if allocation.ratio is not None:
        for arm_id, weight in allocation.ratio.items():
            if arm_id not in arms:
                weights_ok = False
                issues.append(
                    Issue(
                        (*base, "ratio", arm_id),
                        f"ratio names unknown arm '{arm_id}'",
                        f"one of: {', '.join(arms)}",
                    )
                )
            elif weight < 1:
                weights_ok = False
                issues.append(
                    Issue(
                        (*base, "ratio", arm_id),
                        f"ratio for arm '{arm_id}' must be at least 1 (got {weight})",
                        "give each arm a whole number of places per block",
                    )
                )
        for arm_id in arms:
            if arm_id not in allocation.ratio:
                weights_ok = False
                issues.append(
                    Issue(
                        (*base, "ratio"),
                        f"ratio does not give arm '{arm_id}'",
                        "list every arm, e.g. 'ratio: {in_harmony: 1, comparison: 1}'",
                    )
                )
    if allocation.block_size < 2:
        issues.append(
            Issue(
                (*base, "block_size"),
                f"block_size must be at least 2 (got {allocation.block_size})",
                "a block must hold at least one unit of each arm",
            )
        )
    elif weights_ok and arms:
        total = sum(allocation.weights(arms).values())
        if total and allocation.block_size % total:
            issues.append(
                Issue(
                    (*base, "block_size"),
                    f"block_size {allocation.block_size} cannot be split between the arms "
                    f"in the ratio",
                    f"use a multiple of {total}",
                )
            )
    return issues


def _check_anonymisation(design: StudyDesign) -> list[Issue]:
    k = design.anonymisation.k
    if k < 2:
        return [
            Issue(
                ("anonymisation", "k"),
                f"k must be at least 2 (got {k})",
                "k is the smallest group an export may show; 5 is usual",
            )
        ]
    return []
