"""City seeding at scale: a played case told again whole days earlier or later, without playing it again.

Playing a case with the live rules (simulation.py) costs about a millisecond; a city has a million cases. So
the city seeder plays a fraction of them and tells each played story again on other days of the year in the
same micro-grid: every instant of the case (its columns, events, hops, department links, extension requests,
the instants inside its event payloads) moves by the same whole number of days (whole weeks where one fits).
Those are exactly the rows the live rules give for the same story reported that much earlier or later, because:

- the rules see time only through the working calendar (`workcalendar`: Monday–Friday plus the CalendarDay
  exceptions, in Asia/Shanghai, which keeps no daylight saving), and a replica is made only when every day from
  the case's first instant to its last (its furthest deadline included) is a working day exactly when the day
  as many days away is;
- the story was played to its end and left no SLA timer running, and its replicas end before the last
  FRESH days too, so nothing depends on when the seed runs (the cases of the last days are all played);
- what names another row is named when the rows are written, in time order, for played cases and replicas
  alike: the case's id and number, an extension request's id (the events naming it too), and the case a merge
  goes into — the micro-grid's latest counted case at that instant, as the seeder picks it when it plays a
  merge (without one, that slot is played again there, where the merge becomes a rejection).

So the seed runs in two passes: `plan` plays the slots no replica fills (in any order, each from its own random
seed, in worker processes: nothing a play reads depends on the other cases) and schedules each played story's
replicas into other days' slots; `rows` writes every scheduled case in time order. What the seeder chose and no rule reads — the title and description among
the topic's words, the household among the micro-grid's, the exact point — is drawn again for each replica.
`verify` plays a written case's story in full at its instant, with the same references, and compares (the seed
stops on any difference); the seed checks a sample, and tests/cases/test_seeding.py checks it too.
"""

import collections
import itertools
import json
import multiprocessing
import os
import random
import re
from datetime import date, datetime, timedelta

from gridcase.core.bulk import copy_text
from gridcase.core.seeding import detach_database
from gridcase.grids.choices import Level

from . import workcalendar

ISO = re.compile(r'"(\d{4}-\d{2}-\d{2}T[0-9:.]+(?:[+-]\d{2}:\d{2})?)"')
# Columns a replica draws again (the seeder's choices, read by no rule), by position in CASE_COLUMNS.
REDRAWN = ("title", "description", "building_id", "unit_id", "household_id", "lat", "lng")
DAY = timedelta(days=1)


def _shift_iso(match, shift):
    return '"' + (datetime.fromisoformat(match.group(1)) + shift).isoformat() + '"'


class _Target:
    """The case a merge goes into, as the merge plan reads it."""

    __slots__ = ("pk", "number")

    def __init__(self, pk, number):
        self.pk, self.number = pk, number


PLACEHOLDER = _Target(0, "")  # the merge target while planning: named when the rows are written


class Template:
    """One played case kept for writing it and its replicas: its rows, with where their instants and references
    are, and `state`: the random seed it was played from (`verify` plays it again from there)."""

    __slots__ = ("row", "events", "hops", "links", "extensions", "merged", "micro", "community", "counted", "first",
                 "last", "state", "topic", "at", "text", "key")

    def __init__(self, rows, columns, state, topic, at):
        row, events, hops, links, extensions = rows
        self.row, self.state, self.topic, self.at, self.text, self.key = row, state, topic, at, None, None
        col = {name: i for i, name in enumerate(columns)}
        self.micro = row[col["grid_id"]]
        self.counted = row[col["status"]] not in ("merged", "rejected")
        self.merged = row[col["merged_into_id"]] is not None
        instants = [v for v in row if type(v) is datetime]
        self.events = []
        for e in events:
            payload = e[7]
            stamped = [datetime.fromisoformat(m) for m in ISO.findall(payload)]
            instants += stamped
            instants.append(e[8])
            # Payloads naming another row are rewritten each time the case is written.
            names = e[1] == "merge" or '"extension"' in payload
            self.events.append((e[1:7], payload, bool(stamped), e[8], names))
        self.hops = [tuple(h[1:]) for h in hops]
        self.links = [tuple(d[1:]) for d in links]
        self.extensions = [(e[0], tuple(e[2:])) for e in extensions]
        for r in (*self.hops, *self.links, *(x for _, x in self.extensions)):
            instants += [v for v in r if type(v) is datetime]
        # The first and last local days: those of the earliest and latest instants (a fixed offset keeps the order).
        self.first = min(instants).astimezone(workcalendar.TZ).date()
        self.last = max(instants).astimezone(workcalendar.TZ).date()
        self.community = None


class Replicas:
    """Plans which slots are played and which are replicas (`plan`), then writes them in time order (`rows`)."""

    def __init__(self, sim, player, columns, per_case: int, weeks: int, fresh_until, verify_every: int = 0,
                 tables=None):
        # `sim` names the rows (numbers, latest case per micro-grid, extension ids) as they are written;
        # `player` plays the slots while planning, with placeholders for those names.
        self.sim, self.player, self.w, self.columns = sim, player, sim.w, columns
        self.per_case, self.weeks, self.fresh_until = per_case, weeks, fresh_until
        self.verify_every, self.made, self.verified, self.played, self.replayed = verify_every, 0, 0, 0, 0
        self.replicas = 0
        self.col = {name: i for i, name in enumerate(columns)}
        self.calendar = workcalendar.current_calendar()
        self.topics = {t[0].pk: t for t in self.w.topics}
        self.tables = tables  # for `lines`: the CopyTables by key (cases, events, hops, departments, extensions)
        self.named_columns = [self.col[name] for name in ("number", "merged_into_id", *REDRAWN)]
        self.templates = []  # by Template.key: what a rendering process finds a case's template by

    def template(self, at, seed, rows, complete):
        """A played slot's rows as a template; replicable when its story ended and left no SLA timer running."""
        c = self.col
        self.played += 1
        tpl = Template(rows, self.columns, seed, self.topics.get(rows[0][c["category_id"]]), at)
        tpl.key = len(self.templates)
        self.templates.append(tpl)
        tpl.community = (self.w.ancestor(tpl.micro, Level.COMMUNITY) or self.w.ancestor(tpl.micro, Level.STREET)
                         or tpl.micro)
        return tpl, complete and not rows[0][c["sla_stage"]]

    def play_many(self, instants, rng) -> list:
        """Play the slots at `instants` with the live rules (a merge goes into a placeholder, named when written),
        each from its own random seed, in PLAY_WORKERS processes when there are many: [(template, replicable)]."""
        work = [(rng.getrandbits(63), at) for at in instants]
        global _PLAYER
        _PLAYER = self.player
        workers = min(PLAY_WORKERS, os.cpu_count() or 1)
        if workers > 1 and len(work) >= PARALLEL_FROM:
            size = max(1, len(work) // (workers * 8))
            chunks = [work[i:i + size] for i in range(0, len(work), size)]
            with multiprocessing.get_context("fork").Pool(workers, initializer=detach_database) as pool:
                played = [r for chunk in pool.imap(_play_chunk, chunks) for r in chunk]
        else:
            played = _play_chunk(work)
        return [self.template(at, seed, rows, complete) for (seed, at), (rows, complete) in zip(work, played,
                                                                                                   strict=True)]

    def plan(self, times, local_day, rng) -> list:
        """[(instant, order, template, days)]: each day gets as many cases as report times were drawn in it.

        The last days' slots are played; of the others, one in `per_case` + 1 (drawn at random) is played, and
        each remaining slot takes a replica of a played story from up to `weeks` weeks away (the same weekday
        first) whose working calendar matches there (each story told at most `per_case` more times), or is
        played when none fits."""
        first, fresh_day = local_day(times[0]), local_day(self.fresh_until)
        origin = first - timedelta(days=7 * self.weeks + 40)
        span = (fresh_day - origin).days + 7 * self.weeks + 80
        # The calendar as one byte per day: a story fits k days away when its window's bytes are the same there.
        calendar = bytes(self.calendar.is_workday(origin + timedelta(days=i)) for i in range(span))
        self.player.last_in_grid = _AlwaysPlaceholder()
        slots = list(times)
        rng.shuffle(slots)
        fresh = [t for t in slots if local_day(t) >= fresh_day]
        others = [t for t in slots if local_day(t) < fresh_day]
        seeds = len(others) // (self.per_case + 1)
        schedule, by_day = [], {}  # by_day: day -> [template, first day, last day + 1, calendar there, times told]

        def played(instants):
            for tpl, replicable in self.play_many(instants, rng):
                schedule.append((tpl.at, len(schedule), tpl, 0))
                if replicable:
                    a, b = (tpl.first - origin).days, (tpl.last - origin).days + 1
                    by_day.setdefault((local_day(tpl.at) - origin).days, []).append([tpl, a, b, calendar[a:b], 0])

        played(fresh + others[:seeds])
        unfilled = []  # slots no story fits (around holidays mostly): played after the loop, all at once
        weeks, fresh, random_ = self.weeks, (fresh_day - origin).days, rng.random
        per_case, half, first_day = self.per_case, ATTEMPTS // 2, (first - origin).days
        for t in others[seeds:]:
            d = (local_day(t) - origin).days
            found = None
            for attempt in range(ATTEMPTS):
                # Whole weeks first (the weekdays' rhythm kept); any whole number of days when none fits.
                draw = random_()
                k = (1 + int(draw * weeks)) * 7 if attempt < half else 1 + int(draw * 7 * weeks)
                k = k if attempt % 2 else -k
                candidates = by_day.get(d - k)
                if not candidates:
                    continue
                candidate = candidates[int(random_() * len(candidates))]
                tpl, a, b, pattern, told = candidate
                # Ends before the fresh days (so before fresh_until), the same calendar there; only the first
                # day's slots can come before the first report time.
                if told >= per_case or fresh <= b + k or calendar[a + k:b + k] != pattern:
                    continue
                at = tpl.at + k * DAY
                if d == first_day and at < times[0]:
                    continue
                found = (at, candidate, k)
                break
            if found is None:
                unfilled.append(t)
                continue
            at, candidate, k = found
            candidate[4] += 1
            schedule.append((at, len(schedule), candidate[0], k))
        played(unfilled)
        schedule.sort(key=lambda s: (s[0], s[1]))
        return schedule

    def _tell(self, tpl, case_id, at, days):
        """Name the case as it is written (cases are written in time order): its number, the case a merge goes
        into, its extension requests' ids, a replica's choices drawn again. None for a merge with no case to merge
        into (played again at its slot)."""
        sim, c = self.sim, self.col
        target = sim.last_in_grid.get(tpl.micro) if tpl.merged else None
        if tpl.merged and target is None:
            return None
        row = list(tpl.row)
        row[c["id"]] = case_id
        row[c["number"]] = sim.number(tpl.community, at)
        if target is not None:
            row[c["merged_into_id"]] = target.pk
        if days:
            self._redraw(tpl, row)
        ids = {}
        for old_id, _ in tpl.extensions:
            ids[old_id] = next(sim.extension_ids)
        self.made += 1
        self.replicas += bool(days)
        if tpl.counted:
            sim.last_in_grid[tpl.micro] = _Target(case_id, row[c["number"]])
        return row, ids, target

    def _checked(self) -> bool:
        return bool(self.verify_every) and (self.made - 1) % self.verify_every == 0

    def rows(self, tpl, case_id, at, days):
        """The case's rows: numbered now (cases are written in time order), instants moved, a replica's choices
        drawn again, references named. A merge with no case to merge into is played again at its slot."""
        told = self._tell(tpl, case_id, at, days)
        if told is None:
            self.replayed += 1
            return self.sim.case(case_id, at)
        row, ids, target = told
        shift = days * DAY
        if days:
            row = [v + shift if type(v) is datetime else v for v in row]
        events = []
        for head, payload, stamped, instant, names in tpl.events:
            events.append((case_id, *head, self._payload(payload, stamped, names, days, ids, target), instant + shift))
        if days:
            hops = [(case_id, *(v + shift if type(v) is datetime else v for v in h)) for h in tpl.hops]
            links = [(case_id, *(v + shift if type(v) is datetime else v for v in d)) for d in tpl.links]
            extensions = [(ids[old], case_id, *(v + shift if type(v) is datetime else v for v in x))
                          for old, x in tpl.extensions]
        else:
            hops = [(case_id, *h) for h in tpl.hops]
            links = [(case_id, *d) for d in tpl.links]
            extensions = [(ids[old], case_id, *x) for old, x in tpl.extensions]
        rows = (tuple(row), events, hops, links, extensions)
        if self._checked():
            self.verify(tpl, at, rows, target, ids[tpl.extensions[0][0]] if tpl.extensions else None)
        return rows

    def lines(self, tpl, case_id, at, days):
        """`rows` as COPY text (bytes), one per table (case, events, hops, department links, extension requests),
        for the seeder to write as they are. A template's events and hops are formatted once (`_Text`); each case
        told from it fills in its id and the payloads naming other rows and moves the days of the instants.
        `verify` compares the text with the story played in full and formatted row by row."""
        named = self._named(tpl, case_id, at, days)
        return named[1] if named[0] is None else self._render(*named)

    def _named(self, tpl, case_id, at, days):
        """The part of `lines` that follows the order of writing (`_tell`): (None, the case's lines) for a case
        played again in full here, else what `_render` needs, the template by its key (sent to another process)."""
        told = self._tell(tpl, case_id, at, days)
        if told is None:
            self.replayed += 1
            return None, self.text_of(self.sim.case(case_id, at))
        row, ids, target = told
        return tpl.key, case_id, at, days, tuple(row[i] for i in self.named_columns), ids, target, self._checked()

    def _render(self, key, case_id, at, days, named_values, ids, target, checked):
        """A named case's lines from its template's text (and, when `checked`, verified)."""
        tpl = self.templates[key]
        tables, shift = self.tables, days * DAY
        case, events, hops, named = tpl.text or self._compile(tpl)
        values = [named_values]
        values += [(self._payload(tpl.events[j][1], tpl.events[j][2], True, days, ids, target),) for j in named]
        values = copy_text(values).split(b"\n")
        holes = dict(enumerate(values[0].split(b"\t"), start=_NAMED))
        holes.update(zip(named, values[1:], strict=False))
        cid = str(case_id).encode()
        lines = (case.render(days, cid, holes), events.render(days, cid, holes), hops.render(days, cid, holes),
                 tables["departments"].text([(case_id, *(v + shift if type(v) is datetime else v for v in d))
                                             for d in tpl.links]) if tpl.links else b"",
                 tables["extensions"].text([(ids[old], case_id, *(v + shift if type(v) is datetime else v for v in x))
                                            for old, x in tpl.extensions]) if tpl.extensions else b"")
        if checked:
            self.verify(tpl, at, lines, target, ids[tpl.extensions[0][0]] if tpl.extensions else None)
        return lines

    def written(self, schedule, first_id):
        """`lines` of every scheduled case in order (ids from `first_id`), as the seeder writes them: each case is
        named here, one after the other (`_named`), and its text made (`_render`) in one of RENDER_WORKERS forked
        processes, chosen by its template (so each process formats a template once), at most AHEAD chunks ahead
        of the writer. The same bytes as `lines` case by case (tests/cases/test_seeding.py)."""
        items = (self._named(tpl, case_id, at, days)
                 for case_id, (at, _, tpl, days) in enumerate(schedule, start=first_id))
        workers = min(RENDER_WORKERS, os.cpu_count() or 1)
        if workers < 2 or len(schedule) < RENDER_FROM:
            for item in items:
                yield item[1] if item[0] is None else self._render(*item)
            return
        global _RENDERER
        _RENDERER = self
        context = multiprocessing.get_context("fork")
        pools = [context.Pool(1, initializer=detach_database) for _ in range(workers)]
        try:
            pending = collections.deque()
            for chunk in iter(lambda: list(itertools.islice(items, RENDER_CHUNK)), []):
                parts, order = [[] for _ in pools], []  # order: per case, its process's number or its lines
                for item in chunk:
                    if item[0] is None:
                        order.append(item[1])
                    else:
                        order.append(item[0] % workers)
                        parts[order[-1]].append(item)
                pending.append((order, [pool.apply_async(_render_chunk, (part,)) for pool, part in zip(pools, parts,
                                                                                                      strict=True)]))
                if len(pending) > AHEAD:
                    yield from self._merged(*pending.popleft())
            while pending:
                yield from self._merged(*pending.popleft())
            for pool in pools:
                pool.close()
                pool.join()
        finally:
            for pool in pools:
                pool.terminate()

    def _merged(self, order, results):
        rendered = []
        for result in results:
            lines, verified = result.get()
            rendered.append(iter(lines))
            self.verified += verified
        for o in order:
            yield next(rendered[o]) if type(o) is int else o

    @staticmethod
    def _payload(payload, stamped, names, days, ids, target):
        if stamped and days:
            shift = days * DAY
            payload = ISO.sub(lambda m: _shift_iso(m, shift), payload)
        if names:
            payload = _renamed(payload, ids, target)
        return payload

    def text_of(self, rows) -> tuple:
        """Rows (a case's, as `rows` gives them) as COPY text, one per table."""
        tables = self.tables
        row, events, hops, links, extensions = rows
        return (tables["cases"].text([row]), *(tables[key].text(rs) for key, rs in (
            ("events", events), ("hops", hops), ("departments", links), ("extensions", extensions))))

    def _compile(self, tpl):
        """The template's case, events and hops as COPY text with holes (`_Text`): the case's id, the columns
        named anew for each case told (number, merge target, redrawn choices), the payloads naming other rows, and
        the day of every instant."""
        row = list(tpl.row)
        row[self.col["id"]] = _CASE
        for k, i in enumerate(self.named_columns, start=_NAMED):
            row[i] = f"\x1e{k}\x1e"
        named = [j for j, e in enumerate(tpl.events) if e[4]]
        events = self.tables["events"].text(
            [(_CASE, *head, f"\x1e{j}\x1e" if names else payload, instant)
             for j, (head, payload, _, instant, names) in enumerate(tpl.events)])
        hops = self.tables["hops"].text([(_CASE, *h) for h in tpl.hops])
        tpl.text = (_Text(self.tables["cases"].text([row])), _Text(events), _Text(hops), named)
        return tpl.text

    def _redraw(self, tpl, row):
        c, rng = self.col, self.sim.rng
        if tpl.topic is not None:
            row[c["title"]] = rng.choice(tpl.topic[2])
            row[c["description"]] = rng.choice(tpl.topic[3])
        if row[c["building_id"]] is not None and self.w.households.get(tpl.micro):
            household, unit, building = rng.choice(self.w.households[tpl.micro])
            row[c["building_id"]], row[c["unit_id"]] = building, unit
            if row[c["household_id"]] is not None:
                row[c["household_id"]] = household
        centre = self.w.centroid.get(tpl.micro)
        if row[c["lat"]] is not None and centre and centre[0] is not None:
            row[c["lat"]] = centre[0] + rng.uniform(-0.0008, 0.0008)
            row[c["lng"]] = centre[1] + rng.uniform(-0.0008, 0.0008)

    def verify(self, tpl, at, rows, target=None, first_extension=None):
        """Play the written case's story in full at its instant (the same merge target, the same next extension
        id) and compare; any difference but the number and the redrawn columns stops the seed. `rows` as `rows`
        gives them, or as COPY text (`lines`): then the full play is formatted row by row and compared as text."""
        text = type(rows[0]) is bytes
        case_id = int(rows[0].split(b"\t", 1)[0]) if text else rows[0][self.col["id"]]
        player = type(self.sim)(self.w, random.Random(tpl.state), self.sim.now, first_extension or 1)
        player.last_in_grid[tpl.micro] = target or PLACEHOLDER
        full = player.case(case_id, at)
        if text:
            played = list(self.text_of(full))
            fields, told = played[0].split(b"\t"), rows[0].split(b"\t")
            for name in ("number", *REDRAWN):
                fields[self.col[name]] = told[self.col[name]]
            played[0] = b"\t".join(fields)
            played = [line for part in played for line in part.splitlines()]
            told = [line for part in rows for line in part.splitlines()]
        else:
            played, told = _comparable(self.columns, full), _comparable(self.columns, rows)
        if played != told:
            diff = next(((p, t) for p, t in zip(played, told, strict=False) if p != t), (played, told))
            raise RuntimeError(f"seed: the case written at {at} differs from its story played in full there: {diff}")
        self.verified += 1


_CASE = -987654321987  # the case's id in a template's text, filled in for each case told
_NAMED = 1_000_000  # holes from here on: the case's columns named per case (below: its events' payloads)
# In a template's text: the case's id, a payload named per case (\x1e, never escaped by COPY, around its event's
# index) and the day of an instant (a column's or inside a payload).
_HOLES = re.compile(rb"(-987654321987)|\x1e(\d+)\x1e|(\d{4}-\d{2}-\d{2})(?=[ T]\d{2}:\d{2}:\d{2})")
class _Days(dict):
    """A day's ordinal -> its date as COPY text."""

    def __missing__(self, ordinal):
        day = self[ordinal] = date.fromordinal(ordinal).isoformat().encode()
        return day


_DAYS = _Days()


class _Text:
    """Rows as COPY text with holes: the case's id, payloads named per case, and the day of each instant (a case
    told whole days away moves only those: every instant keeps its own offset, and the calendar days of a fixed
    offset are whole days). `render(days, case_id, payloads)` gives the text."""

    __slots__ = ("parts", "days", "ids", "payloads")

    def __init__(self, text: bytes):
        self.parts, self.days, self.ids, self.payloads = [], [], [], []
        at = 0
        for m in _HOLES.finditer(text):
            self.parts.append(text[at:m.start()])
            at = m.end()
            slot = len(self.parts)
            self.parts.append(b"")
            if m.group(1):
                self.ids.append(slot)
            elif m.group(2):
                self.payloads.append((slot, int(m.group(2))))
            else:
                self.days.append((slot, date.fromisoformat(m.group(3).decode()).toordinal()))
        self.parts.append(text[at:])

    def render(self, days, case_id: bytes, payloads) -> bytes:
        parts = self.parts
        if len(parts) == 1:
            return parts[0]
        parts, day = parts.copy(), _DAYS
        for i, ordinal in self.days:
            parts[i] = day[ordinal + days]
        for i in self.ids:
            parts[i] = case_id
        for i, j in self.payloads:
            parts[i] = payloads[j]
        return b"".join(parts)


ATTEMPTS = 160  # days tried for a slot before it is played
PLAY_WORKERS = 2  # processes playing the slots (at most the machine's cores)
RENDER_WORKERS = 2  # processes making the written cases' text (`Replicas.written`)
RENDER_FROM = 20_000  # cases: fewer are made in this process
RENDER_CHUNK = 2_000  # cases sent to the rendering processes at a time
AHEAD = 4  # chunks rendered ahead of the writer at most
_RENDERER = None  # the writing Replicas, handed to the rendering processes by fork
PARALLEL_FROM = 2000  # slots: fewer are played in this process
_PLAYER = None  # the planning Simulator, handed to the worker processes by fork


def _render_chunk(items):
    """In a rendering process: the lines of named cases, and how many were verified."""
    reps = _RENDERER
    before = reps.verified
    return [reps._render(*item) for item in items], reps.verified - before


def _play_chunk(work):
    player, out = _PLAYER, []
    for seed, at in work:
        player.rng.seed(seed)
        rows = player.case(0, at)
        out.append((rows, player.complete))
    return out


class _AlwaysPlaceholder(dict):
    """While planning, every micro-grid has a latest case to merge into (named when the rows are written)."""

    def get(self, key, default=None):
        return PLACEHOLDER

    def __setitem__(self, key, value):
        pass


def _renamed(payload, extension_ids, target):
    """An event's payload with the extension requests and the merge target of the case as written."""
    data = json.loads(payload)
    if "extension" in data:
        data["extension"] = extension_ids[data["extension"]]
    if target is not None and "merged_into" in data:
        data["merged_into"], data["into_number"] = target.pk, target.number
    return json.dumps(data)


def _comparable(columns, rows):
    row, events, hops, links, extensions = rows
    skip = {"id", "number", *REDRAWN}
    case = {k: v for k, v in zip(columns, row, strict=True) if k not in skip}
    return (case, [tuple(e[1:]) for e in events], [tuple(h[1:]) for h in hops], [tuple(d[1:]) for d in links],
            [tuple(e) for e in extensions])
