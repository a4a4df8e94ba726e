"""Start, kill and restart gunicorn as a subprocess (its own process group) on a free port."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import requests

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """gunicorn with the project's gunicorn.conf.py, serving ``app`` (``wsgi:app`` by default).

    ``env`` is added to this process's environment (DATABASE_URL, SECRET_KEY, ...). The
    server runs in a new session, so :meth:`kill` reaches the master and every worker.
    """

    def __init__(
        self,
        env: dict[str, str],
        *,
        workers: int = 2,
        app: str = "wsgi:app",
        port: int | None = None,
        log_path: Path | None = None,
        extra_args: list[str] | None = None,
    ) -> None:
        self.port = port or free_port()
        self.app = app
        self.env = {
            **os.environ,
            **env,
            "WEB_CONCURRENCY": str(workers),
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
        }
        self.log_path = log_path
        self.extra_args = extra_args or []
        self.process: subprocess.Popen | None = None
        self.starts = 0
        self.boot_seconds: list[float] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path: str = "/", timeout: float = 45) -> None:
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                str(PROJECT_ROOT / "gunicorn.conf.py"),
                *self.extra_args,
                self.app,
            ],
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if log is not subprocess.DEVNULL:
            log.close()
        self.starts += 1
        began = time.monotonic()
        self._wait_ready(ready_path, timeout)
        self.boot_seconds.append(round(time.monotonic() - began, 1))

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the master and its live workers."""
        if self.process is None:
            return 0.0
        try:
            master = psutil.Process(self.process.pid)
            members = [master, *master.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0.0
        total = 0.0
        for member in members:
            with contextlib.suppress(psutil.NoSuchProcess):
                times = member.cpu_times()
                total += times.user + times.system
        return total

    def _wait_ready(self, path: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}{self._tail()}")
            try:
                if requests.get(self.url + path, timeout=2).status_code < 500:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer within {timeout} s{self._tail()}")

    def _tail(self) -> str:
        if self.log_path and self.log_path.exists():
            return "\n" + self.log_path.read_text(errors="replace")[-3000:]
        return ""

    def kill(self) -> None:
        """SIGKILL the master and all workers at once: no clean shutdown of anything."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._wait_group_gone(self.process.pid)
        self.process = None

    def stop(self) -> None:
        """Graceful stop (SIGTERM to the master), SIGKILL if it does not go in time."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
            self._wait_group_gone(self.process.pid)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            self.kill()
        self.process = None

    @staticmethod
    def _wait_group_gone(pgid: int, timeout: float = 10) -> None:
        """Workers are not our children: wait until no live process of the group is left.

        Killed workers may linger as zombies until init reaps them; they hold no socket.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _live_members(pgid):
            time.sleep(0.05)


def _live_members(pgid: int) -> list[int]:
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp ...": comm may hold spaces, so split after ")".
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] not in {"Z", "X"}:
            members.append(int(text.split()[0]))
    return members
