"""The checks behind :mod:`surveyapp.questionnaire.validation`, one module per kind.

Each module holds one mixin of :class:`~.base.CheckerBase`; the validation module's
``Checker`` combines them and walks the file. Pure: no Flask, no database.
"""
