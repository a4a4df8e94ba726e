"""Database tables.

Operational data (schools, classes, participants, codes, responses) lives here; the
questionnaire and study *designs* live in YAML and are referenced by id and version.
No table holds a pupil's name or date of birth, by design.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def random_id() -> str:
    return secrets.token_hex(8)


ROLES = ("admin", "researcher", "teacher")


class UserSchool(db.Model):
    __tablename__ = "user_school"
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    school_id: Mapped[int] = mapped_column(
        ForeignKey("school.id", ondelete="CASCADE"), primary_key=True
    )


class User(UserMixin, db.Model):
    __tablename__ = "user"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Changing it logs every session of this user out (password change, deactivation).
    session_token: Mapped[str] = mapped_column(String(32), default=random_id)

    schools: Mapped[list[School]] = relationship(secondary="user_school", back_populates="users")

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active


class Study(db.Model):
    """The database side of a study file: its id, and the secrets that never leave the server."""

    __tablename__ = "study"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    # Keyed HMAC of participant ids makes pseudonyms stable across waves.
    pseudonym_key: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_hex(32))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    waves: Mapped[list[Wave]] = relationship(back_populates="study", order_by="Wave.position")
    schools: Mapped[list[School]] = relationship(back_populates="study", order_by="School.name")


WAVE_STATES = ("draft", "open", "closed")


class Wave(db.Model):
    __tablename__ = "wave"
    __table_args__ = (UniqueConstraint("study_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"))
    key: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    questionnaire_id: Mapped[str] = mapped_column(String(64))
    opens_on: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    closes_on: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    state: Mapped[str] = mapped_column(String(10), default="draft")

    study: Mapped[Study] = relationship(back_populates="waves")

    @property
    def is_open(self) -> bool:
        return self.state == "open"


class School(db.Model):
    __tablename__ = "school"
    __table_args__ = (UniqueConstraint("study_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"))
    name: Mapped[str] = mapped_column(String(200))
    # Export code such as S01: the only school identity that leaves the server.
    code: Mapped[str] = mapped_column(String(20))
    arm: Mapped[str | None] = mapped_column(String(64), nullable=True)
    stratum: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    study: Mapped[Study] = relationship(back_populates="schools")
    classes: Mapped[list[SchoolClass]] = relationship(
        back_populates="school", order_by="SchoolClass.name"
    )
    users: Mapped[list[User]] = relationship(secondary="user_school", back_populates="schools")


class SchoolClass(db.Model):
    """A class (teaching group) in a school, e.g. 5B."""

    __tablename__ = "school_class"
    __table_args__ = (UniqueConstraint("school_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    name: Mapped[str] = mapped_column(String(40))
    year_group: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Export code such as S01-C02.
    code: Mapped[str] = mapped_column(String(30))
    arm: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    school: Mapped[School] = relationship(back_populates="classes")
    participants: Mapped[list[Participant]] = relationship(
        back_populates="school_class", order_by="Participant.number"
    )


class Participant(db.Model):
    """One pupil, known only by a random id and a number within their first class ("5B-07")."""

    __tablename__ = "participant"
    __table_args__ = (UniqueConstraint("school_id", "label"),)
    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=random_id)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    class_id: Mapped[int] = mapped_column(ForeignKey("school_class.id"))
    number: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(40))
    arm: Mapped[str | None] = mapped_column(String(64), nullable=True)
    left_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    school_class: Mapped[SchoolClass] = relationship(back_populates="participants")
    school: Mapped[School] = relationship()


class AccessCode(db.Model):
    """One participant's ticket into one wave. The code itself is stored only as a keyed hash."""

    __tablename__ = "access_code"
    __table_args__ = (
        # A participant never holds two live codes for the same wave, even when two
        # teachers issue cards for one class at the same moment.
        Index(
            "uq_access_code_live",
            "participant_id",
            "wave_id",
            unique=True,
            sqlite_where=text("status = 'issued'"),
            postgresql_where=text("status = 'issued'"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participant.id"), index=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id"), index=True)
    # issued -> (revoked | replaced); started/completed/expired are derived from the
    # response and the wave so they can never disagree with them.
    status: Mapped[str] = mapped_column(String(10), default="issued")
    issued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    participant: Mapped[Participant] = relationship()
    wave: Mapped[Wave] = relationship()


class Response(db.Model):
    """One participant's answers to one questionnaire version in one wave."""

    __tablename__ = "response"
    __table_args__ = (UniqueConstraint("participant_id", "wave_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participant.id"))
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id"), index=True)
    arm: Mapped[str | None] = mapped_column(String(64), nullable=True)
    questionnaire_id: Mapped[str] = mapped_column(String(64))
    questionnaire_version: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(10), default="en")
    current_page: Mapped[str | None] = mapped_column(String(64), nullable=True)
    pages_done: Mapped[int] = mapped_column(Integer, default=0)
    pages_total: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    participant: Mapped[Participant] = relationship()
    wave: Mapped[Wave] = relationship()
    answers: Mapped[list[Answer]] = relationship(back_populates="response")


class Answer(db.Model):
    """One variable of one response. ``value`` is JSON: int, float, str, or a list of codes.

    ``declined`` records "I'd rather not say" so it is never confused with not shown.
    """

    __tablename__ = "answer"
    __table_args__ = (UniqueConstraint("response_id", "question_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(32))
    value: Mapped[object | None] = mapped_column(JSON, nullable=True)
    declined: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    response: Mapped[Response] = relationship(back_populates="answers")


class AllocationRecord(db.Model):
    """Allocation log: which unit got which arm, from which seed, stratum and block."""

    __tablename__ = "allocation_record"
    __table_args__ = (UniqueConstraint("study_id", "level", "unit_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"))
    level: Mapped[str] = mapped_column(String(20))
    unit_key: Mapped[str] = mapped_column(String(64))
    stratum: Mapped[str] = mapped_column(String(120), default="")
    block: Mapped[int] = mapped_column(Integer, default=0)
    position: Mapped[int] = mapped_column(Integer, default=0)
    arm: Mapped[str] = mapped_column(String(64))
    seed: Mapped[str] = mapped_column(String(64), default="")
    allocated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ProvisionReturn(db.Model):
    """A school's provision and participation return for one term."""

    __tablename__ = "provision_return"
    __table_args__ = (UniqueConstraint("school_id", "term"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    term: Mapped[str] = mapped_column(String(20))
    questionnaire_id: Mapped[str] = mapped_column(String(64))
    questionnaire_version: Mapped[str] = mapped_column(String(64))
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    school: Mapped[School] = relationship()


class AuditEvent(db.Model):
    """Who did what, when: issuing, replacing, revoking, exporting, changing users."""

    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), nullable=True)
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[dict] = mapped_column(JSON, default=dict)

    user: Mapped[User | None] = relationship()


class ExportRecord(db.Model):
    """Every export: who, when, with which options, how many rows, and the file checksum."""

    __tablename__ = "export_record"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), nullable=True)
    study_key: Mapped[str] = mapped_column(String(64))
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    filename: Mapped[str] = mapped_column(Text, default="")
    # Web exports run off the request: queued -> running -> done | failed; a done export's
    # file is deleted after EXPORT_RETENTION_HOURS (expired). Command-line exports are done.
    status: Mapped[str] = mapped_column(String(10), default="done", index=True)
    error: Mapped[str] = mapped_column(Text, default="")
    # The stored file, relative to the export folder under the instance folder ("" if none).
    path: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # Renewed by the worker that holds the export; a stale one means that process died.
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
