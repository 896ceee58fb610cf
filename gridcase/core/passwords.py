"""Password rules beyond Django's own (production only, see AUTH_PASSWORD_VALIDATORS in settings).

Django's CommonPasswordValidator knows "password" but not "password123", and nothing knows the words of
this system: `gridcase123` — the demo's password — passes length, common-list and numeric checks. The
validator below strips the digits and punctuation a person adds around a word and refuses the password
when what is left is a common password, a word of this system, or the username.
"""

import re

from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Words anyone guessing a GridCase password would try first.
SYSTEM_WORDS = {"gridcase", "grid", "wangge", "shequ", "jiedao", "admin", "secretary", "worker", "welcome",
                "changeme", "qwerty", "letmein"}
_DECORATION = re.compile(r"^[\d\W_]+|[\d\W_]+$")


class DecoratedCommonPasswordValidator:
    """Refuses a common word with digits or symbols around it (`gridcase123`, `Password!2024`, `admin@1`)."""

    def __init__(self):
        self.common = CommonPasswordValidator().passwords

    def validate(self, password, user=None):
        core = _DECORATION.sub("", password.strip().lower())
        names = {getattr(user, "username", "") or ""} - {""}
        if core == "" or core in self.common or core in SYSTEM_WORDS or core in {n.lower() for n in names}:
            raise ValidationError(
                _("This password is a common word with numbers or symbols added: choose something less guessable."),
                code="password_too_common",
            )

    def get_help_text(self):
        return _("Your password can't be a common word with numbers or symbols added.")
