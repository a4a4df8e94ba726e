"""CPU per answered page, in-process: ``python benchmarks/page_cost.py`` (or ``make bench-page``).

The load benchmark (run_load.py) shows what a school sees, but on a shared two-core machine
its figures drift by a factor of two within a day. This one runs the same pupils
(benchmarks/load/flow.py) through Flask's test client in one thread, with no server and no
other process, and prints the CPU time of an answered page (the POST that saves a page and
draws the next), of the floor's one-INSERT POST, and their ratio. Use it to compare two
versions of the code (run it from each in turn); ``--repeat`` alternates engine and floor
rounds and reports the median of each, so a slow moment falls on both.

Under ``valgrind --tool=callgrind`` it counts instructions instead of seconds, which do not
drift at all (``--pupils 20 --repeat 1``).
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from werkzeug.datastructures import MultiDict  # noqa: E402

from benchmarks.load.flow import Pause, PupilRecord, Reply, pupil_script  # noqa: E402


def _walk(client, code: str, seed: int, cpu: dict[str, list[float]]) -> None:
    """Walk one pupil to the end; CPU seconds of each request go to ``cpu[kind]``."""
    record = PupilRecord(code=code)
    script = pupil_script(code, random.Random(seed), lambda _kind: 0.0, record)
    item = next(script)
    while True:
        try:
            if isinstance(item, Pause):
                item = script.send(None)
                continue
            started = time.process_time()
            reply = client.open(
                item.path,
                method=item.method,
                data=MultiDict(item.fields) if item.fields else None,
                follow_redirects=False,
            )
            body = reply.get_data()
            cpu.setdefault(item.kind, []).append(time.process_time() - started)
            if reply.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            text = body.decode()
            item = script.send(Reply(reply.status_code, reply.headers.get("Location"), text))
        except StopIteration:
            return


def engine_round(app, codes: list[str], seed: int) -> float:
    """CPU seconds per answered page over every pupil in ``codes``."""
    cpu: dict[str, list[float]] = {}
    for index, code in enumerate(codes):
        with app.test_client() as client:
            client.environ_base["HTTP_ACCEPT_ENCODING"] = "gzip"
            _walk(client, code, seed + index, cpu)
    answers = cpu.get("answer", [])
    return sum(answers) / len(answers)


def floor_round(app, pages: int) -> float:
    client = app.test_client()
    started = time.process_time()
    for number in range(pages):
        client.post("/insert", data={"code": f"c{number}", "page": "p1", "answer": "3"})
    return (time.process_time() - started) / pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=60, help="pupils per round (default 60)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of each (default 3)")
    args = parser.parse_args()

    from benchmarks.run_load import app_env, upgrade_and_seed

    folder = Path(tempfile.mkdtemp(prefix="surveyapp-pagecost-"))
    url = f"sqlite:///{folder / 'bench.sqlite3'}"
    os.environ.update(app_env(url))  # the keys the seeded codes were hashed with
    codes = upgrade_and_seed(url, args.pupils * args.repeat, folder)
    os.environ["FLOOR_DATABASE_URL"] = f"sqlite:///{folder / 'floor.sqlite3'}"

    from benchmarks.load.floor_app import create_floor_app, create_table
    from surveyapp import create_app

    create_table(os.environ["FLOOR_DATABASE_URL"])
    app, floor = create_app(), create_floor_app()
    engine_round(app, codes[:2], seed=0)  # warm up: caches, compiled statements, templates
    codes = codes[2:]
    floor_round(floor, 50)

    engine, base = [], []
    for number in range(args.repeat):
        batch = codes[number * args.pupils : (number + 1) * args.pupils]
        engine.append(engine_round(app, batch, seed=1000 * number))
        base.append(floor_round(floor, len(batch) * 10))
        print(
            f"round {number + 1}: answer page {engine[-1] * 1e6:7.0f} µs CPU, "
            f"floor {base[-1] * 1e6:5.0f} µs",
            flush=True,
        )
    e, f = statistics.median(engine), statistics.median(base)
    print(f"median: answer page {e * 1e6:.0f} µs, floor {f * 1e6:.0f} µs, {e / f:.2f} x the floor")


if __name__ == "__main__":
    main()
