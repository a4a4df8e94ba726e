"""What the Content-Security-Policy would block in a page: inline script and style. No tests.

The policy (``script-src 'self'; style-src 'self'``) makes browsers ignore inline ``<script>``
blocks, ``on...=`` handler attributes, ``javascript:`` URLs, ``<style>`` blocks and ``style=``
attributes, so a page that uses them silently breaks. This finds them in the HTML we serve.
"""

from __future__ import annotations

from html.parser import HTMLParser


class _InlineFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name.lower(): value for name, value in attrs}
        if tag == "script":
            kind = (names.get("type") or "").lower()
            data_block = kind in ("application/json", "application/ld+json", "text/template")
            if "src" not in names and not data_block:
                self._in_inline_script = True
                self.problems.append("inline <script> block")
        if tag == "style":
            self.problems.append("<style> block")
        for name, value in names.items():
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...> event handler attribute")
            if name == "style":
                self.problems.append(f"<{tag} style=...> attribute")
            if name in ("href", "src", "action", "formaction") and (
                value or ""
            ).strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}=javascript:...>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_inline_script = False


def inline_code_problems(html: str) -> list[str]:
    finder = _InlineFinder()
    finder.feed(html)
    finder.close()
    return sorted(set(finder.problems))
