"""Cohorts: which arm a participant belongs to (the wave comes from the code they use).

By default a participant takes their class's arm, else their school's arm. Randomised
designs allocate at school, class or pupil level (see ``surveyapp.study.allocation``).
An arm, once set on a participant, never changes.
"""

from __future__ import annotations

from .models import Participant


def allocate_participant(participant: Participant) -> str | None:
    """Fix the participant's arm if it is not fixed yet; return it."""
    if participant.arm is None:
        school_class = participant.school_class
        participant.arm = school_class.arm or school_class.school.arm
    return participant.arm
