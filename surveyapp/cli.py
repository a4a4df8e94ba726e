"""Register the `flask ...` command groups; each lives in `surveyapp/commands/`."""

from __future__ import annotations

from flask import Flask


def register_commands(app: Flask) -> None:
    from .commands import ALL_COMMANDS

    for command in ALL_COMMANDS:
        app.cli.add_command(command)
