"""Every points rule, declared once, and `award()`, the one function that writes an entry.

A rule has a code, default points (per unit: a volunteer hour counts `quantity` hours), who earns it (a worker's
account or a resident) and a label. A community may override a rule's points (`RuleOverride`; 0 switches it off).

`award(rule, source, person)` writes the entry inside the caller's transaction (the same transaction as the
source: a visit, a case event, a campaign answer), exactly once per (rule, source, person) — the unique
constraints decide, so a replayed sync, a resent request or a second sweep adds nothing. Corrections are new
entries (`correct()`), never edits.

Hooks: cases and visits (signals.py: resolved on time, good rating, red SLA, visit on time), campaign answers
(campaigns/answers.py), overdue visits (sweeps.py). Consultation attendance and volunteer hours have no source
model in this tree yet: their modules call `award("consultation_attendance", consultation, person)` and
`award("volunteer_hour", activity_signup, person, quantity=hours)`.
"""

from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridcase.core.errors import ValidationFailed
from gridcase.grids import tree
from gridcase.grids.choices import Level
from gridcase.grids.models import Grid, Resident

from .models import PointEntry, ResidentCredit, RuleOverride

WORKER, RESIDENT = "worker", "resident"


@dataclass(frozen=True)
class Rule:
    code: str
    points: int
    earner: str  # WORKER (an account) or RESIDENT
    label: object


RULES = {r.code: r for r in [
    Rule("visit_on_time", 2, WORKER, _("visit done on time")),
    Rule("case_resolved_on_time", 5, WORKER, _("case resolved on time")),
    Rule("good_rating", 3, WORKER, _("resident satisfied with a case")),
    Rule("campaign_task_done", 1, WORKER, _("campaign task done")),
    Rule("consultation_attendance", 2, WORKER, _("attended a consultation")),
    Rule("volunteer_hour", 1, WORKER, _("volunteer hour")),
    Rule("overdue_visit", -2, WORKER, _("visit overdue")),
    Rule("sla_red", -5, WORKER, _("case deadline breached (red)")),
    # Residents' credit (居民信用积分).
    Rule("resident_report_resolved", 2, RESIDENT, _("reported a problem that was resolved")),
    Rule("resident_consultation", 2, RESIDENT, _("took part in a consultation")),
    Rule("resident_volunteer_hour", 2, RESIDENT, _("volunteer hour")),
    Rule("resident_grant", 1, RESIDENT, _("granted by the community")),
    Rule("redemption", -1, RESIDENT, _("reward redeemed")),
    Rule("correction", 0, WORKER, _("correction")),
]}


def label(code: str) -> str:
    rule = RULES.get(code)
    return str(rule.label) if rule else code


def points_for(rule: Rule, grid) -> int:
    """The rule's points, or its override in the grid's community (one query: the community is found by the
    grid's place in the tree as stored now, whatever an instance in memory holds)."""
    if grid is None:
        return rule.points
    community = Grid.objects.filter(tree.ancestors_of_q(Grid, grid.pk), level=Level.COMMUNITY).order_by("pk")
    override = RuleOverride.objects.filter(community_id=Subquery(community.values("pk")[:1]), rule=rule.code
                                           ).order_by("id").values_list("points", flat=True).first()
    return rule.points if override is None else override


def source_key(source, suffix: str = "") -> tuple[str, int | None, str]:
    kind = source._meta.model_name
    key = f"{kind}:{source.pk}" + (f":{suffix}" if suffix else "")
    return kind, source.pk, key


def award(rule_code: str, source, person, *, grid=None, at=None, quantity=1, points=None, suffix="",
          note="", by=None, corrects=None) -> PointEntry | None:
    """Write the entry of `rule_code` for `person` (an account or a Resident) about `source`, once.
    Returns the new entry, or None when it exists already (or the rule is worth nothing here)."""
    rule = RULES[rule_code]
    if person is None:
        return None
    is_resident = isinstance(person, Resident)
    if is_resident != (rule.earner == RESIDENT) and rule_code != "correction":
        raise ValueError(f"rule {rule_code} is earned by a {rule.earner}")
    value = points if points is not None else points_for(rule, grid) * quantity
    if value == 0:
        return None
    at = at or timezone.now()
    kind, sid, key = source_key(source, suffix)
    entry = PointEntry(user=None if is_resident else person, resident=person if is_resident else None,
                       rule=rule_code, points=value, source_type=kind, source_id=sid, source_key=key,
                       grid=grid, at=at, month=month_of(at), note=note[:200], created_by=by,
                       corrects=corrects)
    if not is_resident and connection.vendor == "postgresql":
        return entry if _insert_once(entry) else None  # written before: exactly once
    try:
        with transaction.atomic():
            entry.save(force_insert=True)
            if is_resident:
                _credit(person, value)
    except IntegrityError:
        if PointEntry.objects.filter(rule=rule_code, source_key=key, **(
                {"resident": person} if is_resident else {"user": person})).exists():
            return None  # written before: exactly once
        raise
    return entry


def _insert_once(entry: PointEntry) -> bool:
    """An account's entry in one statement (`INSERT … ON CONFLICT DO NOTHING RETURNING id`): the unique
    (rule, source_key, user) skips a second one without a savepoint around the insert. True when it was new."""
    meta = PointEntry._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    qn = connection.ops.quote_name
    values = [f.get_db_prep_save(f.pre_save(entry, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
                       f"VALUES ({', '.join(['%s'] * len(fields))}) ON CONFLICT DO NOTHING "
                       f"RETURNING {qn(meta.pk.column)}", values)
        row = cursor.fetchone()
    if row is None:
        return False
    entry.pk = row[0]
    entry._state.adding, entry._state.db = False, connection.alias
    return True


def award_many(rule_code: str, rows) -> int:
    """For seeders: `award` for many (source, account, grid, at) at once — the same points (overrides included)
    and the same exactly-once constraint, written in one INSERT … ON CONFLICT DO NOTHING. Accounts only (a
    resident's entry moves their balance: use `award`)."""
    rule = RULES[rule_code]
    if rule.earner != WORKER:
        raise ValueError(f"rule {rule_code} is earned by a {rule.earner}")
    value_of: dict = {}
    entries = []
    for source, person, grid, at in rows:
        gid = getattr(grid, "pk", None)
        if gid not in value_of:
            value_of[gid] = points_for(rule, grid)
        if not value_of[gid]:
            continue
        kind, sid, key = source_key(source)
        entries.append(PointEntry(user=person, rule=rule_code, points=value_of[gid], source_type=kind, source_id=sid,
                                  source_key=key, grid=grid, at=at, month=month_of(at)))
    before = PointEntry.objects.filter(rule=rule_code).count()
    PointEntry.objects.bulk_create(entries, batch_size=2000, ignore_conflicts=True)
    return PointEntry.objects.filter(rule=rule_code).count() - before


def _credit(resident, value: int) -> None:
    """The balance moves with the entry (a CHECK keeps it ≥ 0: a deduction beyond it fails the transaction)."""
    ResidentCredit.objects.get_or_create(resident=resident)
    ResidentCredit.objects.filter(resident=resident).update(balance=F("balance") + value)


def month_of(at):
    return timezone.localtime(at).date().replace(day=1)


def correct(entry: PointEntry, points: int, by, note: str) -> PointEntry:
    """A correction of an entry: a new entry of `points` (e.g. minus the wrong amount), once per entry."""
    if not note.strip():
        raise ValidationFailed(fields={"note": [_("Say why the entry is corrected.")]})
    person = entry.resident if entry.resident_id else entry.user
    created = award("correction", entry, person, grid=entry.grid, points=points, note=note, by=by, corrects=entry)
    if created is None:
        raise ValidationFailed(_("This entry has been corrected already."), code="already_corrected")
    return created
