"""Pinyin forms of names so residents can be found by typing `zhangsan` or `zs`."""

from pypinyin import Style, lazy_pinyin


def full_pinyin(name: str) -> str:
    return "".join(lazy_pinyin(name or "", errors="ignore")).lower()


def initials(name: str) -> str:
    return "".join(lazy_pinyin(name or "", style=Style.FIRST_LETTER, errors="ignore")).lower()[:20]
