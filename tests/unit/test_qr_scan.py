"""The printed QR codes scan: render the card's SVG to pixels and decode it with zbar."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import pytest
from PIL import Image, ImageDraw

from surveyapp.cards import qr_svg
from surveyapp.codes import generate_code

pyzbar = pytest.importorskip("pyzbar.pyzbar", reason="pyzbar (and Debian's libzbar0) needed")

URLS = [
    "http://localhost:5000/s/ABCD2345",
    "https://survey.example.org/s/" + "Z" * 8,
    "https://a-much-longer-host-name.schools.example.org:8443/survey/s/QRST6789",
]
_MODULE = re.compile(r"M(\d+),(\d+)H(\d+)V(\d+)H(\d+)z")


def _decode(image: Image.Image) -> list[str]:
    return [r.data.decode("utf-8") for r in pyzbar.decode(image.convert("L"))]


def _svg_modules(svg: str) -> tuple[int, list[tuple[int, int]]]:
    """The dark squares an SVG renderer would paint: (size in modules, top-left corners)."""
    root = ET.fromstring(svg)
    size = int(float(root.get("viewBox").split()[2]))
    (path,) = [el for el in root.iter() if el.tag.endswith("path")]
    squares = []
    for x, y, x2, y2, x3 in _MODULE.findall(path.get("d")):
        assert int(x2) == int(x) + 1 and int(y2) == int(y) + 1 and int(x3) == int(x)
        squares.append((int(x), int(y)))
    assert squares, "the path draws no modules"
    return size, squares


@pytest.mark.parametrize("url", [*URLS, "fresh-code"])
def test_card_svg_rendered_by_cairo_scans_back_to_its_url(url):
    if url == "fresh-code":  # generated inside the test so parallel workers collect the same ids
        url = f"http://localhost:5000/s/{generate_code()}"
    try:
        import cairosvg
    except OSError as exc:  # cairocffi cannot find the C library
        pytest.skip(f"Debian's libcairo2 is missing ({exc})")
    svg = qr_svg(url)
    png = cairosvg.svg2png(bytestring=svg.encode("utf-8"), output_width=400, output_height=400)
    assert _decode(Image.open(io.BytesIO(png))) == [url]


@pytest.mark.parametrize("url", URLS)
def test_card_svg_squares_painted_by_hand_scan_back_to_its_url(url):
    """Independent of cairo: paint exactly the squares the SVG path describes."""
    size, squares = _svg_modules(qr_svg(url))
    scale = 8
    image = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, y in squares:
        draw.rectangle([x * scale, y * scale, (x + 1) * scale - 1, (y + 1) * scale - 1], fill=0)
    assert _decode(image) == [url]


def test_card_svg_is_inline_safe():
    svg = qr_svg(URLS[0])
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("class") == "qr" and root.get("aria-hidden") == "true"
    assert root.get("width") is None and root.get("height") is None  # sized by cards.css
    assert "style=" not in svg and "<script" not in svg and " id=" not in svg
    size, _ = _svg_modules(svg)
    assert size >= 21 + 8  # at least version 1 plus the 4-module quiet zone on each side
