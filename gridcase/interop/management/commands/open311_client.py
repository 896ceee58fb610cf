"""`manage.py open311_client NAME --area GRID_CODE [--rotate]`: make an Open311 client (or give it a new key)
and print its API key once."""

from django.core.management.base import BaseCommand, CommandError

from gridcase.grids.models import Grid
from gridcase.interop.models import Open311Client


class Command(BaseCommand):
    help = "Create an Open311 client or rotate its API key; prints the key once."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--area", help="code of the grid the client files requests in (e.g. a street)")
        parser.add_argument("--rotate", action="store_true", help="give an existing client a new key")

    def handle(self, name, area=None, rotate=False, **options):
        client = Open311Client.objects.filter(name=name).first()
        if client is not None and not rotate:
            raise CommandError(f"{name} exists; use --rotate for a new key")
        if client is None:
            grid = Grid.objects.filter(code=area or "").first()
            if grid is None:
                raise CommandError("--area must name a grid code")
            client = Open311Client(name=name, area=grid)
        key = client.new_key()
        client.save()
        self.stdout.write(key)
