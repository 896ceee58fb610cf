"""Backup and restore (deploy/backup.sh, deploy/restore.sh) on the real tools: pg_dump/pg_restore into a new
database and the uploads folder; the restore has every row and a resident's phone still decrypts — with the
field-encryption key, which is kept apart from the backup (deploy/README.md)."""

import os
import secrets
import subprocess
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from psycopg import sql

from gridcase.core import crypto
from gridcase.grids.models import Resident

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.postgres]


def url(settings_dict, name=None) -> str:
    return (f"postgresql://{settings_dict['USER'] or 'postgres'}@{settings_dict['HOST'] or '127.0.0.1'}:"
            f"{settings_dict['PORT'] or 5432}/{name or settings_dict['NAME']}")


def counts(conninfo: str) -> dict[str, int]:
    with psycopg.connect(conninfo) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")]
        return {t: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t))).fetchone()[0]
                for t in tables}


@pytest.mark.django_db(transaction=True)
def test_a_restore_from_backup_reproduces_the_data_and_the_uploads(city, tmp_path, settings):
    if connection.vendor != "postgresql":
        pytest.skip("pg_dump/pg_restore need PostgreSQL")
    media = tmp_path / "media"
    (media / "cases" / "2026").mkdir(parents=True)
    (media / "cases" / "2026" / "photo.jpg").write_bytes(b"\xff\xd8\xff" + secrets.token_bytes(2048))
    source = url(connection.settings_dict)
    env = {**os.environ, "DATABASE_URL": source, "MEDIA_ROOT": str(media)}
    out = subprocess.run(["bash", str(ROOT / "deploy" / "backup.sh"), str(tmp_path / "backups")], env=env,
                         check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    backup = Path(out)
    assert (backup / "db.dump").stat().st_size > 0 and (backup / "media.tar.gz").exists()
    target_name = f"gridcase_restore_{secrets.token_hex(4)}"
    admin = url(connection.settings_dict, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target_name)))
    try:
        restored_media = tmp_path / "restored-media"
        target = url(connection.settings_dict, target_name)
        subprocess.run(["bash", str(ROOT / "deploy" / "restore.sh"), str(backup)], check=True, capture_output=True,
                       env={**os.environ, "DATABASE_URL": target, "MEDIA_ROOT": str(restored_media)})
        before, after = counts(source), counts(target)
        assert after == before and before["grids_resident"] > 0 and before["cases_case"] >= 0
        assert (restored_media / "cases" / "2026" / "photo.jpg").read_bytes() == \
            (media / "cases" / "2026" / "photo.jpg").read_bytes()
        resident = Resident.objects.exclude(phone_encrypted="").order_by("pk").first()
        with psycopg.connect(target) as conn:
            stored = conn.execute("SELECT phone_encrypted FROM grids_resident WHERE id = %s",
                                  [resident.pk]).fetchone()[0]
        assert crypto.decrypt(stored) == resident.phone and resident.phone.isdigit()
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(target_name)))
