"""API tokens (`Authorization: Token <key>`): knox's hashed, expiring tokens.

Kept apart from api/auth.py (the views) because DRF imports authentication classes while it builds
`APIView` itself.
"""

from django.utils.translation import gettext_lazy as _
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
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
