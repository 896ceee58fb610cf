"""API tokens (`Authorization: Token <key>`): knox's hashed, expiring tokens.

Kept apart from api/auth.py (the views) because DRF imports authentication classes while it builds
`APIView` itself.
"""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.signals import token_expired
from rest_framework import exceptions

TOKEN_LENGTH = 64


class TokenAuthentication(KnoxTokenAuthentication):
    """Knox's token check, refusing malformed keys (wrong length, not hex, not UTF-8) with 401 instead of
    looking them up or failing on them. An expired token is deleted and answers 401 like a revoked one."""

    def authenticate_credentials(self, token):
        try:
            text = token.decode("ascii")
        except UnicodeDecodeError:
            text = ""
        if len(text) != TOKEN_LENGTH or any(c not in "0123456789abcdef" for c in text):
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        return super().authenticate_credentials(token)

    def _cleanup_token(self, auth_token) -> bool:
        """The presented token alone: knox also reads every other token of the user on every request to delete the
        expired ones (a query, and a row per token the user ever held); a login clears those instead
        (api/auth.py `issue_token`)."""
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            username = auth_token.user.get_username()
            auth_token.delete()
            token_expired.send(sender=self.__class__, username=username, source="auth_token")
            return True
        return False
