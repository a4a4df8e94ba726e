"""Languages and visible texts: every text in every declared language, none empty."""

from __future__ import annotations

import re
from typing import Any

from ...yamlsource import Path_
from ..model import Choice, Construct, GridRow, NumberQuestion, Page, Questionnaire
from .base import CheckerBase

# Fields holding visible text (a plain string or a language map), per kind of mapping.
TEXT_FIELDS = {
    "questionnaire": ("title", "description"),
    "choice": ("label",),
    "page": ("title",),
    "question": ("text", "help", "label", "unit"),
    "grid_row": ("text", "label"),
    "construct": ("label",),
}
TEXT_OWNERS: dict[str, type] = {
    "questionnaire": Questionnaire,
    "choice": Choice,
    "page": Page,
    "question": NumberQuestion,  # has every text field a question can have
    "grid_row": GridRow,
    "construct": Construct,
}
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")


class TextChecks(CheckerBase):
    """Declared languages, and a non-empty text in each of them wherever text is shown."""

    def check_languages(self, data: dict) -> None:
        languages = data.get("languages")
        if not isinstance(languages, list):
            return
        seen: set[str] = set()
        for index, language in enumerate(languages):
            if not isinstance(language, str) or not LANGUAGE_CODE.match(language):
                self.add(
                    ("languages", index),
                    f"'{language}' is not a language code",
                    "a code such as en, cy, pl or pt-BR",
                )
                continue
            if language in seen:
                self.add(("languages", index), f"language '{language}' is listed twice")
                continue
            seen.add(language)
            self.languages.append(language)
        default = data.get("default_language", "en")
        if isinstance(default, str) and self.languages and default not in self.languages:
            where = ("default_language",) if "default_language" in data else ("languages",)
            self.add(
                where,
                f"default_language '{default}' is not among languages",
                f"one of: {', '.join(self.languages)}",
            )

    def check_language_names(self, data: dict) -> None:
        names = data.get("language_names")
        if isinstance(names, dict) and self.languages:
            for key in names:
                if key not in self.languages:
                    self.add(
                        ("language_names", key),
                        f"name given for undeclared language '{key}'",
                        f"declared: {', '.join(self.languages)}",
                    )

    def check_texts(self, path: Path_, node: dict, kind: str) -> None:
        model = TEXT_OWNERS[kind]
        for name in TEXT_FIELDS[kind]:
            if name not in node:
                continue  # a missing required text is reported by the type check
            if node[name] is not None:
                self.check_text((*path, name), node[name], name)
            elif name in model.model_fields and model.model_fields[name].is_required():
                self.add((*path, name), f"'{name}' is empty", "write the text")

    def check_text(self, path: Path_, value: Any, name: str) -> None:
        if isinstance(value, str):
            if not value.strip():
                self.add(path, f"'{name}' is empty", "write the text, or leave the key out")
            return
        if not isinstance(value, dict):
            self.add(
                path,
                f"'{name}' must be text",
                "quote it, or give one text per language such as {en: ..., cy: ...}",
            )
            return
        if not self.languages:
            return
        for key, text in value.items():
            if key not in self.languages:
                self.add(
                    (*path, key),
                    f"text for undeclared language '{key}'",
                    f"declared: {', '.join(self.languages)}; add it to languages or remove it",
                )
            elif not isinstance(text, str) or not text.strip():
                self.add(
                    (*path, key),
                    f"the '{key}' text of '{name}' is empty or not text",
                    "write the translation in quotes",
                )
        for language in self.languages:
            if language not in value:
                self.add(
                    path,
                    f"'{name}' has no text for language '{language}'",
                    f"add {language}: ...; this file declares {', '.join(self.languages)}",
                )

    def check_audio(self, path: Path_, audio: Any) -> None:
        """Recordings may only be given for declared languages."""
        if isinstance(audio, dict) and self.languages:
            for key in audio:
                if key not in self.languages:
                    self.add(
                        (*path, "audio", key),
                        f"audio for undeclared language '{key}'",
                        f"declared: {', '.join(self.languages)}",
                    )
