"""Load benchmark: ``python benchmarks/run_load.py`` (or ``make bench-load``).

For each database (a fresh SQLite file in a temp folder, and a fresh PostgreSQL database
``surveyapp_bench`` on 127.0.0.1:5432, user postgres) it runs ``flask db upgrade``, seeds a
study with classes of 30 and one card per simulated pupil (the app's own services), starts
gunicorn with the project's gunicorn.conf.py, and drives it with locust (headless) in two
scenarios (see benchmarks/load/locustfile.py):

- ``classes``: classes of 30 pupils scan their cards and complete the shipped questionnaire
  (questionnaires/ih_pupil.yaml) with realistic think times divided by ``--compress``;
- ``burst``: all pupils press Next at the same moment, several times.

The floor, benchmarks/load/floor_app.py (one POST, one INSERT), runs on the same database
with the same gunicorn settings, driven by the same pupils with the same pacing; its server
is started with the engine's, and in the burst the two take turns for ``--rounds`` rounds
(the median round is reported), so a slow minute of this shared machine falls on both.

Why locust: its gevent users and FastHttpUser keep 300 pupils with their own cookies in one
client process cheaply (threads would need 300 OS threads competing with gunicorn for the
same two cores), and headless mode runs from a script. The scenario logic is ours
(benchmarks/load/flow.py, shared with the fault test); locust carries it.

Figures: requests/s and answer pages/s over the run (for ``burst``, over the burst windows
only: from the moment all pupils press Next until the last of them sees the next page),
latency percentiles over every request of that span, errors = failed requests (connection
errors, 5xx including the friendly 503, unexpected 4xx) plus pupils who could not go on.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

import sqlalchemy as sa  # noqa: E402

from benchmarks.load.floor_app import create_table  # noqa: E402
from benchmarks.load.flow import ACKNOWLEDGED  # noqa: E402
from benchmarks.load.profile import start_profile, stop_profile  # noqa: E402
from benchmarks.load.server import Gunicorn  # noqa: E402

PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")
PG_DATABASE = "surveyapp_bench"
# Production settings with throwaway keys: the benchmark measures what a school would run.
SECRET_KEY = secrets.token_hex(32)
CODE_HASH_KEY = secrets.token_hex(32)
OK_KINDS = ("answer", "retry")
TARGETS = {"p95_ms": 150.0, "floor_ratio": 0.5}


@dataclass
class Row:
    scenario: str
    database: str
    requests: int
    seconds: float
    answer_pages: int
    p50: float
    p95: float
    p99: float
    errors: int
    answer_p95: float
    notes: str = ""

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def pages_per_s(self) -> float:
        return self.answer_pages / self.seconds if self.seconds else 0.0


# --------------------------------------------------------------------------- databases


def prepare_database(kind: str, folder: Path) -> str:
    """A fresh, empty database of ``kind``; its URL."""
    if kind == "sqlite":
        path = folder / "bench.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    admin = sa.create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{PG_DATABASE}"'))
    admin.dispose()
    return f"{PG_SERVER}/{PG_DATABASE}"


def app_env(url: str, threads: int | None = None) -> dict[str, str]:
    return {
        **threads_env(threads),
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET_KEY,
        "CODE_HASH_KEY": CODE_HASH_KEY,
        "SURVEYAPP_ENV": "production",
        "PYTHONPATH": str(PROJECT_ROOT),
    }


def threads_env(threads: int | None) -> dict[str, str]:
    """GUNICORN_THREADS for the servers, unless gunicorn.conf.py's default is wanted."""
    return {} if threads is None else {"GUNICORN_THREADS": str(threads)}


def _run(args: list[str], env: dict[str, str]) -> None:
    subprocess.run(args, cwd=PROJECT_ROOT, env={**os.environ, **env}, check=True)  # noqa: S603


def upgrade_and_seed(url: str, pupils: int, folder: Path) -> list[str]:
    env = app_env(url)
    flask = [sys.executable, "-m", "flask", "--app", "surveyapp"]
    _run([*flask, "db", "upgrade"], env)
    out = folder / "codes.json"
    _run([sys.executable, "-m", "benchmarks.load.seed", str(pupils), str(out)], env)
    return json.loads(out.read_text())


# --------------------------------------------------------------------------- locust


def run_locust(
    server: Gunicorn, scenario: str, target: str, codes: list[str], args, folder: Path
) -> dict:
    url = server.url
    result = folder / f"result-{scenario}-{target}-{time.time_ns()}.json"
    env = {
        "PYTHONPATH": str(PROJECT_ROOT),
        "LOAD_SCENARIO": scenario,
        "LOAD_TARGET": target,
        "LOAD_CODES": json.dumps(codes),
        "LOAD_RESULT": str(result),
        "LOAD_COMPRESS": str(args.compress),
        "LOAD_CLASS_GAP": str(args.class_gap),
        "LOAD_BURSTS": str(args.bursts),
        "LOAD_TICK": str(args.tick),
    }
    cmd = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(PROJECT_ROOT / "benchmarks" / "load" / "locustfile.py"),
        "--headless",
        "--users",
        str(len(codes)),
        "--spawn-rate",
        str(len(codes)),
        "--host",
        url,
        "--run-time",
        f"{args.max_minutes}m",
        "--stop-timeout",
        "10",
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    log = folder / f"locust-{scenario}-{target}.log"
    server_cpu = server.cpu_seconds()
    client = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(log, "wb") as out:
        subprocess.run(  # noqa: S603
            cmd, cwd=PROJECT_ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = {
        "server": server.cpu_seconds() - server_cpu,
        "client": (after.ru_utime + after.ru_stime) - (client.ru_utime + client.ru_stime),
    }
    if not result.exists():
        raise RuntimeError(f"locust wrote no result; see {log}")
    data = json.loads(result.read_text())
    data["cpu"] = cpu
    # Other work on the machine takes CPU from the server: say how busy it was.
    data["load_average"] = os.getloadavg()[1]
    return data


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 10) - 1]


def _failed(sample: list) -> bool:
    _start, _ms, _kind, status, exception = sample
    return bool(exception) or status == 0 or status >= 500 or status in (400, 403, 404, 429)


def summarise(result: dict, scenario: str, database: str) -> Row:
    samples = result["samples"]
    if scenario == "burst":
        samples, seconds = _burst_windows(result)
        pages = sum(1 for s in samples if s[2] in OK_KINDS and s[3] in ACKNOWLEDGED)
    else:
        begin = min(s[0] for s in samples)
        end = max(s[0] + s[1] / 1000 for s in samples)
        seconds = end - begin
        pages = result["answer_pages"]
    reconnects = sum(1 for s in result["samples"] if s[2] == "reconnect")
    samples = [s for s in samples if s[2] != "reconnect"]
    latencies = [s[1] for s in samples]
    answer_latencies = [s[1] for s in samples if s[2] in OK_KINDS]
    errors = sum(1 for s in samples if _failed(s)) + len(result["flow_errors"])
    notes = [f"load avg {result.get('load_average', float('nan')):.1f}"]
    # CPU per request over the whole scenario (entry included): what each side costs, free
    # of how the two CPUs were shared between the server and the simulated pupils.
    everything = [s for s in result["samples"] if s[2] != "reconnect"]
    if everything and result.get("cpu"):
        notes.append(
            f"server CPU {result['cpu']['server'] / len(everything) * 1000:.1f} ms/request, "
            f"client {result['cpu']['client'] / len(everything) * 1000:.1f}"
        )
    if result["flow_errors"]:
        notes.append(f"{len(result['flow_errors'])} pupils stopped: {result['flow_errors'][0]}")
    if reconnects:
        notes.append(f"{reconnects} stale keep-alive connections retried")
    if result.get("busy_pages"):
        notes.append(f"{result['busy_pages']} busy pages")
    return Row(
        scenario=scenario,
        database=database,
        requests=len(samples),
        seconds=seconds,
        answer_pages=pages,
        p50=_percentile(latencies, 50),
        p95=_percentile(latencies, 95),
        p99=_percentile(latencies, 99),
        errors=errors,
        answer_p95=_percentile(answer_latencies, 95),
        notes="; ".join(notes),
    )


def _burst_windows(result: dict) -> tuple[list, float]:
    """Samples of the bursts, and the summed time from each burst to its last reply."""
    first, tick = result["first_tick"], result["tick"]
    kept: list = []
    seconds = 0.0
    for k in range(result["bursts"]):
        start = first + k * tick
        window = [
            s
            for s in result["samples"]
            if start - 0.05 <= s[0] < start + tick and s[2] in ("answer", "page", "done", "retry")
        ]
        if not window:
            continue
        kept.extend(window)
        seconds += max(s[0] + s[1] / 1000 for s in window) - start
    return kept, seconds


# --------------------------------------------------------------------------- the run


def bench_database(kind: str, args, folder: Path) -> list[Row]:
    """Every scenario against the engine and, in the same run, against the floor.

    This machine's speed drifts by tens of per cent from minute to minute (other tenants),
    so the burst is run ``--rounds`` times with the engine and the floor taking turns, and
    each one's median round is reported: a slow minute then cannot fall on one side only.
    """
    label = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[kind]
    print(f"== {label}: preparing the database", flush=True)
    url = prepare_database(kind, folder)
    runs = [(scenario, 1 if scenario == "classes" else args.rounds) for scenario in args.scenarios]
    codes = iter(upgrade_and_seed(url, args.pupils * sum(n for _, n in runs), folder))
    app = Gunicorn(
        app_env(url, args.threads), workers=args.workers, log_path=folder / f"gunicorn-{kind}.log"
    )
    servers = {"app": app}
    if args.floor:
        create_table(url)
        servers["floor"] = Gunicorn(
            {
                "FLOOR_DATABASE_URL": url,
                "PYTHONPATH": str(PROJECT_ROOT),
                **threads_env(args.threads),
            },
            workers=args.workers,
            app="benchmarks.load.floor_app:app",
            log_path=folder / f"gunicorn-floor-{kind}.log",
        )
    rounds: dict[tuple[str, str], list[Row]] = {}
    try:
        for server in servers.values():
            server.start()
        for scenario, count in runs:
            targets = ["app"]
            if args.floor:
                # floor-prg: what Post/Redirect/Get would cost (two requests a page), for scale.
                targets += ["floor", "floor-prg"] if scenario == "burst" else ["floor"]
            for number in range(1, count + 1):
                for target in targets:
                    database = label if target == "app" else f"{target}-{label}"
                    print(
                        f"== {database}: scenario {scenario}, {args.pupils} pupils"
                        + (f", round {number} of {count}" if count > 1 else ""),
                        flush=True,
                    )
                    if target == "app":
                        names = [next(codes) for _ in range(args.pupils)]
                    else:
                        names = [f"F{n:07d}" for n in range(args.pupils)]
                    server = servers["app" if target == "app" else "floor"]
                    profile = folder / f"profile-{scenario}-{kind}-{number}.txt"
                    spy = (
                        start_profile(server, profile) if args.profile and target == "app" else None
                    )
                    try:
                        result = run_locust(server, scenario, target, names, args, folder)
                    finally:
                        if spy is not None:
                            stop_profile(spy, profile)
                    row = summarise(result, scenario, database)
                    rounds.setdefault((scenario, database), []).append(row)
                    print(_format_row(row), flush=True)
    finally:
        for server in servers.values():
            server.stop()
    return [median_row(rows) for rows in rounds.values()]


def median_row(rows: list[Row]) -> Row:
    """The round with the median answer pages/s; the others' figures go in its notes."""
    if len(rows) == 1:
        return rows[0]
    ordered = sorted(rows, key=lambda r: r.pages_per_s)
    middle = ordered[len(ordered) // 2]
    each = ", ".join(f"{r.pages_per_s:.0f}" for r in rows)
    notes = f"median of {len(rows)} rounds (pages/s {each})"
    middle.notes = f"{notes}; {middle.notes}" if middle.notes else notes
    return middle


HEADER = (
    f"{'scenario':<9} {'database':<20} {'req/s':>7} {'answer pages/s':>15} "
    f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>7} {'answer p95':>11}"
)


def _format_row(row: Row) -> str:
    line = (
        f"{row.scenario:<9} {row.database:<20} {row.rps:>7.1f} {row.pages_per_s:>15.1f} "
        f"{row.p50:>7.0f} {row.p95:>7.0f} {row.p99:>7.0f} {row.errors:>7d} {row.answer_p95:>11.0f}"
    )
    return line + (f"  ({row.notes})" if row.notes else "")


def verdict(rows: list[Row]) -> list[str]:
    lines = []
    for row in rows:
        if row.database.startswith("floor"):
            continue
        problems = []
        if row.p95 >= TARGETS["p95_ms"]:
            problems.append(f"p95 {row.p95:.0f} ms >= {TARGETS['p95_ms']:.0f}")
        if row.errors:
            problems.append(f"{row.errors} errors")
        floor = next(
            (
                r
                for r in rows
                if r.database == f"floor-{row.database}" and r.scenario == row.scenario
            ),
            None,
        )
        ratio_text = ""
        if row.scenario == "classes":
            # Think times set the pace: both serve what the pupils ask for, so the ratio only
            # says whether the app kept up. Capacity is compared in the burst.
            ratio_text = " (throughput set by think times)"
        elif floor is not None and floor.pages_per_s:
            ratio = row.pages_per_s / floor.pages_per_s
            if ratio < TARGETS["floor_ratio"]:
                problems.append(f"answer pages/s {ratio:.2f} x the floor's")
            else:
                ratio_text = f", answer pages/s {ratio:.2f} x the floor's"
            prg = next(
                (
                    r
                    for r in rows
                    if r.database == f"floor-prg-{row.database}" and r.scenario == row.scenario
                ),
                None,
            )
            if prg is not None and prg.pages_per_s:
                ratio_text += (
                    f" ({row.pages_per_s / prg.pages_per_s:.2f} x the floor's that also "
                    "follows its redirect)"
                )
        state = "MISSED: " + "; ".join(problems) if problems else "met"
        lines.append(f"{row.scenario} on {row.database}: {state}{ratio_text}")
    return lines


def parse_args(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pupils", type=int, default=300)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads per worker (default: gunicorn.conf.py's, 4; 1 gives sync workers)",
    )
    parser.add_argument(
        "--compress",
        type=float,
        default=2.0,
        help="divide the pupils' real think times by this (default 2: a page every ~6 s)",
    )
    parser.add_argument("--class-gap", type=float, default=3.0, help="seconds between classes")
    parser.add_argument("--bursts", type=int, default=5, help="bursts in the burst scenario")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="burst runs per target, engine and floor taking turns; the median is reported",
    )
    parser.add_argument("--tick", type=float, default=10.0, help="seconds between bursts")
    parser.add_argument(
        "--databases", default="sqlite,postgresql", help="comma-separated: sqlite,postgresql"
    )
    parser.add_argument("--scenarios", default="classes,burst", help="classes,burst")
    parser.add_argument("--no-floor", dest="floor", action="store_false")
    parser.add_argument("--max-minutes", type=int, default=15, help="locust's --run-time")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample the gunicorn workers with py-spy during the app runs and print where "
        "the time goes (needs py-spy; py-spy takes CPU, so the figures of that run are lower)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (logs, data)")
    args = parser.parse_args(argv)
    args.scenarios = [s for s in args.scenarios.split(",") if s]
    args.databases = [d for d in args.databases.split(",") if d]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="surveyapp-load-"))
    print(
        f"Load benchmark: {args.pupils} pupils, gunicorn {args.workers} workers x "
        f"{args.threads or 'default (4)'} threads, "
        f"{os.cpu_count()} CPUs, think times / {args.compress:g}; files in {folder}",
        flush=True,
    )
    began = time.monotonic()
    rows: list[Row] = []
    try:
        for kind in args.databases:
            rows.extend(bench_database(kind, args, folder))
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    print()
    print(HEADER)
    order = {s: i for i, s in enumerate(args.scenarios)}
    for row in sorted(rows, key=lambda r: (order[r.scenario], r.database.startswith("floor"))):
        print(_format_row(row))
    print()
    for line in verdict(rows):
        print(line)
    print(f"(run took {time.monotonic() - began:.0f} s; load average {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
