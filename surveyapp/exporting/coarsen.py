"""Pseudonyms and coarsened times: the per-row anonymisation that needs no neighbours."""

from __future__ import annotations

import hashlib
import hmac
import secrets

import numpy as np
import pandas as pd

PSEUDONYM_LENGTH = 16  # hex characters: 64 bits, collision-free in practice at study sizes


def fresh_key() -> str:
    """A random key for an unlinkable export: its pseudonyms match no other export's."""
    return secrets.token_hex(32)


def pseudonyms(participant_ids: pd.Series, key: str) -> pd.Series:
    """HMAC-SHA256 of each participant id keyed with ``key``, as hex.

    The same key gives the same pseudonym in every wave, so baseline and follow-up pair up;
    without the key the participant id cannot be recovered or tested for.
    """
    secret = key.encode("utf-8")
    unique = pd.unique(participant_ids.astype(str).to_numpy())
    digests = {
        pid: hmac.new(secret, pid.encode("utf-8"), hashlib.sha256).hexdigest()[:PSEUDONYM_LENGTH]
        for pid in unique
    }
    return participant_ids.astype(str).map(digests).astype(object)


_TERM_OF_MONTH = np.array(
    ["", "spring", "spring", "spring", "summer", "summer", "summer", "summer", "summer",
     "autumn", "autumn", "autumn", "autumn"],
    dtype=object,
)  # fmt: skip


def coarsen_times(times: pd.Series, resolution: str) -> pd.Series:
    """Timestamps as a date (``2026-09-14``), ISO week (``2026-W37``) or school term
    (``2026-autumn``: the terms of :mod:`surveyapp.study.terms`). Missing stays missing."""
    stamps = pd.to_datetime(times, errors="coerce")
    present = stamps.notna()
    out = pd.Series(np.full(len(stamps), None, dtype=object), index=times.index)
    if not present.any():
        return out
    valid = stamps[present]
    if resolution == "date":
        text = valid.dt.strftime("%Y-%m-%d")
    elif resolution == "week":
        iso = valid.dt.isocalendar()
        text = iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)
    elif resolution == "term":
        months = valid.dt.month.to_numpy()
        text = (
            valid.dt.year.astype(str) + "-" + pd.Series(_TERM_OF_MONTH[months], index=valid.index)
        )
    else:
        raise ValueError(f"unknown time resolution {resolution!r}")
    out[present] = text.astype(object)
    return out


def duration_minutes(started: pd.Series, completed: pd.Series) -> pd.Series:
    """Whole minutes from start to completion; missing when not completed or negative."""
    delta = pd.to_datetime(completed, errors="coerce") - pd.to_datetime(started, errors="coerce")
    minutes = (delta.dt.total_seconds() / 60).round()
    return minutes.where(minutes >= 0).astype("Int64")
