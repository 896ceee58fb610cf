"""`manage.py calendar`: the working calendar behind SLA deadlines (public holidays and 调休 working days).

    manage.py calendar status              years in the table, where they came from, what is missing
    manage.py calendar sync [--replace]    add the years the installed chinese-calendar knows
    manage.py calendar import FILE [--dry-run]
                                           a year's State Council notice as CSV or JSON (format:
                                           gridcase/cases/calendar_data.py, README "Keeping the calendar current")
"""

from django.core.management.base import BaseCommand, CommandError

from gridcase.cases import calendar_data, workcalendar


class Command(BaseCommand):
    help = "Show, sync (from chinese-calendar) or import (from the State Council notice) the working calendar."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("status", help="years covered and years missing")
        sync = sub.add_parser("sync", help="add the years the installed chinese-calendar package knows")
        sync.add_argument("--replace", action="store_true",
                          help="also rewrite years that came from the package (never imported or admin-entered ones)")
        imp = sub.add_parser("import", help="replace the years in FILE with its days (CSV or JSON)")
        imp.add_argument("file")
        imp.add_argument("--dry-run", action="store_true", help="check the file and show what it holds; write nothing")

    def handle(self, *args, action, **options):
        getattr(self, f"do_{action}")(**options)

    def do_status(self, **options):
        for row in calendar_data.status():
            flag = "complete" if row["complete"] else "INCOMPLETE"
            self.stdout.write(f"{row['year']}  {row['source'] or '-':8} {flag:10} "
                              f"{row['holidays']:3} holidays  {row['workdays']:2} make-up working days")
        self._warn()

    def do_sync(self, replace=False, **options):
        years = calendar_data.sync_from_package(replace=replace)
        if years:
            self.stdout.write(self.style.SUCCESS(f"synced from chinese-calendar: {_span(years)}"))
        else:
            self.stdout.write("nothing to add: every year chinese-calendar knows is in the table")
        self._warn()

    def do_import(self, file, dry_run=False, **options):
        try:
            days = calendar_data.read_file(file)
        except FileNotFoundError:
            raise CommandError(f"no such file: {file}") from None
        except calendar_data.CalendarFileError as exc:
            raise CommandError(f"{file} was not imported:\n  " + "\n  ".join(exc.problems)) from None
        years = sorted({d.date.year for d in days})
        holidays = sum(d.kind == "holiday" for d in days)
        summary = f"{_span(years)}: {holidays} holidays, {len(days) - holidays} make-up working days"
        if dry_run:
            self.stdout.write(f"{file} is valid ({summary}); nothing written (--dry-run)")
            return
        calendar_data.import_days(days)
        self.stdout.write(self.style.SUCCESS(f"imported {summary}; those years' earlier days were replaced"))
        self._warn()

    def _warn(self):
        for warning in workcalendar.warnings():
            self.stdout.write(self.style.WARNING(warning["message"]))


def _span(years):
    return f"{years[0]}–{years[-1]}" if len(years) > 2 else ", ".join(map(str, years))
