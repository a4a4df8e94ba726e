"""Where the gunicorn workers' time goes during a load run: py-spy samples, summarised.

Used by ``benchmarks/run_load.py --profile``.

Read the SQLite figures with care: py-spy counts a thread that sleeps inside SQLite's busy
handler (waiting for another worker's write lock) as busy, so the statement that takes the
lock (the response's claim, the first write of a save) looks far more expensive than its
CPU. A run of ``py-spy record --native`` on the workers showed that time as ``usleep`` and
GIL waits, not work. ``benchmarks/page_cost.py`` measures the CPU of a page without that.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

from benchmarks.load.server import Gunicorn


def start_profile(server: Gunicorn, out: Path) -> subprocess.Popen:
    """py-spy samples the CPU time of every gunicorn worker into ``out``."""
    assert server.process is not None
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    return subprocess.Popen(  # noqa: S603
        [
            spy,
            "record",
            "--pid",
            str(server.process.pid),
            "--subprocesses",
            "--nonblocking",
            "--rate",
            "50",
            "--format",
            "raw",
            "--nolineno",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop_profile(spy: subprocess.Popen, out: Path) -> None:
    spy.send_signal(signal.SIGINT)
    try:
        spy.wait(timeout=60)
    except subprocess.TimeoutExpired:
        spy.kill()
    if out.exists():
        print(profile_summary(out), flush=True)


#: Where a worker's time goes, by the innermost matching frame (first match wins).
PROFILE_BUCKETS = (
    ("waiting for a request", ("sync.py:wait", "(gunicorn/workers/sync.py)", "select (selectors")),
    ("database driver (SQL, locks, fsync)", ("(sqlite3", "psycopg", "do_execute", "do_commit")),
    ("templates (Jinja render)", ("(jinja2/", ".html)")),
    ("skip logic (navigation)", ("questionnaire/navigation.py",)),
    ("page forms (build, parse, check)", ("surveyapp/forms/",)),
    ("SQLAlchemy (ORM, compile)", ("(sqlalchemy/",)),
    (
        "sessions, CSRF, babel, limiter",
        ("flask_wtf", "itsdangerous", "flask_babel", "babel/", "flask_limiter", "limits/"),
    ),
    ("Flask/Werkzeug request handling", ("(flask/", "(werkzeug/")),
    ("gunicorn (sockets, polling, HTTP parsing)", ("(gunicorn/",)),
)


def profile_summary(path: Path, top: int = 15) -> str:
    """Share of sampled worker time per bucket, and the busiest survey-engine functions."""
    buckets: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        if not any("gunicorn" in f for f in frames):
            continue
        total += count
        bucket = "other"
        for frame in reversed(frames):
            hit = next(
                (name for name, keys in PROFILE_BUCKETS if any(k in frame for k in keys)), None
            )
            if hit:
                bucket = hit
                break
        buckets[bucket] = buckets.get(bucket, 0) + count
        for frame in set(frames):
            if "surveyapp/" in frame or ".html)" in frame:
                inclusive[frame] = inclusive.get(frame, 0) + count
    if not total:
        return f"(no samples in {path})"
    busy = total - buckets.get("waiting for a request", 0)
    lines = [f"Profile {path.name}: {total} samples, {busy / total:.0%} of worker time busy"]
    for name, count in sorted(buckets.items(), key=lambda kv: -kv[1]):
        share = count / busy if name != "waiting for a request" and busy else count / total
        lines.append(
            f"  {share:6.1%}  {name}" + ("  (of all time)" if name.startswith("wait") else "")
        )
    lines.append("  busiest survey-engine functions (inclusive, share of busy time):")
    for frame, count in sorted(inclusive.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"  {count / busy:6.1%}  {frame}")
    return "\n".join(lines)
