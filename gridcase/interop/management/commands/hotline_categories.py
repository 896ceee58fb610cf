"""`manage.py hotline_categories CODE=category_code …`: add or change rows of the 12345 category mapping."""

from django.core.management.base import BaseCommand, CommandError

from gridcase.cases.models import Category
from gridcase.interop.models import HotlineCategory


class Command(BaseCommand):
    help = "Map 12345 hotline category codes to GridCase categories: HOTLINE_CODE=category_code ..."

    def add_arguments(self, parser):
        parser.add_argument("pairs", nargs="+")

    def handle(self, pairs, **options):
        for pair in pairs:
            code, sep, category_code = pair.partition("=")
            category = Category.objects.filter(code=category_code).first()
            if not sep or category is None:
                raise CommandError(f"{pair}: expected HOTLINE_CODE=category_code")
            HotlineCategory.objects.update_or_create(code=code, defaults={"category": category})
            self.stdout.write(f"{code} → {category.code}")
