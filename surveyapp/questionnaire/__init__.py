"""Questionnaires: YAML -> typed model, validation, conditions and scoring. Pure: no Flask, no DB."""
