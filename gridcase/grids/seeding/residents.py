"""The people of one household as seeded rows: a head, perhaps a spouse, children, an elderly parent, with
names, pinyin, personal data (encrypted, masked and hashed exactly as `Resident` writes them) and tags."""

from pypinyin.constants import PHRASES_DICT

from gridcase.core import crypto

from ..models import Resident
from ..pinyin import full_pinyin, initials


class PersonalData:
    """The same columns Resident.phone / .id_number setters compute, for one clear value each."""

    @staticmethod
    def phone(value):
        if not value:
            return "", "", ""
        return crypto.encrypt(value), crypto.mask_phone(value), value[-4:]

    @staticmethod
    def id_number(value):
        if not value:
            return "", "", ""
        return crypto.encrypt(value), crypto.mask_id_number(value), crypto.keyed_hash(value)


PERSONAL = 8  # where a resident's row holds its clear (phone, ID number) until `sealed`


def personal_columns(pairs) -> list:
    """For each clear (phone, ID number): the six columns Resident's setters compute."""
    return [(*PersonalData.phone(phone), *PersonalData.id_number(id_number)) for phone, id_number in pairs]


def sealed(rows, columns=None) -> list:
    """Residents' rows with their clear personal data replaced by its columns (`columns`: computed already, e.g.
    by `personal_columns` in a worker process, in the rows' order)."""
    if columns is None:
        columns = personal_columns([r[PERSONAL] for r in rows])
    return [r[:PERSONAL] + c + r[PERSONAL + 1:] for r, c in zip(rows, columns, strict=True)]


class Residents:
    """Rows for residents and their tags; `ids` hands out primary keys, `tags` maps tag codes to ids."""

    def __init__(self, rng, people, ids, tags: dict, now):
        self.rng, self.people, self.ids, self.tags, self.now = rng, people, ids, tags, now
        self.pinyin_cache: dict = {}

    def household(self, household_id, grid_id, batch, area=()):
        """One household: a head, perhaps a spouse, children, an elderly parent; tags by age and chance. `area`:
        the values of the columns the caller appends to each row (the micro-grid's community and street)."""
        rng, people = self.rng, self.people
        r = rng.random()
        size = 1 if r < 0.35 else 2 if r < 0.75 else 3 if r < 0.91 else 4 if r < 0.97 else 5
        head_gender = people.gender()
        head_age = people.age(minimum=22)
        surname = people.surname()
        members = [(head_gender, head_age, "户主", surname)]
        if size >= 2:
            spouse_age = max(20, min(99, head_age + rng.randint(-5, 5)))
            members.append(("female" if head_gender == "male" else "male", spouse_age, "配偶", None))
        for _ in range(max(0, size - 2)):
            if head_age < 58 and rng.random() < 0.25:
                members.append((people.gender(), min(99, head_age + rng.randint(24, 32)),
                                "父亲" if len(members) % 2 else "母亲", None))
                continue
            child_age = head_age - rng.randint(22, 36)
            if child_age < 0:
                child_age = rng.randint(0, 5)
            g = people.gender()
            members.append((g, child_age, "子" if g == "male" else "女", surname if rng.random() < 0.9 else None))
        low_income = rng.random() < 0.012
        alone = size == 1
        for gender, age, relation, family in members:
            if relation in ("父亲", "母亲"):
                gender = "male" if relation == "父亲" else "female"
            birth = people.birth_date(age)
            surname = family or people.surname()
            given = people.given_name(gender, birth.year)
            name = surname + given
            pinyin = self.pinyin_of(surname, given)
            phone = people.phone() if age >= 12 and rng.random() < 0.95 else ""
            id_number = people.id_number(birth, gender)
            resident_id = self.ids.take(Resident)
            batch["resident"].append((
                resident_id, household_id, grid_id, name, pinyin[0], pinyin[1], gender, birth,
                (phone, id_number),  # encrypted, masked and hashed by `sealed`, perhaps in another process
                relation, True, "", self.now, self.now, *area,
            ))
            for tag in self.tags_for(age, gender, alone, low_income):
                if tag in self.tags:
                    batch["tag"].append((self.ids.take(Resident.tags.through), resident_id, self.tags[tag]))

    def pinyin_of(self, surname, given):
        """full_pinyin(name), initials(name) as Resident.save computes them, from cached halves.

        Exact: the halves are joined only when no phrase of pypinyin's dictionary crosses the boundary
        (its segmentation is then the same); otherwise the whole name is converted (and cached).
        """
        key = (surname, given)
        cached = self.pinyin_cache.get(key)
        if cached is not None:
            return cached
        name = surname + given
        b = len(surname)
        if any(name[i:j] in PHRASES_DICT for i in range(b) for j in range(b + 1, len(name) + 1)):
            value = (full_pinyin(name), initials(name))
        else:
            s, g = self.pinyin_part(surname), self.pinyin_part(given)
            value = (s[0] + g[0], (s[1] + g[1])[:20])
        self.pinyin_cache[key] = value
        return value

    def pinyin_part(self, text):
        cached = self.pinyin_cache.get(text)
        if cached is None:
            cached = self.pinyin_cache[text] = (full_pinyin(text), initials(text))
        return cached

    def tags_for(self, age, gender, alone, low_income):
        rng = self.rng
        if alone and age >= 65 and rng.random() < 0.85:
            yield "elderly_alone"
        if age >= 80:
            yield "elderly_80"
        if rng.random() < (0.03 if age >= 60 else 0.012):
            yield "disabled"
        if age >= 18 and rng.random() < 0.003:
            yield "mental_disorder"
        if age < 16 and rng.random() < 0.02:
            yield "children_difficulty"
        if low_income:
            yield "low_income"
        if gender == "male" and 40 <= age <= 85 and rng.random() < 0.02:
            yield "veteran"
        if age >= 60 and not alone and rng.random() < 0.01:
            yield "left_behind"

    # departments and accounts ------------------------------------------------------------
