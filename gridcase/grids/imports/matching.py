"""Resident matching: which stored resident a row is about.

By ID number (its keyed hash, under any configured key while keys rotate); without one, or for a new one, by
(household, name). A person registered outside the import's grid is not matched: the row is held for the
street (`NeedsReview`), unless the street already decided to move them here (`transfers`). The same person
twice in one file is refused the second time.
"""

import re

from gridcase.core import crypto

from .. import tree
from ..models import Resident
from ..people import valid_id_number
from .cells import cell_text
from .reasons import NeedsReview, Refused, reason


class ResidentMatcher:
    def __init__(self, span, transfers=frozenset()):
        self.span, self.transfers = span, frozenset(transfers)
        self.by_hash: dict = {}  # id hash -> Resident or None, per chunk
        self.seen_ids: dict = {}  # id hash -> line
        self.seen_names: dict = {}  # (household id, name) -> line

    def prefetch(self, table, rows):
        """Residents already known by the chunk's ID numbers, in one query (None: not registered)."""
        self.by_hash = {}
        index = table.columns.get("id_number")
        if index is None:
            return
        current = {}  # digest under any configured key -> under the current key (they differ while keys rotate)
        for _line, cells in rows:
            value = re.sub(r"\s", "", cell_text(cells[index] if index < len(cells) else None)).upper()
            if valid_id_number(value):
                current.update(dict.fromkeys(crypto.keyed_hashes(value), crypto.keyed_hash(value)))
        self.by_hash = dict.fromkeys(set(current.values()))
        for r in Resident.objects.select_related("grid").filter(id_number_hash__in=current).order_by("id"):
            if self.by_hash.get(current[r.id_number_hash]) is None:
                self.by_hash[current[r.id_number_hash]] = r

    def earlier_row(self, id_hash) -> int | None:
        """The line of this file that already named this ID number, if any."""
        return self.seen_ids.get(id_hash) if id_hash else None

    def find(self, values: dict, id_hash: str, household_id: int, created_household: bool) -> Resident | None:
        """The stored resident the row is about, or None for a new one. Raises `NeedsReview` for a person
        registered outside the grid and `Refused` for a name this file already gave in this household."""
        resident = None
        if id_hash:
            if id_hash in self.by_hash:  # prefetched for the chunk
                resident = self.by_hash[id_hash]
            else:
                resident = (Resident.objects.select_related("grid")
                            .filter(id_number_hash__in=crypto.keyed_hashes(values["id_number"])).first())
            if (resident is not None and id_hash not in self.transfers
                    and not self.span.contains(tree.span(resident.grid))):
                # Registered in another community: the street decides; the uploader learns nothing more.
                raise NeedsReview(resident)
        if resident is None:
            # Without an ID number (or a new one): the same name in the same household is the same person.
            key = (household_id, values["name"])
            if key in self.seen_names:
                raise Refused(reason("duplicate_in_file", row=self.seen_names[key]))
            if not created_household:  # a household created just now has nobody in it yet
                qs = Resident.objects.filter(household_id=household_id, name=values["name"])
                if id_hash:
                    qs = qs.filter(id_number_hash="")
                resident = qs.first()
        return resident

    def forget(self, id_hash) -> None:
        """The row's savepoint rolled back: the prefetched object may hold rolled-back changes."""
        self.by_hash.pop(id_hash, None)

    def remember(self, line: int, id_hash: str, name_key) -> None:
        """The row was written: later rows naming the same person are refused as duplicates."""
        if id_hash:
            self.seen_ids[id_hash] = line
        self.seen_names[name_key] = line
