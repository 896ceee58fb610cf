"""Interop with outside systems: Open311 GeoReport v2 clients and the city's 12345 hotline platform.

Both file residents' problems as cases through the intake's rules (gridcase.interop.open311 / hotline); these
rows only remember who sent what, so a resend is recognised and a case can be found by the outside id.
"""

import hashlib
import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from gridcase.cases.models import Case, Category
from gridcase.core import crypto
from gridcase.grids.models import Grid

KEY_PREFIX_LENGTH = 8


def hash_key(raw: str) -> str:
    return hashlib.sha256(str(raw).encode()).hexdigest()


class Open311Client(models.Model):
    """An Open311 client (an open-data app, a city portal) with its API key. Only the key's SHA-256 is stored;
    the key itself is shown once when it is made (`Open311Client.issue`, the admin's "new key" action or
    `manage.py open311_client`). The client may file requests only inside `area`."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    area = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="+", verbose_name=_("area served"))
    key_prefix = models.CharField(max_length=KEY_PREFIX_LENGTH, db_index=True, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("Open311 client")
        verbose_name_plural = _("Open311 clients")

    def __str__(self):
        return self.name

    def new_key(self) -> str:
        """Give the client a fresh key (the old one stops working once saved); returns the key in clear."""
        raw = secrets.token_urlsafe(32)
        self.key_prefix, self.key_hash = raw[:KEY_PREFIX_LENGTH], hash_key(raw)
        return raw


class Open311Request(models.Model):
    """A case filed by an Open311 client. The request's token is the intake ticket's tracking code."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="open311_request")
    client = models.ForeignKey(Open311Client, on_delete=models.PROTECT, related_name="requests")
    address_string = models.CharField(max_length=300, blank=True)
    address_id = models.CharField(max_length=64, blank=True)
    media_url = models.URLField(max_length=500, blank=True)
    device_id = models.CharField(max_length=100, blank=True)
    email_encrypted = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["client", "-created_at"], name="open311_client_recent")]

    def __str__(self):
        return f"{self.client_id}:{self.case_id}"

    @property
    def email(self) -> str:
        return crypto.decrypt(self.email_encrypted)

    @email.setter
    def email(self, value: str):
        self.email_encrypted = crypto.encrypt((value or "").strip())


class HotlineCategory(models.Model):
    """The mapping table: a 12345 hotline category code → a GridCase category (kept by the admin)."""

    code = models.CharField(_("hotline category code"), max_length=40, unique=True)
    name = models.CharField(_("hotline category name"), max_length=100, blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+", verbose_name=_("category"))

    class Meta:
        verbose_name = _("12345 category mapping")
        verbose_name_plural = _("12345 category mappings")

    def __str__(self):
        return f"{self.code} → {self.category_id}"


class HotlineTicket(models.Model):
    """A ticket pushed by the 12345 platform, and the case it became (one per hotline ticket id)."""

    ticket_id = models.CharField(_("hotline ticket"), max_length=64, unique=True)
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="hotline_ticket")
    category_code = models.CharField(max_length=40)
    address = models.CharField(max_length=300, blank=True)
    # A hash of what was pushed: a resend under the same id with other content is a conflict, not a new case.
    body_hash = models.CharField(max_length=64)
    received_at = models.DateTimeField()

    class Meta:
        verbose_name = _("12345 ticket")
        verbose_name_plural = _("12345 tickets")

    def __str__(self):
        return self.ticket_id


class HotlineSeenSignature(models.Model):
    """Signatures of accepted hotline calls inside the timestamp window: the same signed request twice is a
    replay and is refused (rows older than the window are pruned)."""

    signature = models.CharField(max_length=64, unique=True)
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return self.signature[:12]
