"""Re-encrypt every encrypted column with the current field key (the first of FIELD_ENCRYPTION_KEYS).

    1. FIELD_ENCRYPTION_KEYS=<new>,<old>  (deploy it: the new key encrypts, both decrypt)
    2. manage.py rotate_field_key         (re-encrypts and re-hashes what is still on <old>)
    3. FIELD_ENCRYPTION_KEYS=<new>        (once the command reports nothing left)

Idempotent and resumable: a value already on the current key is left alone, so an interrupted run is
simply run again. Each batch is one transaction with its rows locked, so a concurrent edit is never
overwritten. A value no configured key decrypts is reported and makes the command fail.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from gridcase.core import crypto


class Command(BaseCommand):
    help = "Re-encrypt personal data with the first key of FIELD_ENCRYPTION_KEYS (rotation)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--dry-run", action="store_true", help="count what would change, write nothing")

    def handle(self, *args, batch_size, dry_run, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        total_changed, failures = 0, []
        for model, field, hash_field in crypto.encrypted_columns():
            label = f"{model._meta.label}.{field}"
            changed, failed = self.rotate_column(model, field, hash_field, batch_size, dry_run)
            total_changed += changed
            failures += [(label, pk) for pk in failed]
            self.stdout.write(f"{label}: {changed} {'to re-encrypt' if dry_run else 're-encrypted'}"
                              + (f", {len(failed)} undecryptable" if failed else ""))
        verb = "would be re-encrypted" if dry_run else "re-encrypted"
        if failures:
            shown = ", ".join(f"{label} #{pk}" for label, pk in failures[:20])
            raise CommandError(f"{len(failures)} value(s) cannot be decrypted with any configured key "
                               f"({shown}{', …' if len(failures) > 20 else ''}). Add the key they were "
                               f"encrypted with to FIELD_ENCRYPTION_KEYS and run again; {total_changed} {verb}.")
        self.stdout.write(self.style.SUCCESS(
            f"{total_changed} value(s) {verb}. "
            + ("Every value is on the current key: older keys may be removed." if not dry_run else "")))

    def rotate_column(self, model, field, hash_field, batch_size, dry_run):
        manager = model._base_manager
        base = manager.exclude(**{field: ""}).order_by("pk")
        changed, failed, last_pk = 0, [], None
        while True:
            with transaction.atomic():
                batch = base if last_pk is None else base.filter(pk__gt=last_pk)
                if not dry_run:
                    batch = batch.select_for_update()
                fields = ["pk", field] + ([hash_field] if hash_field else [])
                rows = list(batch.values(*fields)[:batch_size])
                if not rows:
                    return changed, failed
                last_pk = rows[-1]["pk"]
                for row in rows:
                    token = row[field]
                    if crypto.is_current(token):
                        stale_hash = False
                        if hash_field:
                            stale_hash = row[hash_field] != crypto.keyed_hash(crypto.decrypt(token))
                        if not stale_hash:
                            continue
                    try:
                        clear = crypto.decrypt(token)
                    except crypto.DecryptionError:
                        failed.append(row["pk"])
                        continue
                    changed += 1
                    if dry_run:
                        continue
                    values = {field: crypto.encrypt(clear)}
                    if hash_field:
                        values[hash_field] = crypto.keyed_hash(clear)
                    manager.filter(pk=row["pk"]).update(**values)
