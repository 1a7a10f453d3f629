"""A horizontal bar chart as a PNG, drawn with Pillow, for the DOCX.

The PDF draws the same chart in CSS (its labels stay searchable text); Word gets a picture
it shows as is. Drawn at 300 dpi for the 150 mm it is printed at, in Noto Sans CJK SC.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

from audits.rendering import fonts
from audits.rendering.document import Count

DPI = 300
WIDTH_MM = 150
BAR = (140, 10, 10)


def _px(mm: float) -> int:
    return round(mm / 25.4 * DPI)


def bar_chart_png(title: str, counts: tuple[Count, ...]) -> bytes:
    font = ImageFont.truetype(str(fonts.SANS.path), _px(4.2), index=fonts.SANS.index)
    width = _px(WIDTH_MM)
    row = _px(6.5)
    top = _px(9)
    height = top + row * max(len(counts), 1) + _px(2)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((width // 2, _px(1)), title, font=font, fill="black", anchor="ma")
    label_w = max((draw.textlength(c.label, font=font) for c in counts), default=0)
    axis = int(label_w) + _px(4)
    value_w = _px(14)
    span = width - axis - value_w
    most = max((c.count for c in counts), default=0) or 1
    for i, c in enumerate(counts):
        y = top + i * row
        middle = y + row // 2
        draw.text((axis - _px(2), middle), c.label, font=font, fill="black", anchor="rm")
        length = round(span * c.count / most)
        if length:
            draw.rectangle((axis, y + _px(1.3), axis + length, y + row - _px(1.3)), fill=BAR)
        draw.text(
            (axis + length + _px(1.5), middle), str(c.count), font=font, fill="black", anchor="lm"
        )
    draw.line((axis, top, axis, top + row * len(counts)), fill="black", width=_px(0.25))
    out = io.BytesIO()
    image.save(out, "PNG", optimize=False)
    return out.getvalue()
