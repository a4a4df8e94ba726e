"""Ids: valid, unique ignoring case, and free of the words and columns that are taken.

Ids of questions, grid rows, pages and constructs share one namespace because they all
become export columns.
"""

from __future__ import annotations

import re
from typing import Any

from ...yamlsource import Path_
from ..columns import MAX_COLUMN_NAME, META_COLUMNS, option_column
from ..condition_parser import KEYWORDS
from ..model import VARIABLE_NAME
from .base import CheckerBase

_VARIABLE = re.compile(VARIABLE_NAME)


class NameChecks(CheckerBase):
    """Ids, and the export columns they and multi_choice choices will become."""

    def check_name(self, path: Path_, name: Any, what: str) -> None:
        """Ids, row ids and page ids share one namespace: they all become export columns."""
        if not isinstance(name, str) or not _VARIABLE.match(name):
            return  # the type check reports invalid variable names
        if name in KEYWORDS:
            self.add(
                path,
                f"{what} '{name}' is a word of the show_if language",
                "rename it, so that conditions can refer to it",
            )
        if name in META_COLUMNS:
            self.add(
                path,
                f"{what} '{name}' clashes with the export column '{name}'",
                f"these names are reserved: {', '.join(META_COLUMNS)}",
            )
        key = name.lower()
        if key in self.names:
            first, first_path = self.names[key]
            line = self.source.position(first_path)[0]
            message = (
                f"duplicate id '{name}': already used at line {line}"
                if first == name
                else f"id '{name}' differs only in case from '{first}' at line {line}"
            )
            self.add(
                path,
                message,
                "ids of questions, grid rows, pages and constructs become export columns, "
                "so each must be unique, ignoring case",
            )
            return
        self.names[key] = (name, path)

    def check_multi_choice_columns(self) -> None:
        """A multi_choice question exports one 0/1 column per choice, named <id>_<code>."""
        for item in list(self.answerables.values()):
            if item.kind != "multi_choice" or not item.codes:
                continue
            where = (*item.path, "id")
            for code in item.codes:
                if code < 0:
                    self.add(
                        where,
                        f"multi_choice '{item.id}' has the negative code {code}, which would "
                        f"make the export column '{item.id}_{code}'",
                        "use codes 0 or above for multi_choice choices",
                    )
                    continue  # no id can clash with it: ids hold no '-'
                column = option_column(item.id, code)
                if len(column) > MAX_COLUMN_NAME:
                    self.add(
                        where,
                        f"multi_choice '{item.id}' makes the export column '{column}', "
                        f"longer than {MAX_COLUMN_NAME} characters",
                        "shorten the id",
                    )
                clash = self.names.get(column.lower())
                if clash:
                    self.add(
                        clash[1],
                        f"id '{clash[0]}' clashes with the export column '{column}' "
                        f"of multi_choice question '{item.id}' (line "
                        f"{self.source.position(where)[0]})",
                        "rename one of them",
                    )
