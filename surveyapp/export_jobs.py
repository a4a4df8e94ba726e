"""Web exports run off the request (pitfall 8).

The research form only *queues* an export: an :class:`ExportRecord` with status ``queued``.
A worker thread in the web process, with its own app context and database session, claims
it (``running``), writes the files into a folder of their own under the instance folder and
marks it ``done`` (or ``failed``, with a message the researcher can act on). The researcher
watches the export log and downloads the zip when it is done; every download is logged.

- One export at a time per process: an export of 100,000 responses needs up to a gigabyte
  while it runs, and a second one would only slow the first.
- Surviving a restart: the worker renews ``heartbeat_at`` of every export it holds (queued
  or running) every few seconds. An export whose heartbeat has gone stale belongs to a
  process that died (a restart, a recycled worker, an out-of-memory kill) and is marked
  failed, with a clear message, the next time the log is shown.
- Retention: the files of a done export are deleted ``EXPORT_RETENTION_HOURS`` (default 24)
  after it finished, by a clean-up that runs whenever an export is queued; the log keeps
  the record (status ``expired``).
- Tests run the job synchronously in the request (``EXPORT_RUN_INLINE``, the default when
  ``TESTING``); the command line (``flask export``) never queues.

Settings: ``EXPORT_DIR`` (default ``<instance>/exports``), ``EXPORT_RETENTION_HOURS``,
``EXPORT_RUN_INLINE``, ``EXPORT_HEARTBEAT_SECONDS`` (default 5) and ``EXPORT_STALE_SECONDS``
(default 60: twelve missed heartbeats).
"""

from __future__ import annotations

import logging
import os
import queue
import re
import secrets
import shutil
import threading
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import update

from . import audit
from .export_query import ExportError, export_study
from .exporting import ExportOptions, ExportOptionsError
from .exporting.frames import ExportInputError
from .exporting.variables import ExportDesignError
from .extensions import db
from .models import ExportRecord, Study, utcnow

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED, EXPIRED = "queued", "running", "done", "failed", "expired"
ACTIVE = (QUEUED, RUNNING)
_FOLDER = re.compile(r"^export-(\d+)-[0-9a-f]+$")

#: Errors whose message already tells the researcher what to change.
CLEAR_ERRORS = (ExportError, ExportOptionsError, ExportDesignError, ExportInputError)

DEAD_MESSAGE = (
    "The export stopped because the server process running it ended (a restart or a crash) "
    "before it finished. Nothing was kept; please start it again."
)


# ------------------------------------------------------------------ settings and paths


def export_root() -> Path:
    configured = current_app.config.get("EXPORT_DIR")
    root = Path(configured) if configured else Path(current_app.instance_path) / "exports"
    root.mkdir(parents=True, exist_ok=True)
    return root


def retention() -> timedelta:
    return timedelta(hours=float(current_app.config.get("EXPORT_RETENTION_HOURS", 24)))


def _stale_after() -> timedelta:
    return timedelta(seconds=float(current_app.config.get("EXPORT_STALE_SECONDS", 60)))


def run_inline() -> bool:
    return bool(current_app.config.get("EXPORT_RUN_INLINE", current_app.testing))


def stored_file(record: ExportRecord) -> Path | None:
    """The export's file on disk, if it is done and still there (never outside the root)."""
    if record.status != DONE or not record.path:
        return None
    try:
        root = export_root().resolve()
    except OSError:
        return None
    path = (root / record.path).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


# ------------------------------------------------------------------ queueing


def queue_export(study: Study, options: ExportOptions, user_id: int | None) -> ExportRecord:
    """Log the export as queued (committed) and hand it to the worker.

    Cleans up first: the files of exports past their retention period are deleted."""
    remove_expired()
    now = utcnow()
    record = ExportRecord(
        user_id=user_id,
        study_key=study.key,
        options=options.as_record(),
        status=QUEUED,
        at=now,
        heartbeat_at=now,
    )
    db.session.add(record)
    db.session.flush()
    audit.record(user_id, "export.queue", study.key, export_id=record.id)
    db.session.commit()
    if run_inline():
        run_export_job(record.id)
    else:
        worker_for(current_app._get_current_object()).submit(record.id)  # type: ignore[attr-defined]
    return record


# ------------------------------------------------------------------ running one export


def _claim(record_id: int) -> bool:
    """queued -> running, atomically: a second worker that tries the same export gets False."""
    now = utcnow()
    claimed = db.session.execute(
        update(ExportRecord)
        .where(ExportRecord.id == record_id, ExportRecord.status == QUEUED)
        .values(status=RUNNING, started_at=now, heartbeat_at=now)
    ).rowcount
    db.session.commit()
    return bool(claimed)


def run_export_job(record_id: int) -> None:
    """Run one queued export (inside an app context); never raises."""
    if not _claim(record_id):
        return
    record = db.session.get(ExportRecord, record_id)
    folder: Path | None = None
    try:
        options = ExportOptions.from_record(record.options)
        folder = export_root() / f"export-{record_id}-{secrets.token_hex(4)}"
        folder.mkdir(parents=True)
        export_study(
            record.study_key,
            options,
            folder,
            user_id=record.user_id,
            record=record,
            stored_under=export_root(),
        )
    except Exception as exc:  # noqa: BLE001 - every failure is recorded, none kills the worker
        db.session.rollback()
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        _fail(record_id, _message(exc))
        if not isinstance(exc, CLEAR_ERRORS):
            log.exception("export %s failed", record_id)


def _message(exc: BaseException) -> str:
    if isinstance(exc, CLEAR_ERRORS):
        return str(exc)
    if isinstance(exc, MemoryError):
        return (
            "The server ran out of memory while making this export. Choose fewer waves or "
            "formats, or ask the administrator to run it with `flask export` on the server."
        )
    if isinstance(exc, OSError):
        return f"The files could not be written ({exc.strerror or exc}). Please tell the administrator."
    return (
        f"An unexpected error stopped the export ({type(exc).__name__}); the details are in "
        "the server log. Please tell the administrator."
    )


def _fail(record_id: int, message: str) -> None:
    db.session.execute(
        update(ExportRecord)
        .where(ExportRecord.id == record_id)
        .values(status=FAILED, error=message, finished_at=utcnow(), path="")
    )
    db.session.commit()


# ------------------------------------------------------------------ housekeeping


def recover_stale(now: datetime | None = None) -> int:
    """Mark exports held by a process that died (stale heartbeat) as failed; return how many."""
    now = now or utcnow()
    limit = now - _stale_after()
    is_stale = ExportRecord.status.in_(ACTIVE) & (
        (ExportRecord.heartbeat_at < limit) | ExportRecord.heartbeat_at.is_(None)
    )
    # Read first: the log is polled every few seconds, and an UPDATE would take SQLite's
    # write lock each time even when there is nothing to change.
    if db.session.execute(db.select(ExportRecord.id).where(is_stale).limit(1)).first() is None:
        return 0
    stale = db.session.execute(
        update(ExportRecord)
        .where(is_stale)
        .values(status=FAILED, error=DEAD_MESSAGE, finished_at=now, path="")
    ).rowcount
    db.session.commit()
    return int(stale or 0)


def remove_expired(now: datetime | None = None) -> int:
    """Delete the files of done exports older than the retention period, and folders left
    behind by failed or vanished exports; return how many exports expired."""
    now = now or utcnow()
    try:
        root = export_root()
    except OSError:
        log.warning("export folder unusable; expired exports not cleaned up", exc_info=True)
        return 0
    expired = db.session.execute(
        db.select(ExportRecord).where(
            ExportRecord.status == DONE, ExportRecord.finished_at < now - retention()
        )
    ).scalars()
    count = 0
    for record in expired:
        folder = Path(record.path).parts[0] if record.path else ""
        if _FOLDER.match(folder):
            shutil.rmtree(root / folder, ignore_errors=True)
        record.status, record.path = EXPIRED, ""
        count += 1
    db.session.commit()
    live = {
        record_id
        for (record_id,) in db.session.execute(
            db.select(ExportRecord.id).where(ExportRecord.status.in_((*ACTIVE, DONE)))
        )
    }
    try:
        for folder in root.iterdir():
            match = _FOLDER.match(folder.name)
            if match and folder.is_dir() and int(match.group(1)) not in live:
                shutil.rmtree(folder, ignore_errors=True)
    except OSError:
        log.warning("could not clean up the export folder %s", root, exc_info=True)
    return count


def beat(record_ids: set[int]) -> None:
    """Renew the heartbeat of the exports this process holds."""
    if not record_ids:
        return
    db.session.execute(
        update(ExportRecord)
        .where(ExportRecord.id.in_(sorted(record_ids)), ExportRecord.status.in_(ACTIVE))
        .values(heartbeat_at=utcnow())
    )
    db.session.commit()


# ------------------------------------------------------------------ the worker thread


class ExportWorker:
    """One thread that runs queued exports one at a time, and one that keeps their
    heartbeat; both are daemons, so a stopping server does not wait for them (the export
    is then marked failed by :func:`recover_stale`)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.pid = os.getpid()
        self.jobs: queue.Queue[int] = queue.Queue()
        self.held: set[int] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, name="export-worker", daemon=True),
            threading.Thread(target=self._beat, name="export-heartbeat", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, record_id: int) -> None:
        with self._lock:
            self.held.add(record_id)
        self.jobs.put(record_id)

    def idle(self) -> bool:
        with self._lock:
            return not self.held

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                record_id = self.jobs.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                with self.app.app_context():
                    try:
                        run_export_job(record_id)
                    finally:
                        db.session.remove()
            except Exception:  # noqa: BLE001 - e.g. the database was unreachable
                log.exception("export worker could not run export %s", record_id)
            finally:
                with self._lock:
                    self.held.discard(record_id)

    def _beat(self) -> None:
        interval = float(self.app.config.get("EXPORT_HEARTBEAT_SECONDS", 5))
        while not self._stop.wait(interval):
            with self._lock:
                held = set(self.held)
            if not held:
                continue
            try:
                with self.app.app_context():
                    try:
                        beat(held)
                    finally:
                        db.session.remove()
            except Exception:  # noqa: BLE001 - a missed beat is retried on the next tick
                log.warning("export heartbeat failed", exc_info=True)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)


_workers_lock = threading.Lock()


def worker_for(app: Flask) -> ExportWorker:
    """This process's worker for ``app``, started on first use (after a fork, anew)."""
    with _workers_lock:
        worker = app.extensions.get("export_worker")
        if worker is None or worker.pid != os.getpid():
            worker = ExportWorker(app)
            app.extensions["export_worker"] = worker
        return worker
