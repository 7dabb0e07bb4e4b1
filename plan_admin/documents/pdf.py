"""PDF bytes from HTML (a Django template rendered from ledger rows), with fonts that ship with the app.

fpdf2's write_html understands a small set of tags (h1-h6, p, b, i, u, br, hr, ul/ol/li, table/thead/tr/th/td,
font, blockquote), which is what the resolution templates use; a company adapting a template keeps to those tags.
"""

import datetime
import html
import io
import re
from functools import lru_cache
from pathlib import Path

from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.fonts import TextStyle
from pypdf import PdfReader, PdfWriter

from ..exceptions import InvalidInput

FONTS = Path(__file__).resolve().parent / "fonts"
FAMILY = "docserif"
FONT_FILES = {
    "": "DejaVuSerif.ttf",
    "B": "DejaVuSerif-Bold.ttf",
    "I": "DejaVuSerif-Italic.ttf",
    "BI": "DejaVuSerif-BoldItalic.ttf",
}
_TAG = re.compile(r"<[^>]*>")
# Headings in black, sized for a legal document (fpdf2's defaults are dark red and larger).
HEADINGS = {
    "h1": TextStyle(font_style="B", font_size_pt=16, color="#000000", t_margin=2, b_margin=3),
    "h2": TextStyle(font_style="B", font_size_pt=12.5, color="#000000", t_margin=4, b_margin=1.5),
    "h3": TextStyle(font_style="B", font_size_pt=11, color="#000000", t_margin=3, b_margin=1),
}


@lru_cache(maxsize=1)
def _covered() -> frozenset[int]:
    """The code points every style of the bundled font can draw."""
    covered = None
    for name in FONT_FILES.values():
        with TTFont(FONTS / name, lazy=True) as font:
            points = set(font.getBestCmap())
        covered = points if covered is None else covered & points
    return frozenset(covered | {0x0A, 0x0D, 0x09})


def check_glyphs(markup: str) -> None:
    """Refuse text the document's font cannot draw: a PDF that silently drops a character of a name is wrong."""
    text = html.unescape(_TAG.sub(" ", markup))
    missing = sorted({char for char in text if ord(char) not in _covered()})
    if missing:
        shown = ", ".join(f"“{char}” (U+{ord(char):04X})" for char in missing[:10])
        raise InvalidInput(
            f"The document's font cannot print these characters: {shown}. Correct the text (a name, "
            "the factors) or have the template's font extended."
        )


class _Document(FPDF):
    def __init__(self, *, footer: str):
        super().__init__(format="letter", unit="mm")
        self._footer_text = footer
        for style, name in FONT_FILES.items():
            self.add_font(FAMILY, style, str(FONTS / name))
        self.set_margins(22, 20, 22)
        self.set_auto_page_break(True, margin=20)

    def footer(self):
        self.set_y(-14)
        self.set_font(FAMILY, "", 8)
        self.cell(0, 6, f"{self._footer_text} · page {self.page_no()} of {{nb}}", align="C")


def render(markup: str, *, title: str, footer: str, created: datetime.datetime) -> bytes:
    """The PDF of `markup` (HTML from a template). Raises InvalidInput for characters the font cannot draw."""
    check_glyphs(markup)
    pdf = _Document(footer=footer)
    pdf.set_title(title)
    pdf.set_author("plan-admin")
    pdf.set_creator("plan-admin")
    pdf.set_creation_date(created)
    pdf.set_font(FAMILY, "", 10.5)
    pdf.add_page()
    pdf.write_html(markup, font_family=FAMILY, table_line_separators=True, tag_styles=HEADINGS)
    return bytes(pdf.output())


def append_pages(base: bytes, extra: bytes) -> bytes:
    """`base` with the pages of `extra` added as an incremental update: the result begins with `base` byte for byte,
    so the document the directors signed is still there, unchanged, at the start of the signed file."""
    writer = PdfWriter(io.BytesIO(base), incremental=True)
    for page in PdfReader(io.BytesIO(extra)).pages:
        writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    result = out.getvalue()
    if not result.startswith(base):  # pragma: no cover - pypdf's incremental mode guarantees it
        raise RuntimeError("The signature page was not appended as an incremental update.")
    return result


def page_count(data: bytes) -> int:
    return len(PdfReader(io.BytesIO(data)).pages)
