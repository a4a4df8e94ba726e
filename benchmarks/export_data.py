"""The export benchmark's synthetic study: a 60-item questionnaire and its response frames.

Shared by benchmarks/export_benchmark.py's in-memory run and its database child process,
so both export the same study.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from surveyapp.questionnaire.loader import load_questionnaire

N_LIKERT = 40  # 8 constructs of 5 items
N_GRID_ROWS = 10  # 2 grids of 5 rows
N_MULTI = 3  # 4 options each
# + year_group, gender (quasi-identifying), 2 more single choice, 2 numbers, 1 text = 60 items


def questionnaire_yaml() -> str:
    lines = [
        "id: bench",
        "title: {en: Benchmark, cy: Meincnod}",
        "languages: [en, cy]",
        "scales:",
        "  agree5:",
        "    options:",
    ]
    for code, label in enumerate(["Never", "Rarely", "Sometimes", "Often", "Always"], start=1):
        lines.append(f"      - {{code: {code}, label: {{en: {label}, cy: {label} cy}}}}")
    lines.append("constructs:")
    for c in range(8):
        items = ", ".join(f"l{c * 5 + i + 1:02d}" for i in range(5))
        lines += [
            f"  construct_{c + 1}:",
            f"    label: {{en: Construct {c + 1}, cy: Lluniad {c + 1}}}",
            f"    items: [{items}]",
            f"    reverse: [l{c * 5 + 5:02d}]",
            "    min_answered: 3",
        ]
    lines += ["pages:", "  - id: p_about", "    questions:"]
    lines += [
        "      - id: year_group",
        "        type: single_choice",
        "        identifying: quasi",
        "        text: {en: Year group, cy: Blwyddyn}",
        "        choices: [" + ", ".join(f"{{code: {y}, label: Y{y}}}" for y in range(3, 10)) + "]",
        "      - id: gender",
        "        type: single_choice",
        "        identifying: quasi",
        "        text: {en: Gender, cy: Rhyw}",
        "        choices: [{code: 1, label: Girl}, {code: 2, label: Boy}, {code: 3, label: Other}]",
    ]
    for s in range(2):
        lines += [
            f"      - id: choice_{s + 1}",
            "        type: single_choice",
            f"        text: {{en: Choice {s + 1}, cy: Dewis {s + 1}}}",
            "        choices: [{code: 1, label: A}, {code: 2, label: B}, {code: 3, label: C}]",
        ]
    for p in range(8):
        lines += [f"  - id: p_likert_{p + 1}", "    questions:"]
        for i in range(5):
            n = p * 5 + i + 1
            lines.append(
                f"      - {{id: l{n:02d}, type: likert, scale: agree5, "
                f"text: {{en: Statement {n}, cy: Datganiad {n}}}}}"
            )
    lines += ["  - id: p_grids", "    questions:"]
    for g in range(2):
        lines += [
            f"      - id: grid_{g + 1}",
            "        type: grid",
            "        scale: agree5",
            f"        text: {{en: Grid {g + 1}, cy: Grid {g + 1}}}",
            "        rows:",
        ]
        for r in range(5):
            lines.append(f"          - {{id: g{g + 1}_r{r + 1}, text: Row {r + 1}}}")
    lines += ["  - id: p_more", "    questions:"]
    for m in range(N_MULTI):
        lines += [
            f"      - id: multi_{m + 1}",
            "        type: multi_choice",
            f"        text: {{en: Multi {m + 1}, cy: Aml {m + 1}}}",
            "        choices: ["
            + ", ".join(f"{{code: {o}, label: Opt {o}}}" for o in range(1, 5))
            + "]",
        ]
    for n in range(2):
        lines.append(
            f"      - {{id: number_{n + 1}, type: number, min: 0, max: 300, text: Number {n + 1}}}"
        )
    lines.append("      - {id: free_text, type: text, text: Anything else?}")
    return "\n".join(lines) + "\n"


def bench_questionnaire():
    return load_questionnaire("bench.yaml", text=questionnaire_yaml())


def synthetic_frames(n: int, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Responses and answers frames for ``n`` responses in 2 waves, as the database path
    delivers them: numbers in the float ``number`` column, other values decoded in ``value``."""
    rng = np.random.default_rng(seed)
    n_pupils = (n + 1) // 2
    pupil = np.arange(n) % n_pupils
    wave_pos = (np.arange(n) >= n_pupils).astype(int)
    school = pupil % 120
    klass = (pupil // 120) % 4
    start = np.datetime64("2026-09-14T09:00:00") + (
        rng.integers(0, 60 * 24 * 60, n) + wave_pos * 240 * 24 * 60
    ).astype("timedelta64[m]")
    complete = rng.random(n) < 0.9
    # What a pupil is stays with the pupil: a class is one year group (one up at follow-up),
    # gender and the language they answer in are the pupil's own.
    language = rng.choice(["en", "cy", "pl"], n_pupils, p=[0.8, 0.1, 0.1]).astype(object)
    year_group = 3 + (school + klass) % 6 + wave_pos
    gender = rng.choice([1, 2, 3], n_pupils, p=[0.49, 0.49, 0.02])[pupil]
    responses = pd.DataFrame(
        {
            "response_id": np.arange(1, n + 1),
            "participant_id": pd.Series(pupil).map(lambda p: f"p{p:07d}").astype(object),
            "arm": np.where(school % 2 == 0, "in_harmony", "comparison").astype(object),
            "wave": np.where(wave_pos == 0, "baseline", "followup_1").astype(object),
            "wave_position": wave_pos,
            "school": pd.Series(school).map(lambda s: f"S{s + 1:03d}").astype(object),
            "class": np.array(
                [f"S{s + 1:03d}-C{c + 1:02d}" for s, c in zip(school, klass, strict=True)],
                dtype=object,
            ),
            "questionnaire_id": "bench",
            "questionnaire_version": "benchmark01",
            "language": language[pupil],
            "started_at": start,
            "completed_at": np.where(
                complete,
                start + rng.integers(5, 40, n).astype("timedelta64[m]"),
                np.datetime64("NaT"),
            ),
        }
    )
    ids = responses["response_id"].to_numpy()
    parts = []

    def add(key: str, values: np.ndarray | list, declined_share: float = 0.02) -> None:
        declined = rng.random(n) < declined_share
        if isinstance(values, np.ndarray) and values.dtype.kind in "iuf":
            number = values.astype(np.float64)
            number[declined] = np.nan
            value = np.full(n, None, dtype=object)
        else:
            number = np.full(n, np.nan)
            value = pd.Series(list(values), dtype=object).to_numpy().copy()
            value[declined] = None
        parts.append(
            pd.DataFrame(
                {
                    "response_id": ids,
                    "question_id": key,
                    "number": number,
                    "value": value,
                    "declined": declined,
                }
            )
        )

    add("year_group", year_group, 0.01)
    add("gender", gender, 0.03)
    for s in range(2):
        add(f"choice_{s + 1}", rng.integers(1, 4, n))
    for i in range(N_LIKERT):
        add(f"l{i + 1:02d}", rng.integers(1, 6, n))
    for g in range(2):
        for r in range(5):
            add(f"g{g + 1}_r{r + 1}", rng.integers(1, 6, n))
    for m in range(N_MULTI):
        picks = rng.random((n, 4)) < 0.4
        add(f"multi_{m + 1}", [[o + 1 for o in range(4) if row[o]] for row in picks])
    for k in range(2):
        add(f"number_{k + 1}", rng.integers(0, 300, n))
    add("free_text", np.array(["I like the orchestra"] * n, dtype=object), 0.2)
    answers = pd.concat(parts, ignore_index=True)
    answers["question_id"] = answers["question_id"].astype("category")
    # Partial responses lack the answers of later pages.
    partial = ~responses["completed_at"].notna().to_numpy()
    late = answers["question_id"].astype(str).str.startswith(("g", "multi", "number", "free"))
    drop = late.to_numpy() & np.isin(answers["response_id"].to_numpy(), ids[partial])
    return responses, answers[~drop].reset_index(drop=True)
