"""Allocation of units (schools, classes or pupils) to arms. Pure: no Flask, no database.

By school (the default), a pupil takes their class's arm, else their school's arm, both set
when the school or class is added. Randomised designs use stratified permuted blocks: within
each stratum the units, in order, fill blocks of ``block_size`` places that hold every arm in
the design's ratio, shuffled. Every complete block is therefore exactly balanced, and a
stratum is never more than one block out of balance.

The shuffles come from a random stream derived with SHA-256 from the seed and the stratum, not
from Python's ``hash()`` (salted per process) nor from ``random`` (whose algorithms may change
between versions), so an allocation can be reproduced from its seed years later, anywhere.
Units allocated later in the same stratum continue the same sequence (``already``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass


class AllocationError(ValueError):
    """The allocation cannot be made as asked (no seed, a ratio that does not fit a block)."""


@dataclass(frozen=True)
class Unit:
    """Something to allocate: a school, class or pupil, by a stable key, in its stratum."""

    key: str
    stratum: str = ""


@dataclass(frozen=True)
class Assignment:
    """One line of the allocation log."""

    unit: str
    stratum: str
    block: int
    position: int
    arm: str


class StratumRandom:
    """A deterministic random stream for one stratum: SHA-256 over (seed, stratum, counter)."""

    def __init__(self, seed: str, stratum: str) -> None:
        # Length-prefixing keeps ("ab", "c") and ("a", "bc") apart.
        material = f"{len(seed)}:{seed}|{len(stratum)}:{stratum}".encode()
        self._key = hashlib.sha256(material).digest()
        self._counter = 0
        self._pool = b""

    def _bytes(self, n: int) -> bytes:
        while len(self._pool) < n:
            block = hashlib.sha256(self._key + self._counter.to_bytes(8, "big")).digest()
            self._counter += 1
            self._pool += block
        out, self._pool = self._pool[:n], self._pool[n:]
        return out

    def randbelow(self, n: int) -> int:
        """Uniform integer in ``[0, n)`` (rejection sampling, so no modulo bias)."""
        if n <= 0:
            raise ValueError("n must be positive")
        if n == 1:
            return 0
        limit = (1 << 64) - ((1 << 64) % n)
        while True:
            value = int.from_bytes(self._bytes(8), "big")
            if value < limit:
                return value % n

    def shuffle(self, items: list) -> None:
        """Fisher-Yates, in place."""
        for i in range(len(items) - 1, 0, -1):
            j = self.randbelow(i + 1)
            items[i], items[j] = items[j], items[i]


def block_template(weights: Mapping[str, int], block_size: int) -> list[str]:
    """The arms of one block before shuffling: each arm ``weight * block_size / total`` times."""
    total = sum(weights.values())
    if block_size < 2:
        raise AllocationError(f"block size must be at least 2 (got {block_size})")
    if total <= 0 or any(w < 0 for w in weights.values()):
        raise AllocationError("the ratio must give each arm a whole number of places")
    if block_size % total:
        raise AllocationError(
            f"block size {block_size} cannot be split in the ratio "
            f"{':'.join(str(w) for w in weights.values())}; use a multiple of {total}"
        )
    per = block_size // total
    return [arm for arm, weight in weights.items() for _ in range(weight * per)]


def stratum_sequence(
    seed: str, stratum: str, weights: Mapping[str, int], block_size: int
) -> Iterator[tuple[int, int, str]]:
    """The endless sequence of ``(block, position, arm)`` places in one stratum."""
    template = block_template(weights, block_size)
    rng = StratumRandom(seed, stratum)
    block = 0
    while True:
        arms = list(template)
        rng.shuffle(arms)
        for position, arm in enumerate(arms):
            yield block, position, arm
        block += 1


def randomise(
    units: Iterable[Unit],
    *,
    seed: str,
    weights: Mapping[str, int],
    block_size: int,
    already: Mapping[str, int] | None = None,
) -> list[Assignment]:
    """Allocate ``units`` by stratified permuted blocks.

    Within a stratum, units are taken in order of their key, so the result does not depend on
    the order they are passed in. ``already`` gives, per stratum, how many places earlier runs
    used; new units continue from there. Returns one :class:`Assignment` per unit, grouped by
    stratum in stratum order.
    """
    if not seed or not str(seed).strip():
        raise AllocationError("randomised allocation needs a seed")
    already = already or {}
    by_stratum: dict[str, list[Unit]] = {}
    seen: set[str] = set()
    for unit in units:
        if unit.key in seen:
            raise AllocationError(f"unit '{unit.key}' is listed twice")
        seen.add(unit.key)
        by_stratum.setdefault(unit.stratum, []).append(unit)
    out: list[Assignment] = []
    for stratum in sorted(by_stratum):
        members = sorted(by_stratum[stratum], key=lambda u: u.key)
        sequence = stratum_sequence(str(seed), stratum, weights, block_size)
        for _ in range(already.get(stratum, 0)):
            next(sequence)
        for unit in members:
            block, position, arm = next(sequence)
            out.append(Assignment(unit.key, stratum, block, position, arm))
    return out


def stratum_label(values: Mapping[str, object], fields: Sequence[str]) -> str:
    """A stratum's name from its field values, e.g. ``school=S01|year_group=5``.

    Missing values are written empty, so units without a value form a stratum of their own.
    """
    parts = []
    for name in fields:
        value = values.get(name)
        parts.append(f"{name}={'' if value is None else value}")
    return "|".join(parts)


def inherited_arm(class_arm: str | None, school_arm: str | None) -> str | None:
    """Allocation by school: a pupil takes their class's arm, else their school's arm."""
    return class_arm or school_arm
