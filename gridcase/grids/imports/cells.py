"""Parsing cells: one row's values cleaned and checked (names, ID number, gender, birth date, phone, tags),
with a reason for every value refused. Nothing here reads the database."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from gridcase.core import crypto

from ..choices import Gender
from ..people import valid_id_number
from .reading import REQUIRED
from .reasons import reason

GENDERS = {"男": Gender.MALE, "女": Gender.FEMALE, "male": Gender.MALE, "female": Gender.FEMALE, "m": Gender.MALE,
           "f": Gender.FEMALE, "男性": Gender.MALE, "女性": Gender.FEMALE, "未知": Gender.UNKNOWN,
           "unknown": Gender.UNKNOWN}
TAG_SPLIT = re.compile(r"[,，、;；/|\s]+")
PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}\d{7,8}|\d{7,8})$")
DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
LIMITS = {"name": 60, "relation": 20, "note": 200, "room": 30, "unit": 60}


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value).strip()


def parse_date(value):
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value)
    m = DATE_RE.match(text)
    if not m and re.fullmatch(r"\d{8}", text):
        m = re.match(r"(\d{4})(\d{2})(\d{2})", text)
    if not m:
        raise ValueError(text)
    return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))


def normalise_phone(text: str) -> str:
    phone = re.sub(r"[\s\-()（）]", "", text)
    if phone.startswith("+86"):
        phone = phone[3:]
    elif phone.startswith("86") and len(phone) == 13:
        phone = phone[2:]
    return phone


@dataclass
class RowData:
    line: int
    values: dict
    reasons: list = field(default_factory=list)


def parse_row(line, cells, columns, known_tags: dict) -> RowData:
    """One row's values and the reasons to refuse it; `known_tags` maps a tag's code or name (lower case) to it."""
    raw = {k: (cells[i] if i < len(cells) else None) for k, i in columns.items()}
    row = RowData(line, {})
    v = row.values
    for key in ("name", "building", "unit", "room", "micro_grid", "relation", "note"):
        v[key] = cell_text(raw.get(key))
    for key in REQUIRED:
        if not v[key]:
            row.reasons.append(reason("required", key))
    for key, limit in LIMITS.items():
        if len(v.get(key, "")) > limit:
            row.reasons.append(reason("too_long", key, max=limit))
    # ID number first: it also gives birth date and gender.
    id_raw = raw.get("id_number")
    id_number = ""
    if isinstance(id_raw, float | int) and not isinstance(id_raw, bool) and id_raw:
        if isinstance(id_raw, float) or len(str(id_raw)) != 18:
            row.reasons.append(reason("id_number_lost_digits", "id_number"))
        else:
            id_number = str(id_raw)
    else:
        id_number = re.sub(r"\s", "", cell_text(id_raw)).upper()
    if id_number and not any(r["code"] == "id_number_lost_digits" for r in row.reasons):
        if not valid_id_number(id_number):
            row.reasons.append(reason("invalid_id_number", "id_number", value=crypto.mask_id_number(id_number)))
            id_number = ""
    v["id_number"] = id_number
    id_birth = date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14])) if id_number else None
    id_gender = (Gender.MALE if int(id_number[16]) % 2 else Gender.FEMALE) if id_number else None

    gender_text = cell_text(raw.get("gender")).lower()
    gender = None
    if gender_text:
        gender = GENDERS.get(gender_text)
        if gender is None:
            row.reasons.append(reason("invalid_gender", "gender", value=gender_text))
        elif id_gender and gender != Gender.UNKNOWN and gender != id_gender:
            row.reasons.append(reason("gender_mismatch", "gender"))
    v["gender"] = gender or id_gender

    birth = None
    if cell_text(raw.get("birth_date")):
        try:
            birth = parse_date(raw.get("birth_date"))
        except ValueError:
            row.reasons.append(reason("invalid_date", "birth_date", value=cell_text(raw.get("birth_date"))))
        else:
            if birth > date.today() or birth.year < 1900:
                row.reasons.append(reason("future_date", "birth_date", value=birth.isoformat()))
            elif id_birth and birth != id_birth:
                row.reasons.append(reason("birth_date_mismatch", "birth_date", value=birth.isoformat()))
    v["birth_date"] = birth or id_birth

    phone_text = cell_text(raw.get("phone"))
    phone = normalise_phone(phone_text) if phone_text else ""
    if phone and not PHONE_RE.match(phone):
        row.reasons.append(reason("invalid_phone", "phone", value=crypto.mask_phone(phone)))
    v["phone"] = phone

    tags_text = cell_text(raw.get("tags"))
    tags = None
    if tags_text and tags_text not in ("无", "-", "—", "none"):
        tags = []
        for part in TAG_SPLIT.split(tags_text):
            if not part:
                continue
            tag = known_tags.get(part.lower())
            if tag is None:
                row.reasons.append(reason("unknown_tag", "tags", value=part))
            elif tag not in tags:
                tags.append(tag)
    elif tags_text:
        tags = []
    v["tags"] = tags
    return row

