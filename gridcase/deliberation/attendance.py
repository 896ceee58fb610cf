"""Attendance feeds the points ledger (gridcase.points): a staff member signed in at a consultation earns
`consultation_attendance`, a resident `resident_consultation` (residents' credit), once per consultation and person
(the ledger's own uniqueness: a replayed sign-in from an offline phone adds nothing). Walk-ins named only by their
name earn nothing (there is nobody to credit). Written in the sign-in's transaction.
"""

from django.apps import apps


def credit(attendee, consultation) -> None:
    if not apps.is_installed("gridcase.points") or attendee.signed_in_at is None:
        return
    from gridcase.points.rules import award

    grid = consultation.topic.grid
    if attendee.resident_id:
        award("resident_consultation", consultation, attendee.resident, grid=grid, at=attendee.signed_in_at)
    elif attendee.user_id:
        award("consultation_attendance", consultation, attendee.user, grid=grid, at=attendee.signed_in_at)
