"""Export benchmark: a synthetic study of 100,000 responses x 60 items, exported to every format.

    python benchmarks/export_benchmark.py [--responses 100000] [--db]

Builds the plain input frames in memory (the contract of ``surveyapp.exporting.frames``), runs
the pure export (frames, scores, small-cell protection, codebook), then times each writer and
the zip. Prints seconds and peak memory per step: peak resident memory sampled while the step
runs (and its rise above the level before the step), plus the process's overall peak
(``resource.getrusage``). With ``--db`` the same data also goes through a SQLite database and
the set-based export queries. Target: every format together under 60 s on 2 cores, peak
memory under 2 GB.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from surveyapp.exporting import make_options  # noqa: E402
from surveyapp.exporting.pipeline import build_dataset  # noqa: E402
from surveyapp.exporting.writers import (  # noqa: E402
    write_csv,
    write_dta,
    write_parquet,
    write_sav,
    write_xlsx,
    write_zip,
)
from surveyapp.questionnaire.loader import load_questionnaire  # noqa: E402

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


def synthetic_frames(n: int, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Responses and answers frames (storage contract) for ``n`` responses in 2 waves."""
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
    responses = pd.DataFrame(
        {
            "response_id": np.arange(1, n + 1),
            "participant_id": pd.Series(pupil).map(lambda p: f"p{p:07d}"),
            "arm": np.where(school % 2 == 0, "in_harmony", "comparison"),
            "wave": np.where(wave_pos == 0, "baseline", "followup_1"),
            "wave_position": wave_pos,
            "school": pd.Series(school).map(lambda s: f"S{s + 1:03d}"),
            "class": [f"S{s + 1:03d}-C{c + 1:02d}" for s, c in zip(school, klass, strict=True)],
            "questionnaire_id": "bench",
            "questionnaire_version": "benchmark01",
            "language": rng.choice(["en", "en", "en", "cy", "pl"], n),
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
        vals = pd.Series(values, dtype=object)
        vals[declined] = None
        parts.append(
            pd.DataFrame(
                {"response_id": ids, "question_id": key, "value": vals, "declined": declined}
            )
        )

    add("year_group", rng.integers(3, 10, n), 0.01)
    add("gender", rng.integers(1, 4, n), 0.03)
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
    # Partial responses lack the answers of later pages.
    partial = ~responses["completed_at"].notna().to_numpy()
    late = answers["question_id"].str.startswith(("g", "multi", "number", "free"))
    drop = late & np.isin(answers["response_id"].to_numpy(), ids[partial])
    return responses, answers[~drop].reset_index(drop=True)


# ------------------------------------------------------------------ through a database


def load_through_sqlite(
    responses: pd.DataFrame, answers: pd.DataFrame, questionnaire
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Store the synthetic study in a fresh SQLite database through the real models and
    migrations, then read it back with the export's two set-based queries."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from surveyapp import create_app
    from surveyapp.export_query import load_frames
    from surveyapp.extensions import db
    from surveyapp.models import Answer, Participant, Response, School, SchoolClass, Study, Wave

    folder = Path(tempfile.mkdtemp(prefix="export-bench-db-"))
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite3'}", "TESTING": True}
    )
    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
        with step("SQLite: store"):
            study = Study(key="bench", title="Benchmark")
            db.session.add(study)
            db.session.flush()
            waves = {}
            for position, key in enumerate(["baseline", "followup_1"]):
                wave = Wave(
                    study=study, key=key, label=key, position=position, questionnaire_id="bench"
                )
                db.session.add(wave)
                waves[key] = wave
            db.session.flush()
            school_ids, class_ids = {}, {}
            for code in sorted(set(responses["school"])):
                school = School(study=study, name=f"School {code}", code=code)
                db.session.add(school)
                db.session.flush()
                school_ids[code] = school.id
            for code in sorted(set(responses["class"])):
                klass = SchoolClass(school_id=school_ids[code.split("-")[0]], name=code, code=code)
                db.session.add(klass)
                db.session.flush()
                class_ids[code] = klass.id
            pupils = responses.drop_duplicates("participant_id")
            db.session.execute(
                sa.insert(Participant),
                [
                    {"id": r["participant_id"], "school_id": school_ids[r["school"]], "class_id": class_ids[r["class"]],
                     "number": i, "label": f"{r['class']}-{i}", "arm": r["arm"]}
                    for i, r in enumerate(pupils.to_dict("records"))
                ],
            )  # fmt: skip
            db.session.execute(
                sa.insert(Response),
                [
                    {"id": r["response_id"], "participant_id": r["participant_id"],
                     "wave_id": waves[r["wave"]].id, "arm": r["arm"], "questionnaire_id": "bench",
                     "questionnaire_version": r["questionnaire_version"], "language": r["language"],
                     "started_at": r["started_at"].to_pydatetime(), "updated_at": r["started_at"].to_pydatetime(),
                     "completed_at": None if pd.isna(r["completed_at"]) else r["completed_at"].to_pydatetime()}
                    for r in responses.to_dict("records")
                ],
            )  # fmt: skip
            table = Answer.__table__
            conn = db.session.connection()
            chunk = 200_000
            for start in range(0, len(answers), chunk):
                part = answers.iloc[start : start + chunk]
                conn.execute(
                    table.insert(),
                    [
                        {"response_id": int(rid), "question_id": qid,
                         "value": value, "declined": bool(declined)}
                        for rid, qid, value, declined in zip(
                            part["response_id"], part["question_id"], part["value"], part["declined"], strict=True
                        )
                    ],
                )  # fmt: skip
            db.session.commit()
        with step("SQLite: two queries"):
            study = db.session.execute(db.select(Study).filter_by(key="bench")).scalar_one()
            frames = load_frames(study)
        db.session.remove()
        db.engine.dispose()
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    return frames


# ------------------------------------------------------------------ measuring


def rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class Sampler:
    """Peak resident memory while a step runs (sampled every 5 ms)."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes())
            time.sleep(0.005)

    @contextmanager
    def measure(self):
        self.peak = rss_bytes()
        self._stop.clear()
        thread = threading.Thread(target=self._run, daemon=True)
        thread.start()
        try:
            yield
        finally:
            self._stop.set()
            thread.join()
            self.peak = max(self.peak, rss_bytes())


RESULTS: list[tuple[str, float, int, int]] = []


@contextmanager
def step(name: str):
    sampler = Sampler()
    before = rss_bytes()
    t0 = time.perf_counter()
    with sampler.measure():
        yield
    seconds = time.perf_counter() - t0
    RESULTS.append((name, seconds, sampler.peak, sampler.peak - before))
    mb = 1024 * 1024
    print(
        f"{name:<28} {seconds:8.2f} s   peak RSS {sampler.peak / mb:8.0f} MB"
        f"   (+{(sampler.peak - before) / mb:6.0f} MB)",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--db", action="store_true", help="also load the frames through SQLite")
    parser.add_argument("--keep", action="store_true", help="keep the output folder")
    args = parser.parse_args()

    questionnaire = load_questionnaire("bench.yaml", text=questionnaire_yaml())
    items = sum(
        len(q.rows) if q.type == "grid" else 1
        for q in questionnaire.questions()
        if q.type != "info"
    )
    print(f"{args.responses:,} responses x {items} items, {os.cpu_count()} CPUs", flush=True)
    with step("generate input frames"):
        responses, answers = synthetic_frames(args.responses)
    print(f"  {len(answers):,} answer rows", flush=True)
    if args.db:
        responses, answers = load_through_sqlite(responses, answers, questionnaire)

    options = make_options(
        formats="csv,xlsx,sav,dta,parquet", k=5, time_resolution="term", include_free_text=False
    )
    out = Path(tempfile.mkdtemp(prefix="export-bench-"))
    total = time.perf_counter()
    with step("frames+scores+anonymise"):
        dataset = build_dataset(
            responses,
            answers,
            [questionnaire],
            options,
            "benchmark-key",
            name="bench",
            title="Benchmark",
        )
    wide, variables = dataset.wide, dataset.variables
    print(f"  wide frame {wide.shape[0]:,} x {wide.shape[1]}; {dataset.protection.summary()}")
    files = []
    with step("csv"):
        files.append(write_csv(wide, variables, out / "bench.csv", bom=False))
    with step("xlsx"):
        files.append(write_xlsx(wide, variables, dataset.codebook, out / "bench.xlsx"))
    with step("sav"):
        files.append(write_sav(wide, variables, out / "bench.sav", "en"))
    with step("dta"):
        files.append(write_dta(wide, variables, out / "bench.dta", "en"))
    with step("parquet"):
        files.append(write_parquet(wide, variables, out / "bench.parquet", "en"))
    with step("codebook"):
        files.append(dataset.codebook.write_html(out / "codebook.html"))
        files.append(dataset.codebook.write_csv(out / "codebook.csv"))
        files.append(
            dataset.codebook.write_datapackage(
                out / "datapackage.json", "bench.csv", "utf-8", "bench"
            )
        )
    with step("zip"):
        archive = write_zip(files, out / "bench.zip")
    elapsed = time.perf_counter() - total
    mb = 1024 * 1024
    overall = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(
        f"{'all formats (build..zip)':<28} {elapsed:8.2f} s   process peak RSS {overall / mb:.0f} MB"
    )
    for f in [*files, archive]:
        print(f"  {f.name:<20} {f.stat().st_size / mb:8.1f} MB")
    ok = elapsed < 60 and overall < 2 * 1024 * mb
    print("target (< 60 s, < 2 GB):", "met" if ok else "NOT met")
    if not args.keep:
        for f in out.iterdir():
            f.unlink()
        out.rmdir()
    else:
        print(f"output kept in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
