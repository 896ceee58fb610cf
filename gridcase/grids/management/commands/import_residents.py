"""`gridcase import_residents FILE --grid CODE --user USERNAME`: import a 台账 (CSV or XLSX).

Runs with the given user's roles and scope, exactly like `POST /api/v1/imports/`, and prints the summary
and every refused row with its reasons (in the language chosen with --language).
"""

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from gridcase.core.errors import DomainError
from gridcase.grids import imports
from gridcase.grids.models import Grid


class Command(BaseCommand):
    help = "Import households and residents from a CSV or XLSX file into a grid, as a given user."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--grid", required=True, help="code (or id) of a community, general grid or micro-grid")
        parser.add_argument("--user", required=True, help="username whose roles and scope apply")
        parser.add_argument("--language", default="zh-hans", help="language of the reasons (zh-hans or en)")
        parser.add_argument("--json", action="store_true", help="print the whole report as JSON")

    def handle(self, *args, file, grid, user, language, json: bool, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"no such file: {file}")
        User = get_user_model()
        actor = User.objects.filter(username=user).first()
        if actor is None:
            raise CommandError(f"no such user: {user}")
        target = Grid.objects.filter(code=grid).first() or (Grid.objects.filter(pk=grid).first() if grid.isdigit() else None)
        if target is None:
            raise CommandError(f"no such grid: {grid}")
        if path.stat().st_size > imports.max_bytes():
            raise CommandError(f"file_too_large: over {imports.max_bytes():,} bytes")
        with translation.override(language):
            try:
                report = imports.import_file(actor, target, path.read_bytes(), progress=self.progress)
            except DomainError as exc:
                raise CommandError(f"{exc.code}: {exc.message}")
            rendered = imports.render_report(report)
            self.stderr.write("")
            if json:
                self.stdout.write(dumps(rendered))
                return
            self.stdout.write(f"{path.name} → {target.name} ({target.code}): {report['total']} rows, "
                              f"created {report['created']}, updated {report['updated']}, "
                              f"unchanged {report['unchanged']}, refused {report['refused']}")
            for row in rendered["rows"]:
                if row["status"] == "refused":
                    reasons = "; ".join(r["message"] for r in row["reasons"])
                    self.stdout.write(f"  row {row['row']} {row.get('name', '')}: {reasons}")

    def progress(self, done, total, counts):
        self.stderr.write(f"\r{done:,}/{total:,} rows", ending="")
        self.stderr.flush()


def dumps(value):
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)
