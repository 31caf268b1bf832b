"""The one CJK font lookup of every PDF the portal makes (研習證明, the planning 說明手冊).

Debian's fonts-noto-cjk (installed in the image and by CI) ships Noto CJK as TrueType collections
(.ttc) whose face 3 is Traditional Chinese; settings.CJK_FONT_FILES lists the files to try.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext_lazy as _

# Index of the Traditional Chinese face in a Noto CJK collection (JP, KR, SC, TC, HK).
TC_FACE = 3

MSG_NO_FONT = _("伺服器缺少中文字型（fonts-noto-cjk），暫時無法產生 PDF，請聯絡系統管理者。")


class FontMissing(Exception):
    """No CJK font file on this server: the PDF cannot be made (never a silent 404)."""

    def __init__(self, tried: list[str]):
        self.tried = tried
        super().__init__(f"no CJK font among {tried} (apt-get install fonts-noto-cjk or set CJK_FONT_FILE)")

    @property
    def message(self) -> str:
        return str(MSG_NO_FONT)


@dataclass(frozen=True)
class Font:
    path: str
    index: int  # the face of a collection (0 for a single-font file)


def cjk_font() -> Font:
    """The first configured font file that exists, or FontMissing."""
    tried = [str(path) for path in settings.CJK_FONT_FILES]
    for path in tried:
        if Path(path).is_file():
            return Font(path, TC_FACE if path.lower().endswith(".ttc") else 0)
    raise FontMissing(tried)


def available() -> bool:
    try:
        cjk_font()
    except FontMissing:
        return False
    return True
