"""One path for a report arriving from outside (Open311, 12345): the case is filed by the intake's rules
(`cases.services.report_by_resident`: skip rules, SLA, numbering, event, ledger, notices) under the channel's
own source, with an intake ticket beside it (the tracking code, and the caller's phone encrypted, revealed to
staff on the case and audited as the QR intake's is). Callers run it inside their own transaction."""

from django.db import IntegrityError, transaction

from gridcase.cases import services as case_services
from gridcase.intake.models import IntakeTicket
from gridcase.intake.services import new_code


def file_report(*, grid, category, title, description, source, channel, client_key, now, name="", phone="",
                location=None, building=None):
    """(case, intake ticket). Must run inside a transaction (the caller's record is written with it)."""
    data = {"grid": grid, "category": category, "title": title, "description": description,
            "reporter_name": name, "location": location, "channel": channel}
    if building is not None and building.grid_id in (grid.pk, grid.parent_id):
        data["building"] = building  # the building of the address, when it is in the grid the case goes to
    case = case_services.report_by_resident(data, now=now, source=source).case
    ticket = IntakeTicket(case=case, grid=grid, client_key=client_key[:64], reporter_name=name[:60], created_at=now)
    ticket.contact_phone = phone
    for attempt in range(5):
        ticket.code = new_code()
        try:
            with transaction.atomic():
                ticket.save(force_insert=True)
            break
        except IntegrityError:
            if attempt == 4 or IntakeTicket.objects.filter(grid=grid, client_key=ticket.client_key).exists():
                raise
    return case, ticket
