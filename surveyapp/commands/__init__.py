"""CLI command groups. Add a module here and list its group in ALL_COMMANDS."""

from __future__ import annotations

import importlib

import click

_MODULES = ["questionnaires", "study", "codes", "users", "demo", "export", "translations"]


def _load() -> list[click.Command]:
    commands = []
    for name in _MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}":
                continue  # not written yet
            raise
        commands.extend(getattr(module, "COMMANDS", []))
    return commands


ALL_COMMANDS = _load()
