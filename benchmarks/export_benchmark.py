"""Export benchmark: a synthetic study of 100,000 responses x 60 items, exported to every format.

    python benchmarks/export_benchmark.py                   # the pure package, frames in memory
    python benchmarks/export_benchmark.py --db sqlite       # through a SQLite database
    python benchmarks/export_benchmark.py --db postgresql   # through PostgreSQL
    make bench-export                                       # all three

Without ``--db`` the plain input frames are generated in memory and the pure export runs on
them. With ``--db`` a child process generates the same study and stores it with bulk inserts
(``executemany`` on SQLite, ``COPY`` on PostgreSQL, into a database of its own that is dropped
afterwards); then this process, which never held the generated data, runs the real
``export_study`` (the two queries, the build, every writer, the zip, the checksums and the
export log) exactly as the CLI does.

Prints a table of seconds (wall clock and CPU of this process) and peak memory per step:
peak resident memory sampled while the step runs, and the process's overall peak
(``resource.getrusage``). A shared machine makes wall-clock times noisy; the load average is
printed with them. Target: every format together under 60 s on 2 cores, peak memory under
2 GB.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.export_data import bench_questionnaire, synthetic_frames  # noqa: E402
from surveyapp.exporting import make_options  # noqa: E402
from surveyapp.exporting.pipeline import build_dataset, write_dataset  # noqa: E402

FORMATS = "csv,xlsx,sav,dta,parquet"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DATABASE = "surveyapp_bench_export"
STUDY_KEY = "bench"


# ------------------------------------------------------------------ measuring


def rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def peak_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@dataclass
class StepResult:
    name: str
    wall: float
    cpu: float
    peak: int
    rise: int


class Recorder:
    """Times steps: wall clock, CPU of this process (every thread), and peak resident memory
    sampled every 5 ms while the step runs."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.results: list[StepResult] = []

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        before = rss_bytes()
        peak = [before]
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], rss_bytes())
                time.sleep(0.005)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            stop.set()
            sampler.join()
            peak[0] = max(peak[0], rss_bytes())
            result = StepResult(self.prefix + name, wall, cpu, peak[0], peak[0] - before)
            self.results.append(result)
            print(_line(result), flush=True)


MB = 1024 * 1024


def _line(r: StepResult) -> str:
    return f"  {r.name:<40} {r.wall:8.2f} {r.cpu:8.2f} {r.peak / MB:9.0f} {r.rise / MB:+9.0f}"


def _header(title: str) -> str:
    return f"{title}\n  {'step':<40} {'wall s':>8} {'CPU s':>8} {'peak MB':>9} {'rise MB':>9}"


def load_average() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


# ------------------------------------------------------------------ the pure package


def run_pure(n: int, out: Path) -> tuple[Recorder, float]:
    recorder = Recorder()
    print(_header("pure package (frames in memory)"), flush=True)
    with recorder.step("generate input frames"):
        responses, answers = synthetic_frames(n)
    options = make_options(formats=FORMATS, k=5, time_resolution="term", zip=True)
    started = time.perf_counter()
    dataset = build_dataset(
        responses,
        answers,
        [bench_questionnaire()],
        options,
        "benchmark-key",
        name="bench",
        title="Benchmark",
        timer=recorder.step,
    )
    del responses, answers
    write_dataset(dataset, out, options, timer=recorder.step)
    return recorder, time.perf_counter() - started


# ------------------------------------------------------------------ through a database


def database_url(kind: str, folder: Path, pg_admin_url: str) -> str:
    from surveyapp.config import normalise_database_url

    if kind == "sqlite":
        return f"sqlite:///{folder / 'bench.sqlite3'}"
    return normalise_database_url(pg_admin_url).rsplit("/", 1)[0] + f"/{PG_DATABASE}"


def _pg_admin(pg_admin_url: str, *statements: str) -> None:
    import sqlalchemy as sa

    from surveyapp.config import normalise_database_url

    engine = sa.create_engine(normalise_database_url(pg_admin_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for statement in statements:
            conn.execute(sa.text(statement))
    engine.dispose()


def create_database(kind: str, pg_admin_url: str) -> None:
    if kind == "postgresql":
        _pg_admin(
            pg_admin_url,
            f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)',
            f'CREATE DATABASE "{PG_DATABASE}"',
        )


def drop_database(kind: str, pg_admin_url: str, folder: Path) -> None:
    if kind == "postgresql":
        _pg_admin(pg_admin_url, f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()


def _stamps(values: pd.Series) -> pd.Series:
    """Timestamps as SQLAlchemy stores them in SQLite (and PostgreSQL parses)."""
    return pd.to_datetime(values).dt.strftime("%Y-%m-%d %H:%M:%S.%f").astype(object)


def _json_texts(answers: pd.DataFrame) -> np.ndarray:
    """The stored JSON text of every answer (None for declined: SQL NULL)."""
    texts = np.full(len(answers), None, dtype=object)
    number = answers["number"].to_numpy()
    hit = ~np.isnan(number)
    texts[hit] = number[hit].astype(np.int64).astype(str)
    values = answers["value"].to_numpy(dtype=object)
    rest = np.flatnonzero(~hit & pd.notna(values))
    texts[rest] = [json.dumps(v) for v in values[rest]]
    return texts


def store_study(url: str, n: int) -> list[StepResult]:
    """In a child process: generate the study and store it with bulk inserts."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from surveyapp import create_app
    from surveyapp.extensions import db
    from surveyapp.models import School, SchoolClass, Study, Wave

    recorder = Recorder("db: ")
    with recorder.step("generate input frames"):
        responses, answers = synthetic_frames(n)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        with recorder.step("schema (migrations)"):
            upgrade(directory=str(ROOT / "migrations"))
        with recorder.step("store (bulk insert)"):
            study = Study(key=STUDY_KEY, title="Benchmark")
            db.session.add(study)
            waves = {
                key: Wave(study=study, key=key, label=key, position=i, questionnaire_id="bench")
                for i, key in enumerate(["baseline", "followup_1"])
            }
            schools = {
                code: School(study=study, name=f"School {code}", code=code)
                for code in sorted(set(responses["school"]))
            }
            db.session.add_all([*waves.values(), *schools.values()])
            db.session.flush()
            classes = {
                code: SchoolClass(school_id=schools[code.split("-")[0]].id, name=code, code=code)
                for code in sorted(set(responses["class"]))
            }
            db.session.add_all(classes.values())
            db.session.commit()
            now = "2026-09-14 09:00:00.000000"
            pupils = responses.drop_duplicates("participant_id")
            tables = {
                "participant": pd.DataFrame(
                    {
                        "id": pupils["participant_id"].to_numpy(),
                        "school_id": pupils["school"].map({c: s.id for c, s in schools.items()}),
                        "class_id": pupils["class"].map({c: k.id for c, k in classes.items()}),
                        "number": np.arange(1, len(pupils) + 1),
                        "label": pupils["participant_id"].to_numpy(),
                        "arm": pupils["arm"].to_numpy(),
                        "created_at": now,
                    }
                ),
                "response": pd.DataFrame(
                    {
                        "id": responses["response_id"],
                        "participant_id": responses["participant_id"],
                        "wave_id": responses["wave"].map({k: w.id for k, w in waves.items()}),
                        "arm": responses["arm"],
                        "questionnaire_id": responses["questionnaire_id"],
                        "questionnaire_version": responses["questionnaire_version"],
                        "language": responses["language"],
                        "pages_done": 0,
                        "pages_total": 0,
                        "started_at": _stamps(responses["started_at"]),
                        "updated_at": _stamps(responses["started_at"]),
                        "completed_at": _stamps(responses["completed_at"]),
                    }
                ),
                "answer": pd.DataFrame(
                    {
                        "response_id": answers["response_id"].to_numpy(),
                        "question_id": answers["question_id"].astype(str).to_numpy(),
                        "value": _json_texts(answers),
                        "declined": answers["declined"].to_numpy(),
                        "updated_at": now,
                    }
                ),
            }
            del responses, answers
            raw = db.engine.raw_connection()
            try:
                cursor = raw.cursor()
                for name, table in tables.items():
                    if db.engine.dialect.name == "sqlite":
                        _insert_sqlite(cursor, name, table)
                    else:
                        _copy_postgresql(cursor, name, table)
                raw.commit()
            finally:
                raw.close()
        if db.engine.dialect.name == "postgresql":
            # Autovacuum analyses a table after a bulk load; done at once here so the
            # planner's statistics do not depend on when the benchmark runs.
            with recorder.step("analyse"), db.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("ANALYZE"))
        db.engine.dispose()
    return recorder.results


def _insert_sqlite(cursor, name: str, table: pd.DataFrame) -> None:
    rows = table.astype(object).where(table.notna(), None)
    if "declined" in rows:
        rows["declined"] = table["declined"].astype(int)
    marks = ", ".join("?" * len(rows.columns))
    cursor.executemany(
        f"INSERT INTO {name} ({', '.join(rows.columns)}) VALUES ({marks})",  # noqa: S608 - our names
        rows.itertuples(index=False, name=None),
    )


def _copy_postgresql(cursor, name: str, table: pd.DataFrame, chunk: int = 500_000) -> None:
    with cursor.copy(
        f"COPY {name} ({', '.join(table.columns)}) FROM STDIN WITH (FORMAT csv)"
    ) as copy:
        for start in range(0, len(table), chunk):
            copy.write(table.iloc[start : start + chunk].to_csv(header=False, index=False))


def run_database(kind: str, n: int, out: Path, pg_admin_url: str) -> tuple[Recorder, float]:
    from surveyapp import create_app
    from surveyapp.export_query import export_study
    from surveyapp.extensions import db

    folder = Path(tempfile.mkdtemp(prefix="export-bench-db-"))
    create_database(kind, pg_admin_url)
    url = database_url(kind, folder, pg_admin_url)
    try:
        print(_header(f"{kind}: store the study (child process)"), flush=True)
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(1, mp_context=spawn) as pool:
            stored = pool.submit(store_study, url, n).result()
        recorder = Recorder()
        recorder.results += stored
        print(_header(f"{kind}: export_study (this process)"), flush=True)
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
        with app.app_context():
            app.extensions["catalog"].questionnaires["bench"] = bench_questionnaire()
            options = make_options(formats=FORMATS, k=5, time_resolution="term", zip=True)
            started = time.perf_counter()
            export_study(STUDY_KEY, options, out, timer=recorder.step)
            elapsed = time.perf_counter() - started
            print_plans()
            db.session.remove()
            db.engine.dispose()
        return recorder, elapsed
    finally:
        drop_database(kind, pg_admin_url, folder)


def print_plans() -> None:
    """The database's plan for the two export queries (every wave, and one wave)."""
    from surveyapp.export_query import answer_query, response_query
    from surveyapp.extensions import db
    from surveyapp.models import Study

    study = db.session.execute(db.select(Study).filter_by(key=STUDY_KEY)).scalar_one()
    connection = db.session.connection()
    explain = "EXPLAIN QUERY PLAN " if connection.dialect.name == "sqlite" else "EXPLAIN "
    for title, statement in (
        ("responses, every wave", response_query(study)),
        ("answers, every wave", answer_query(study)),
        ("answers, one wave", answer_query(study, ["followup_1"])),
    ):
        sql = str(
            statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
        )
        print(f"  plan: {title}")
        for row in connection.exec_driver_sql(explain + sql):
            print("    " + str(row[-1]))
    db.session.rollback()


# ------------------------------------------------------------------ main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument(
        "--db", choices=["sqlite", "postgresql"], default=None, help="export through a database"
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", PG_ADMIN_URL),
        help=f"PostgreSQL server (its database is used to create {PG_DATABASE})",
    )
    parser.add_argument("--keep", action="store_true", help="keep the output folder")
    args = parser.parse_args()

    items = sum(
        len(q.rows) if q.type == "grid" else 1
        for q in bench_questionnaire().questions()
        if q.type != "info"
    )
    print(
        f"{args.responses:,} responses x {items} items, {os.cpu_count()} CPUs, "
        f"load average {load_average()}",
        flush=True,
    )
    out = Path(tempfile.mkdtemp(prefix="export-bench-"))
    if args.db:
        recorder, elapsed = run_database(args.db, args.responses, out, args.pg_url)
        what = f"whole export via {args.db} (queries..log)"
    else:
        recorder, elapsed = run_pure(args.responses, out)
        what = "whole export (build..zip)"
    peak = peak_bytes()
    export_steps = [r for r in recorder.results if not r.name.startswith("db: ")]
    export_steps = [r for r in export_steps if r.name != "generate input frames"]
    print()
    print(_header(f"summary ({args.db or 'pure'}), load average now {load_average()}"))
    for r in recorder.results:
        print(_line(r))
    cpu = sum(r.cpu for r in export_steps)
    print(f"  {what:<40} {elapsed:8.2f} {cpu:8.2f} {peak / MB:9.0f}   (process peak)")
    for f in sorted(out.iterdir()):
        print(f"    {f.name:<24} {f.stat().st_size / MB:8.1f} MB")
    ok = elapsed < 60 and peak < 2 * 1024 * MB
    print("target (< 60 s, < 2 GB):", "met" if ok else "NOT met", flush=True)
    if args.keep:
        print(f"output kept in {out}")
    else:
        for f in out.iterdir():
            f.unlink()
        out.rmdir()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
