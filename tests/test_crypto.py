"""The field-encryption key: its own key (never SECRET_KEY's), several keys while rotating, a rotation
command, and a loud failure — never a blank phone — when a stored value cannot be decrypted."""

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.test import override_settings

from gridcase import keys
from gridcase.cases.models import Category
from gridcase.core import crypto
from gridcase.grids.models import Resident
from gridcase.intake import guard
from gridcase.intake.models import IntakeTicket

ROOT = Path(__file__).resolve().parent.parent
OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()


def settings_value(expression, **env):
    """Evaluate an expression on the settings of a fresh process started with `env`."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("FIELD_ENCRYPTION", "SECRET_KEY"))}
    result = subprocess.run(
        [sys.executable, "-c", f"from django.conf import settings; print({expression})"],
        cwd=ROOT, env=base | {"DJANGO_SETTINGS_MODULE": "gridcase.settings"} | env,
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


# Development keys ---------------------------------------------------------------------------------------------

def test_dev_secrets_are_generated_once_per_checkout_private_and_not_from_the_source(tmp_path):
    first = keys.dev_secrets(tmp_path)
    assert keys.dev_secrets(tmp_path) == first  # the next start reads the same file
    path = tmp_path / keys.DEV_SECRETS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first["FIELD_ENCRYPTION_KEY"] not in keys.KNOWN_FIELD_KEYS
    assert first["FIELD_ENCRYPTION_KEY"] != keys.legacy_field_key(first["SECRET_KEY"])
    Fernet(first["FIELD_ENCRYPTION_KEY"].encode())  # a valid key
    (tmp_path / "other-checkout").mkdir()
    other = keys.dev_secrets(tmp_path / "other-checkout")
    assert other["FIELD_ENCRYPTION_KEY"] != first["FIELD_ENCRYPTION_KEY"]
    assert other["SECRET_KEY"] != first["SECRET_KEY"]


def test_demo_data_of_a_checkout_does_not_decrypt_with_the_key_in_the_source(tmp_path):
    """Before: every checkout encrypted with a key derived from the SECRET_KEY written in settings.py."""
    key = settings_value("settings.FIELD_ENCRYPTION_KEYS[0]", GRIDCASE_DATA_DIR=str(tmp_path))
    assert key != keys.legacy_field_key(keys.LEGACY_DEV_SECRET_KEY)
    token = Fernet(key.encode()).encrypt(b"13812345678")
    with pytest.raises(Exception):  # noqa: B017, PT011 - any refusal: the published key cannot read it
        Fernet(keys.legacy_field_key(keys.LEGACY_DEV_SECRET_KEY).encode()).decrypt(token)


def test_changing_secret_key_does_not_change_the_field_key(tmp_path):
    """Before: the field key was derived from SECRET_KEY, so a new SECRET_KEY made every phone read blank."""
    one = settings_value("settings.FIELD_ENCRYPTION_KEYS", GRIDCASE_DATA_DIR=str(tmp_path), SECRET_KEY="a" * 60)
    two = settings_value("settings.FIELD_ENCRYPTION_KEYS", GRIDCASE_DATA_DIR=str(tmp_path), SECRET_KEY="b" * 60)
    assert one == two


def test_several_keys_from_the_environment_first_one_encrypts(tmp_path):
    value = settings_value("settings.FIELD_ENCRYPTION_KEYS", GRIDCASE_DATA_DIR=str(tmp_path),
                           FIELD_ENCRYPTION_KEYS=f" {NEW} , {OLD} ")
    assert value == repr([NEW, OLD])


# Several keys --------------------------------------------------------------------------------------------------

def test_multifernet_old_values_still_read_new_values_use_the_first_key():
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD]):
        old_token = crypto.encrypt("13812345678")
        old_hash = crypto.keyed_hash("110101194001011234")
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        assert crypto.decrypt(old_token) == "13812345678"
        assert not crypto.is_current(old_token)
        new_token = crypto.encrypt("13812345678")
        assert crypto.is_current(new_token)
        assert crypto.keyed_hashes("110101194001011234")[1] == old_hash
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW]):
        assert crypto.decrypt(new_token) == "13812345678"


def test_undecryptable_value_raises_instead_of_reading_blank(caplog):
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD]):
        token = crypto.encrypt("13812345678")
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW]), pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token)
    assert any(r.levelname == "ERROR" and "cannot be decrypted" in r.getMessage() for r in caplog.records)


# What a user and an operator see -------------------------------------------------------------------------------

@pytest.mark.django_db
def test_resident_detail_with_a_wrong_key_answers_503_decryption_failed_not_a_blank_phone(city, client_for):
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW]):
        r = client_for(city.secretary).get(f"/api/v1/residents/{city.resident.id}/")
        assert r.status_code == 503
        body = r.json()
        assert body["code"] == "decryption_failed" and body["fields"] == {}
        assert "FIELD_ENCRYPTION_KEYS" in body["message"]
        # Lists never decrypt: they keep working on the masked copies.
        assert client_for(city.secretary).get("/api/v1/residents/").status_code == 200
    r = client_for(city.secretary, "en").get(f"/api/v1/residents/{city.resident.id}/")
    assert r.status_code == 200 and r.json()["phone"] == "13812345678"


@pytest.mark.django_db
def test_readyz_reports_encryption_failing_when_stored_data_does_not_decrypt(city, client):
    assert client.get("/readyz").json()["checks"]["encryption"] == "ok"
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW]):
        r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["checks"]["encryption"] == "failing"


# Rotation ------------------------------------------------------------------------------------------------------

def test_every_encrypted_column_is_found():
    found = {(model._meta.label, field, hash_field) for model, field, hash_field in crypto.encrypted_columns()}
    assert {("grids.Resident", "phone_encrypted", None), ("grids.Resident", "id_number_encrypted", "id_number_hash"),
            ("intake.IntakeTicket", "contact_phone_encrypted", None)} <= found


def reencrypt_residents(key, fields=("phone", "id_number")):
    """Write every resident's personal data again, encrypted with `key` only."""
    residents = [(r, {f: getattr(r, f) for f in fields}) for r in Resident.objects.order_by("pk")]
    with override_settings(FIELD_ENCRYPTION_KEYS=[key]):
        for resident, values in residents:
            for name, value in values.items():
                setattr(resident, name, value)
            resident.save()


def make_ticket(city, client_for):
    cache.clear()  # the intake throttle
    body = {"category": Category.objects.get(code="env_drain").pk, "description": "楼下下水道堵了",
            "contact_phone": "13912345678", "name": "陈女士", "client_key": "rotate-1",
            "form_token": guard.form_token(time.time() - 60)}  # the page was opened a minute ago
    r = client_for(None).post(f"/api/v1/intake/{city.micro.qr_token}/", body, format="json")
    assert r.status_code == 201, r.json()
    return IntakeTicket.objects.get(code=r.json()["code"])


def stored(model, pk, *fields):
    return model.objects.filter(pk=pk).values_list(*fields).get()


@pytest.mark.django_db
def test_rotate_field_key_reencrypts_every_column_and_rehashes_then_old_key_can_go(city, client_for):
    reencrypt_residents(OLD)
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD]):
        ticket = make_ticket(city, client_for)
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        call_command("rotate_field_key", "--batch-size", "2", stdout=open(os.devnull, "w"))
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW]):  # the old key removed
        for resident in Resident.objects.all():
            assert crypto.is_current(resident.phone_encrypted) and crypto.is_current(resident.id_number_encrypted)
        sibling = Resident.objects.get(pk=city.sibling_resident.pk)
        assert sibling.id_number == "110101195002021111"
        assert sibling.id_number_hash == crypto.keyed_hash("110101195002021111")
        assert IntakeTicket.objects.get(pk=ticket.pk).contact_phone == "13912345678"
        r = client_for(city.secretary).get(f"/api/v1/residents/{city.sibling_resident.id}/")
        assert r.status_code == 200 and r.json()["phone"] == "13900001111"
        assert crypto.health() == "ok"


@pytest.mark.django_db
def test_rotate_is_idempotent_and_resumes_where_an_interrupted_run_stopped(city):
    reencrypt_residents(OLD)
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        # An interrupted run: the first resident is already on the new key.
        first = Resident.objects.order_by("pk").first()
        first.phone, first.id_number = first.phone, first.id_number
        first.save()
        before = stored(Resident, first.pk, "phone_encrypted", "id_number_encrypted", "updated_at")
        out = _run()
        assert f"grids.Resident.phone_encrypted: {Resident.objects.count() - 1} re-encrypted" in out
        assert stored(Resident, first.pk, "phone_encrypted", "id_number_encrypted", "updated_at") == before
        again = _run()
        assert "grids.Resident.phone_encrypted: 0 re-encrypted" in again
        assert "0 value(s) re-encrypted" in again


def _run(*args):
    from io import StringIO

    out = StringIO()
    call_command("rotate_field_key", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_rotate_dry_run_writes_nothing(city):
    reencrypt_residents(OLD)
    before = stored(Resident, city.resident.pk, "phone_encrypted")
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        assert f"grids.Resident.phone_encrypted: {Resident.objects.count()} to re-encrypt" in _run("--dry-run")
    assert stored(Resident, city.resident.pk, "phone_encrypted") == before


@pytest.mark.django_db
def test_rotate_fails_loudly_naming_values_no_key_decrypts_and_still_rotates_the_rest(city):
    reencrypt_residents(OLD)
    lost_key = Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=[lost_key]):
        city.other_resident.phone = "13700002222"
        city.other_resident.save(update_fields=["phone_encrypted", "phone_masked", "phone_last4"])
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        with pytest.raises(CommandError, match=rf"grids.Resident.phone_encrypted #{city.other_resident.pk}\b"):
            _run()
        assert crypto.is_current(stored(Resident, city.resident.pk, "phone_encrypted")[0])


@pytest.mark.django_db
def test_import_during_rotation_recognises_residents_hashed_under_the_old_key(city, client_for):
    """Between deploying FIELD_ENCRYPTION_KEYS=new,old and the end of rotate_field_key, a re-import must
    find the people it already has, whose ID-number digests are still under the old key."""
    from .grids.test_import import csv_bytes, good_rows, upload

    secretary = client_for(city.secretary)
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD]):
        first = upload(secretary, city.community.pk, csv_bytes(good_rows()))
        assert first.json()["counts"]["created"] == 3
    count = Resident.objects.count()
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        again = upload(secretary, city.community.pk, csv_bytes(good_rows()))
    assert again.status_code == 200, again.json()
    assert again.json()["counts"]["created"] == 0
    assert Resident.objects.count() == count
