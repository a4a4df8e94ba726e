"""Printed cards: a QR code (inline SVG) that opens ``<PUBLIC_URL>/s/<code>``, and sheet data.

The SVG has no ids, no inline styles and no scripts, so many cards can sit on one page under
the strict Content-Security-Policy, and it prints sharp at any size.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import qrcode
import qrcode.image.svg
from flask import current_app, render_template
from markupsafe import Markup
from qrcode.compat.etree import ET

from .codes import format_code
from .participants import IssuedCard

CARDS_PER_PAGE = 10
CARDS_CSS = Path(__file__).resolve().parent / "static" / "css" / "cards.css"


class CardQrImage(qrcode.image.svg.SvgPathFillImage):
    """One ``<path>`` on a white square, sized by CSS; no ``id`` (cards repeat on a page)."""

    def _svg(self, viewBox=None, **kwargs):  # noqa: N803 - qrcode's own parameter name
        svg = super()._svg(viewBox=viewBox, **kwargs)
        for attr in ("width", "height"):
            svg.attrib.pop(attr, None)
        svg.set("class", "qr")
        svg.set("aria-hidden", "true")
        svg.set("focusable", "false")
        return svg

    def process(self):
        super().process()
        if self.path is not None:
            self.path.attrib.pop("id", None)


def qr_svg(data: str) -> str:
    """An SVG document (as text) of a QR code for ``data``, medium error correction."""
    qr = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=10,
        border=4,
        image_factory=CardQrImage,
    )
    qr.add_data(data)
    qr.make(fit=True)
    return ET.tostring(qr.make_image().get_image(), encoding="unicode")


def code_url(code: str) -> str:
    """The link a card's QR code opens: the pupil's start with the code filled in."""
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    return f"{base}/s/{code}"


@dataclass(frozen=True)
class Card:
    code: str  # grouped for reading: ABCD-2345
    url: str
    qr: Markup
    class_name: str
    label: str
    wave_label: str


def build_cards(issued: list[IssuedCard]) -> list[Card]:
    cards = []
    for item in issued:
        url = code_url(item.code)
        cards.append(
            Card(
                code=format_code(item.code),
                url=url,
                qr=Markup(qr_svg(url)),  # noqa: S704 - our own SVG: no user text inside
                class_name=item.class_name,
                label=item.label,
                wave_label=item.wave_label,
            )
        )
    return cards


def sheet_pages(cards: list[Card], per_page: int = CARDS_PER_PAGE) -> list[list[Card]]:
    """The cards in A4 pages of ``per_page`` (the print CSS breaks the page after each)."""
    return [cards[i : i + per_page] for i in range(0, len(cards), per_page)]


def render_standalone_sheet(issued: list[IssuedCard], title: str) -> str:
    """A self-contained HTML card sheet (CSS embedded) for the CLI to write to a file."""
    cards = build_cards(issued)
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        return render_template(
            "teacher/cards_standalone.html",
            pages=sheet_pages(cards),
            count=len(cards),
            title=title,
            css=Markup(CARDS_CSS.read_text(encoding="utf-8")),  # noqa: S704 - our own file
        )
