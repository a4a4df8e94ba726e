"""Shared test material for the export tests: a questionnaire written here (so the shipped
questionnaire can change freely) and plain input frames with known answers."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from surveyapp.questionnaire.loader import load_questionnaire

QUESTIONNAIRE_YAML = """
id: export_test
title: {en: "Export test", cy: "Prawf allforio"}
languages: [en, cy]
default_language: en
scales:
  agree4:
    display: faces
    options:
      - {code: 1, label: {en: "No", cy: "Na"}}
      - {code: 2, label: {en: "Not really", cy: "Ddim wir"}}
      - {code: 3, label: {en: "A bit", cy: "Ychydig"}}
      - {code: 4, label: {en: "Yes, a lot", cy: "Ydw, llawer"}}
constructs:
  confidence:
    label: {en: "Confidence", cy: "Hyder"}
    items: [conf_1, conf_2, conf_3]
    reverse: [conf_3]
    score: mean
    min_answered: 2
  wellbeing:
    label: {en: "Wellbeing", cy: "Lles"}
    items: [feel_happy, feel_calm]
    score: sum
pages:
  - id: p_about
    questions:
      - id: intro
        type: info
        text: {en: "Some questions about you.", cy: "Rhai cwestiynau amdanat ti."}
      - id: year_group
        type: single_choice
        identifying: quasi
        label: {en: "Year group", cy: "Blwyddyn"}
        text: {en: "Which year are you in?", cy: "Ym mha flwyddyn wyt ti?"}
        choices:
          - {code: 3, label: {en: "Year 3", cy: "Blwyddyn 3"}}
          - {code: 4, label: {en: "Year 4", cy: "Blwyddyn 4"}}
          - {code: 5, label: {en: "Year 5", cy: "Blwyddyn 5"}}
      - id: gender
        type: single_choice
        identifying: quasi
        text: {en: "Are you a girl or a boy?", cy: "Wyt ti'n ferch neu'n fachgen?"}
        choices:
          - {code: 1, label: {en: "Girl", cy: "Merch"}}
          - {code: 2, label: {en: "Boy", cy: "Bachgen"}}
          - {code: 3, label: {en: "Another way", cy: "Ffordd arall"}}
  - id: p_confidence
    questions:
      - {id: conf_1, type: likert, scale: agree4, text: {en: "I am good at things.", cy: "Rwy'n dda am bethau."}}
      - {id: conf_2, type: likert, scale: agree4, text: {en: "I can learn hard things.", cy: "Gallaf ddysgu pethau anodd."}}
      - {id: conf_3, type: likert, scale: agree4, text: {en: "I often give up.", cy: "Rwy'n rhoi'r gorau iddi yn aml."}}
      - id: feelings
        type: grid
        scale: agree4
        text: {en: "How do you feel?", cy: "Sut wyt ti'n teimlo?"}
        rows:
          - {id: feel_happy, text: {en: "Happy", cy: "Hapus"}}
          - {id: feel_calm, text: {en: "Calm", cy: "Tawel"}}
  - id: p_music
    questions:
      - {id: plays_music, type: yes_no, text: {en: "Do you play music?", cy: "Wyt ti'n chwarae cerddoriaeth?"}}
  - id: p_instruments
    questions:
      - id: instruments
        type: multi_choice
        text: {en: "Which instruments?", cy: "Pa offerynnau?"}
        show_if: "plays_music == 1"
        choices:
          - {code: 1, label: {en: "Violin", cy: "Ffidil"}}
          - {code: 2, label: {en: "Cello", cy: "Soddgrwth"}}
          - {code: 3, label: {en: "Drums", cy: "Drymiau"}}
      - id: practice_minutes
        type: number
        min: 0
        max: 600
        text: {en: "Minutes of practice last week?", cy: "Munudau o ymarfer?"}
        show_if: "plays_music == 1"
      - {id: comment, type: text, text: {en: "Anything else?", cy: "Unrhyw beth arall?"}}
"""


def questionnaire():
    return load_questionnaire("export_test.yaml", text=QUESTIONNAIRE_YAML)


# Known answers for a handful of pupils: answer key -> stored JSON value (None = no row),
# "DECLINED" = declined.
DECLINED = "DECLINED"
START = datetime(2026, 9, 14, 10, 23, 45)


def pupil_answers(i: int) -> dict:
    plays = i % 3 != 0
    answers = {
        "year_group": 3 + i % 3,
        "gender": 1 + i % 2,
        "conf_1": 1 + i % 4,
        "conf_2": 1 + (i + 1) % 4,
        "conf_3": DECLINED if i == 1 else 1 + (i + 2) % 4,
        "feel_happy": 1 + (i * 3) % 4,
        "feel_calm": None if i == 2 else 1 + (i * 5) % 4,
        "plays_music": 1 if plays else 0,
        "comment": f"Comment number {i} & <more>",
    }
    if plays:
        answers["instruments"] = sorted({1 + i % 3, 1 + (i + 1) % 3}) if i % 2 else [1 + i % 3]
        answers["practice_minutes"] = 10 * i
    return answers


def input_frames(n: int = 12, waves=("baseline",)) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Plain input frames (the export_query contract) for ``n`` pupils in two schools."""
    responses, answers = [], []
    rid = 0
    for w, wave in enumerate(waves):
        for i in range(n):
            rid += 1
            started = START + timedelta(days=200 * w, minutes=7 * i)
            responses.append(
                {
                    "response_id": rid,
                    "participant_id": f"pid{i:04d}",
                    "arm": "in_harmony" if i % 2 == 0 else "comparison",
                    "wave": wave,
                    "wave_position": w,
                    "school": "S01" if i % 2 == 0 else "S02",
                    "class": "S01-C01" if i % 2 == 0 else "S02-C01",
                    "questionnaire_id": "export_test",
                    "questionnaire_version": "abc123",
                    "language": "en" if i % 4 else "cy",
                    "started_at": started,
                    "completed_at": None if i == 5 else started + timedelta(minutes=9, seconds=40),
                }
            )
            for key, value in pupil_answers(i).items():
                if value is None:
                    continue
                declined = value == DECLINED
                answers.append(
                    {
                        "response_id": rid,
                        "question_id": key,
                        "value": None if declined else value,
                        "declined": declined,
                    }
                )
    return pd.DataFrame(responses), pd.DataFrame(answers)


# ------------------------------------------------------------------ the same pupils in a database

SCHOOLS = [
    # name, code, arm, class name, class code
    ("Greenfield Primary Academy", "S01", "in_harmony", "Robins 5B", "S01-C01"),
    ("Oakwood Community School", "S02", "comparison", "Kestrels 5K", "S02-C01"),
]


def build_study_in_db(app, study, waves, questionnaire, n: int = 12) -> dict:
    """Schools, classes, pupils, issued access codes (hashed as the card issuing does),
    responses and answers for ``pupil_answers``; returns what must never be exported."""
    from surveyapp.codes import format_code, generate_code, hash_code
    from surveyapp.extensions import db
    from surveyapp.models import (
        AccessCode,
        Answer,
        Participant,
        Response,
        School,
        SchoolClass,
    )

    secrets_out = {"codes": [], "hashes": [], "names": [], "participants": [], "times": []}
    classes = []
    for name, code, arm, class_name, class_code in SCHOOLS:
        school = School(study=study, name=name, code=code, arm=arm)
        school_class = SchoolClass(school=school, name=class_name, code=class_code, year_group=5)
        db.session.add_all([school, school_class])
        classes.append((school, school_class))
        secrets_out["names"] += [name, class_name]
    db.session.flush()
    pupils = []
    for i in range(n):
        school, school_class = classes[i % 2]
        pupil = Participant(
            school_id=school.id,
            class_id=school_class.id,
            number=i + 1,
            label=f"{school_class.name}-{i + 1:02d}",
            arm=school.arm,
        )
        db.session.add(pupil)
        pupils.append(pupil)
    db.session.flush()
    for w, wave in enumerate(waves):
        for i, pupil in enumerate(pupils):
            code = generate_code()
            code_hash = hash_code(code, app.config["CODE_HASH_KEY"])
            db.session.add(
                AccessCode(code_hash=code_hash, participant_id=pupil.id, wave_id=wave.id)
            )
            secrets_out["codes"] += [code, format_code(code)]
            secrets_out["hashes"].append(code_hash)
            started = START + timedelta(days=200 * w, minutes=7 * i)
            completed = None if i == 5 else started + timedelta(minutes=9, seconds=40)
            response = Response(
                participant_id=pupil.id,
                wave_id=wave.id,
                arm=pupil.arm,
                questionnaire_id=questionnaire.id,
                questionnaire_version=questionnaire.version,
                language="en" if i % 4 else "cy",
                started_at=started,
                updated_at=completed or started,
                completed_at=completed,
            )
            db.session.add(response)
            db.session.flush()
            for stamp in (started, completed):
                if stamp is not None:
                    secrets_out["times"] += [
                        stamp.strftime("%Y-%m-%d %H:%M:%S"),
                        stamp.strftime("%Y-%m-%dT%H:%M:%S"),
                        stamp.strftime("%H:%M:%S"),
                    ]
            for key, value in pupil_answers(i).items():
                if value is None:
                    continue
                declined = value == DECLINED
                db.session.add(
                    Answer(
                        response_id=response.id,
                        question_id=key,
                        value=None if declined else value,
                        declined=declined,
                    )
                )
        secrets_out["participants"] += [p.id for p in pupils] + [p.label for p in pupils]
    db.session.commit()
    secrets_out["pupils"] = [p.id for p in pupils]
    return secrets_out


def expected_row(i: int) -> dict:
    """What the wide export must hold for pupil ``i`` (missing codes as the codebook says)."""
    a = pupil_answers(i)
    row = {k: a[k] for k in ("conf_1", "conf_2", "feel_happy", "plays_music")}
    row["conf_3"] = -99 if a["conf_3"] == DECLINED else a["conf_3"]
    row["feel_calm"] = float("nan") if a["feel_calm"] is None else a["feel_calm"]
    if a["plays_music"] == 1:
        for code in (1, 2, 3):
            row[f"instruments_{code}"] = int(code in a["instruments"])
        row["practice_minutes"] = a["practice_minutes"]
    else:
        for code in (1, 2, 3):
            row[f"instruments_{code}"] = -98
        row["practice_minutes"] = -98
    conf = [a["conf_1"], a["conf_2"]] + ([] if a["conf_3"] == DECLINED else [5 - a["conf_3"]])
    row["confidence_score"] = sum(conf) / len(conf)
    feel = [a["feel_happy"], a["feel_calm"]]
    row["wellbeing_score"] = float("nan") if None in feel else float(sum(feel))
    return row


def serve_test_study(app, monkeypatch, n: int = 12):
    """The served study with pupils who answered the test questionnaire in every wave.

    The catalog's questionnaire is swapped for the test one (undone after the test), so the
    shipped questionnaire can change freely. Returns (study, secrets of build_study_in_db).
    """
    from surveyapp.catalog import get_catalog
    from surveyapp.study_sync import ensure_study

    q = questionnaire()
    design = get_catalog().study
    for wave in design.waves:
        monkeypatch.setitem(get_catalog().questionnaires, wave.questionnaire, q)
    monkeypatch.setitem(get_catalog().questionnaires, q.id, q)
    study = ensure_study(design)
    secrets = build_study_in_db(app, study, list(study.waves), q, n=n)
    return study, secrets
