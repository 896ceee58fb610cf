"""The one CJK font finder for every PDF (monthly report, QR posters, meeting minutes), embedded as a subset:
REPORT_FONT / POSTER_FONT if set, else the first usable system font.

reportlab embeds TrueType outlines only: the Noto CJK collections Debian ships (`fonts-noto-cjk`) are OpenType/CFF
and are refused ("postscript outlines are not supported"), so each candidate is tried and skipped when refused.
WenQuanYi Micro Hei (`fonts-wqy-microhei`, TrueType) is the usual one that works. Without any, the built-in CID font
STSong-Light is used: the PDF still opens and shows Chinese, but the reader's viewer supplies the glyphs.
"""

import logging
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont

logger = logging.getLogger("gridcase.fonts")

CANDIDATES = [
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansSC-Regular.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # CFF: refused by reportlab today, tried last
]
FALLBACK = "STSong-Light"
NAME = "GridCaseCJK"


@lru_cache(maxsize=1)
def cjk_font() -> str:
    """The registered font's name: NAME (embedded TrueType subset) or FALLBACK (not embedded)."""
    configured = [p for p in (getattr(settings, "REPORT_FONT", ""), getattr(settings, "POSTER_FONT", "")) if p]
    for path in configured + CANDIDATES:
        if not Path(path).is_file():
            continue
        try:
            kwargs = {"subfontIndex": 0} if path.lower().endswith(".ttc") else {}
            pdfmetrics.registerFont(TTFont(NAME, path, **kwargs))
        except (TTFError, OSError) as exc:
            logger.info("Font %s not usable for PDFs: %s", path, exc)
            continue
        return NAME
    logger.warning("No TrueType CJK font found: PDFs use %s, not embedded (install fonts-wqy-microhei).", FALLBACK)
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK))
    return FALLBACK


def embedded() -> bool:
    return cjk_font() == NAME
