"""Printable QR posters (A4 PDF) for the stairwells: one page per micro-grid, in Chinese, fonts embedded.

The QR code (segno) is drawn as vector squares, so it prints sharp at any size; it opens
`PUBLIC_URL/intake/<qr_token>`. Text uses the CJK TrueType font `gridcase.core.fonts` finds (POSTER_FONT, else
WenQuanYi Micro Hei where installed), embedded as a subset; without one, the built-in STSong-Light, not embedded,
so deployments should install `fonts-wqy-microhei` or set POSTER_FONT.
"""

import io

import segno
from django.conf import settings
from reportlab.lib.colors import HexColor, black, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas

from gridcase.core import fonts
from gridcase.grids import tree

from . import services

ACCENT = HexColor("#c8161d")  # the red of community notices
MAX_PAGES = 2000


def intake_url(grid) -> str:
    return f"{settings.PUBLIC_URL}/intake/{grid.qr_token}"


def _centred(c, text, y, size, font, colour=black):
    c.setFillColor(colour)
    c.setFont(font, size)
    c.drawCentredString(A4[0] / 2, y, text)


def _fit(text, font, size, width) -> int:
    while size > 10 and pdfmetrics.stringWidth(text, font, size) > width:
        size -= 1
    return size


def _qr(c, url, x, y, side):
    qr = segno.make(url, error="m", micro=False)
    matrix = [list(row) for row in qr.matrix]
    n = len(matrix) + 8  # four modules of quiet zone on each side
    cell = side / n
    c.setFillColor(white)
    c.rect(x, y, side, side, stroke=0, fill=1)
    c.setFillColor(black)
    # One path of horizontal runs, filled once: no hairline seams between modules when printed or rendered.
    path = c.beginPath()
    for r, row in enumerate(matrix):
        col = 0
        while col < len(row):
            if not row[col]:
                col += 1
                continue
            start = col
            while col < len(row) and row[col]:
                col += 1
            path.rect(x + (start + 4) * cell, y + side - (r + 5) * cell, (col - start) * cell, cell * 1.02)
    c.drawPath(path, stroke=0, fill=1)


def page(c, grid, path, worker_name):
    font = fonts.cjk_font()
    width, height = A4
    c.setFillColor(ACCENT)
    c.rect(0, height - 52 * mm, width, 52 * mm, stroke=0, fill=1)
    _centred(c, "有事就找网格员", height - 30 * mm, 44, font, white)
    _centred(c, "扫一扫 · 反映问题 · 查看进度", height - 44 * mm, 20, font, white)
    side = 120 * mm
    _qr(c, intake_url(grid), (width - side) / 2, height - 60 * mm - side, side)
    y = height - 72 * mm - side
    title = grid.name
    _centred(c, title, y, _fit(title, font, 30, width - 30 * mm), font)
    where = " › ".join(path[:-1])
    if where:
        _centred(c, where, y - 11 * mm, _fit(where, font, 14, width - 30 * mm), font, HexColor("#555555"))
    line = f"网格员：{worker_name}" if worker_name else "网格员：社区安排中"
    if grid.public_phone:
        line += f"    工作电话：{grid.public_phone}"
    _centred(c, line, y - 26 * mm, _fit(line, font, 20, width - 30 * mm), font)
    c.setStrokeColor(HexColor("#dddddd"))
    c.line(20 * mm, 30 * mm, width - 20 * mm, 30 * mm)
    notes = ["用微信或手机相机扫描二维码，无需登录。提交后请保存查询码，可随时查看办理进度并评价。",
             "紧急情况请直接拨打 110 / 119 / 120。"]
    for i, note in enumerate(notes):
        _centred(c, note, 22 * mm - i * 7 * mm, _fit(note, font, 11, width - 30 * mm), font, HexColor("#444444"))
    c.setFont(font, 7)
    c.setFillColor(HexColor("#999999"))
    c.drawRightString(width - 10 * mm, 6 * mm, grid.code)


def render(grids) -> bytes:
    """One A4 page per micro-grid (in the order given)."""
    grids = list(grids)[:MAX_PAGES]
    paths = tree.ancestor_paths(grids, include_self=True) if grids else {}
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4, pageCompression=1)
    c.setTitle("居民扫码上报二维码")
    c.setAuthor("GridCase")
    for grid in grids:
        page(c, grid, paths.get(grid.pk, [grid.name]), services.worker_name(grid))
        c.showPage()
    c.save()
    return out.getvalue()
