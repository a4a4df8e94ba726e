"""Text cells that are safe to open in a spreadsheet.

Free text from pupils or teachers that starts with ``=``, ``+``, ``-``, ``@`` or a tab/CR
becomes a live formula when a CSV is opened in Excel or LibreOffice ("CSV injection").
Such text gets a leading apostrophe, the spreadsheets' own "this is text" mark; numbers and
codes are never touched. The codebook says so wherever free text is exported.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """``text`` unchanged, or with a leading apostrophe if a spreadsheet would run it."""
    if text and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text
