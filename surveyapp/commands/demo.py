"""`flask demo`: a ready-to-try study (schools, classes, accounts, working pupil codes).

Idempotent: a rerun creates nothing twice and prints the same logins and codes.

Demo codes are stored hashed like every other code, so they cannot be read back. Instead they
are *derived* from a fixed, public demo seed, the participant's label and the wave (attempt 0,
1, 2, ...): a rerun derives the same code, finds its hash and reuses it while it still works.
When a demo code was used up (revoked or replaced; completed pupils are skipped), the next
derivation replaces it, so the printed codes always work. Because the seed is public, the demo
refuses to run in production (SURVEYAPP_ENV=production); so do its fixed passwords.
"""

from __future__ import annotations

import hashlib
import hmac

import click
from flask import current_app
from flask.cli import with_appcontext

from ..admin import schools as school_svc
from ..admin.accounts import create_user, find_user, set_password, update_user
from ..audit import record
from ..catalog import get_catalog
from ..codes import ALPHABET, CODE_LENGTH, code_hash_key, format_code, hash_code
from ..extensions import db
from ..models import AccessCode, Participant, School, SchoolClass, User, Wave, utcnow
from ..participants import create_participant, live_code, response_for
from ..passwords import verify_password
from ..questionnaire.model import localise
from ..study_sync import sync_study
from ..waves import open_wave

DEMO_SEED = "surveyapp-demo-seed-v1"  # public on purpose: demo data only
DEMO_CODE_COUNT = 5
DEMO_CLASSES = (("4A", 4), ("5B", 5))
DEMO_ACCOUNTS = (
    # username, role, password (fixed, for the demo only)
    ("demo-admin", "admin", "violin-admin-2026"),
    ("demo-researcher", "researcher", "cello-research-2026"),
    ("demo-teacher", "teacher", "flute-teacher-2026"),
)
MAX_ATTEMPTS = 100


def demo_code(label: str, wave_key: str, attempt: int) -> str:
    """The demo code number ``attempt`` of a participant in a wave (deterministic)."""
    digest = hmac.new(
        DEMO_SEED.encode(), f"{label}|{wave_key}|{attempt}".encode(), hashlib.sha256
    ).digest()
    number = int.from_bytes(digest, "big")
    chars = []
    for _i in range(CODE_LENGTH):
        number, index = divmod(number, len(ALPHABET))
        chars.append(ALPHABET[index])
    return "".join(chars)


def _working_demo_code(participant: Participant, wave: Wave) -> str:
    key = code_hash_key()
    live = live_code(participant, wave)
    for attempt in range(MAX_ATTEMPTS):
        code = demo_code(participant.label, wave.key, attempt)
        existing = db.session.execute(
            db.select(AccessCode).filter_by(code_hash=hash_code(code, key))
        ).scalar_one_or_none()
        if existing is None:
            if live is not None:
                live.status = "replaced"
                live.revoked_at = utcnow()
                db.session.flush()
            db.session.add(
                AccessCode(
                    code_hash=hash_code(code, key),
                    participant_id=participant.id,
                    wave_id=wave.id,
                    status="issued",
                )
            )
            record(
                None,
                "codes.replace" if live is not None else "codes.issue",
                f"participant:{participant.label}",
                school=participant.school.code,
                wave=wave.key,
                via="demo",
            )
            db.session.flush()
            return code
        if existing.participant_id == participant.id and existing.status == "issued":
            return code
    raise click.ClickException(f"no free demo code for {participant.label} (reset the database)")


def ensure_demo_codes(school_class: SchoolClass, wave: Wave, count: int) -> list[tuple[str, str]]:
    """``count`` working demo codes for the class and wave: (participant label, clear code)."""
    found: list[tuple[str, str]] = []
    for participant in school_class.participants:
        if len(found) == count:
            break
        if participant.left_at is not None:
            continue
        response = response_for(participant, wave)
        if response is not None and response.completed_at is not None:
            continue  # used up: a completed survey cannot be taken again
        found.append((participant.label, _working_demo_code(participant, wave)))
    while len(found) < count:
        participant = create_participant(school_class)
        db.session.flush()
        found.append((participant.label, _working_demo_code(participant, wave)))
    return found


def _ensure_schools(study) -> list[School]:
    design = get_catalog().study
    schools = []
    for arm in design.arms:
        arm_label = localise(arm.label, "en")
        for number in (1, 2):
            name = f"Demo school {number} ({arm_label})"
            school = school_svc.find_school_by_name(study, name)
            if school is None:
                school = school_svc.create_school(study, name, arm.id, None, via="demo")
            for class_name, year in DEMO_CLASSES:
                if school_svc.find_class(school, class_name) is None:
                    school_svc.create_class(school, class_name, year, None, via="demo")
            schools.append(school)
    return schools


def _ensure_account(username: str, role: str, password: str, schools: list[School]) -> User:
    user = find_user(username)
    if user is None:
        return create_user(username, role, password, schools, None, via="demo")
    if (
        user.role != role
        or not user.active
        or (role == "teacher" and {s.id for s in user.schools} != {s.id for s in schools})
    ):
        update_user(user, role, schools, True, None)
    if not verify_password(user.password_hash, password):
        set_password(user, password, None, via="demo")
    return user


def _open_first_wave(study) -> Wave:
    wave = study.waves[0]
    if not wave.is_open:
        open_wave(wave, None, via="demo")
    return wave


@click.command("demo")
@with_appcontext
def demo() -> None:
    """Create (or refresh) the demo study and print logins, codes and where to open them."""
    config = current_app.config
    if config.get("ENV_NAME") == "production":
        raise click.ClickException(
            "the demo uses a public seed and fixed passwords: it never runs in production"
        )
    design = get_catalog().study
    if design is None:
        raise click.ClickException("no study file is loaded (set STUDY_FILE)")
    study = sync_study(design)
    wave = _open_first_wave(study)
    schools = _ensure_schools(study)
    teacher_school = schools[0]
    accounts = []
    for username, role, password in DEMO_ACCOUNTS:
        _ensure_account(username, role, password, [teacher_school] if role == "teacher" else [])
        accounts.append((username, role, password))
    teacher_class = school_svc.find_class(teacher_school, DEMO_CLASSES[-1][0])
    codes = ensure_demo_codes(teacher_class, wave, DEMO_CODE_COUNT)
    db.session.commit()

    base = config["PUBLIC_URL"].rstrip("/")
    click.echo(f"Demo study '{design.id}' ready; wave '{wave.key}' is open.")
    click.echo(f"Schools: {', '.join(f'{s.code} {s.name} [{s.arm}]' for s in schools)}")
    click.echo("")
    click.echo(f"Staff log in at {base}/auth/login (demo passwords, never use them for real):")
    for username, role, password in accounts:
        click.echo(f"  {role:<11} {username:<16} {password}")
    click.echo(
        f"  teacher area:    {base}/teacher/   ({teacher_school.name}, class {teacher_class.name})"
    )
    click.echo(f"  researcher area: {base}/research/")
    click.echo(f"  admin area:      {base}/admin/")
    click.echo("")
    click.echo(f"Pupils start at {base}/ and type a code, or open a card's link:")
    for label, code in codes:
        click.echo(f"  {label:<8} {format_code(code)}   {base}/s/{code}")


COMMANDS = [demo]
