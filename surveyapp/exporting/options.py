"""What an export should contain: the researcher's choices on top of the study's policy.

The study file's anonymisation policy gives the defaults; an export may choose differently,
except that it can only *raise* k, never lower it below the study's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

FORMATS = ("csv", "xlsx", "sav", "dta", "parquet")
FORMAT_NAMES = {
    "csv": "CSV (UTF-8)",
    "xlsx": "Excel (.xlsx)",
    "sav": "SPSS (.sav)",
    "dta": "Stata (.dta)",
    "parquet": "Parquet",
}
TIME_RESOLUTIONS = ("date", "week", "term")
MIN_K = 2


class ExportOptionsError(ValueError):
    """Options that cannot be honoured; the message says which and why."""


@dataclass(frozen=True)
class ExportOptions:
    formats: tuple[str, ...] = ("csv",)
    waves: tuple[str, ...] = ()  # empty: every wave
    arms: tuple[str, ...] = ()  # empty: every arm
    k: int = 5
    time_resolution: str = "term"
    include_free_text: bool = False
    unlinkable: bool = False
    language: str = "en"
    bom: bool = False
    long_format: bool = False
    zip: bool = False
    # Columns treated as quasi-identifiers besides school, class, language and every question
    # marked ``identifying: quasi``.
    quasi_identifiers: tuple[str, ...] = field(default_factory=tuple)

    def as_record(self) -> dict[str, Any]:
        """Plain JSON for the export log."""
        data = asdict(self)
        return {
            key: list(value) if isinstance(value, tuple) else value for key, value in data.items()
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ExportOptions:
        """The options :meth:`as_record` wrote (other keys of the log, such as ``files``,
        are ignored); checked again, since a queued export runs later."""
        fields = cls.__dataclass_fields__
        values = {
            key: tuple(value) if isinstance(value, list) else value
            for key, value in record.items()
            if key in fields
        }
        options = cls(**values)
        check_options(options)
        return options


def _names(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    return tuple(dict.fromkeys(v.strip() for v in value if v and v.strip()))


def make_options(policy: Any | None = None, **choices: Any) -> ExportOptions:
    """Options from the study's anonymisation ``policy`` overridden by ``choices``.

    ``choices`` that are None keep the policy's value. Raises ExportOptionsError.
    """
    base = ExportOptions()
    if policy is not None:
        base = replace(
            base,
            k=int(policy.k),
            time_resolution=policy.time_resolution,
            include_free_text=bool(policy.include_free_text),
            unlinkable=bool(policy.unlinkable),
            quasi_identifiers=tuple(policy.quasi_identifiers),
        )
    given = {key: value for key, value in choices.items() if value is not None}
    unknown = set(given) - set(ExportOptions.__dataclass_fields__)
    if unknown:
        raise ExportOptionsError(f"unknown export option(s): {', '.join(sorted(unknown))}")
    for key in ("formats", "waves", "arms"):
        if key in given:
            given[key] = _names(given[key])
    if "quasi_identifiers" in given:
        given["quasi_identifiers"] = tuple(
            dict.fromkeys(base.quasi_identifiers + _names(given["quasi_identifiers"]))
        )
    options = replace(base, **given)
    check_options(options, minimum_k=base.k if policy is not None else MIN_K)
    return options


def check_options(options: ExportOptions, minimum_k: int = MIN_K) -> None:
    if not options.formats:
        raise ExportOptionsError("choose at least one format")
    bad = [f for f in options.formats if f not in FORMATS]
    if bad:
        raise ExportOptionsError(
            f"unknown format(s) {', '.join(bad)}; choose from {', '.join(FORMATS)}"
        )
    if options.time_resolution not in TIME_RESOLUTIONS:
        raise ExportOptionsError(
            f"unknown time resolution '{options.time_resolution}'; "
            f"choose one of {', '.join(TIME_RESOLUTIONS)}"
        )
    if not isinstance(options.k, int) or options.k < max(MIN_K, minimum_k):
        raise ExportOptionsError(
            f"k = {options.k} is too small: the study requires at least {max(MIN_K, minimum_k)} "
            "(an export may raise k, not lower it)"
        )
