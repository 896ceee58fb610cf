"""Login, logout, token refresh, CSRF and `me`. Session + CSRF for the web app; a token for integrations.

**Login and CSRF.** A login that would start a session must pass Django's CSRF check (the `csrftoken`
cookie from `GET auth/csrf/` echoed in `X-CSRFToken`), as the web app does: otherwise another site could
sign a visitor's browser in to an account of the attacker's choosing (login CSRF). A request carrying
browser cookies (a session or CSRF cookie) that fails the check is refused (403 `csrf_failed`). A request
with no cookies at all and no CSRF token — an integration, `curl` — still signs in, but gets only the token,
no session cookie: a cross-site form posted from a fresh browser therefore starts nothing, and the token
in the answer cannot be read by the other site.

**Tokens** (`Authorization: Token <token>`) are knox tokens: stored hashed, one per login, expiring
TOKEN_TTL_HOURS after issue (`token_expiry` in the answer). `POST auth/token/refresh/` swaps the token
for a fresh one and ends the old; `POST auth/logout/` ends the token it was sent with (or the one issued
with the session); a password change ends them all (`gridcase.grids.accounts`).

**Failed logins** are throttled by `gridcase.core.loginguard` (429 `throttled` with Retry-After).
"""

from django.contrib.auth import authenticate, login, logout
from django.db import transaction
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.csrf import ensure_csrf_cookie
from drf_spectacular.utils import extend_schema, inline_serializer
from knox.models import AuthToken
from rest_framework import exceptions, serializers
from rest_framework.authentication import CSRFCheck
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from gridcase.core import loginguard
from gridcase.core.errors import Forbidden, ValidationFailed
from gridcase.grids.accounts import display_name
from gridcase.grids.choices import Role
from gridcase.grids.models import DepartmentMember, Membership
from gridcase.grids.roles import HIGHEST_FIRST, MOBILE_ROLES
from gridcase.volunteers.models import Volunteer

from .schema import error_responses


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False)


class RoleSerializer(serializers.Serializer):
    grid = serializers.IntegerField()
    grid_code = serializers.CharField()
    grid_name = serializers.CharField()
    grid_level = serializers.CharField()
    role = serializers.CharField()
    title = serializers.CharField()


class DepartmentRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    is_head = serializers.BooleanField()


class MeSerializer(serializers.Serializer):
    """Who the caller is, their roles and scope, and which app (`home`) to open."""

    id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.CharField()
    is_superuser = serializers.BooleanField()
    roles = RoleSerializer(many=True)
    departments = DepartmentRefSerializer(many=True)
    primary_role = serializers.CharField(allow_null=True)
    home = serializers.ChoiceField(choices=["mobile", "console", "department", "lead"])


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="send as `Authorization: Token <token>`")
    token_expiry = serializers.DateTimeField(help_text="after this the token answers 401; refresh it before")


class LoginResponseSerializer(TokenSerializer):
    user = MeSerializer()


SESSION_TOKEN = "gridcase_api_token"


def issue_token(user) -> dict:
    """A new API token for `user` (their expired ones are cleared out on the way)."""
    AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
    instance, token = AuthToken.objects.create(user=user)
    return {"token": token, "token_expiry": instance.expiry, "instance": instance}


def csrf_failure(request) -> str | None:
    """Django's CSRF check (the one SessionAuthentication applies to signed-in calls); None when it passes."""
    check = CSRFCheck(lambda _request: None)
    check.process_request(request)
    return check.process_view(request, None, (), {})


def has_browser_cookies(request) -> bool:
    from django.conf import settings

    return settings.SESSION_COOKIE_NAME in request.COOKIES or settings.CSRF_COOKIE_NAME in request.COOKIES


def me_payload(user) -> dict:
    memberships = Membership.objects.filter(user=user).select_related("grid").order_by("id")
    roles = [
        {"grid": m.grid_id, "grid_code": m.grid.code, "grid_name": m.grid.name, "grid_level": m.grid.level,
         "role": m.role, "title": m.title}
        for m in memberships
    ]
    departments = [
        {"id": d.department_id, "name": d.department.name, "is_head": d.is_head}
        for d in DepartmentMember.objects.filter(user=user).select_related("department")
    ]
    role_names = [r["role"] for r in roles]
    primary = next((r for r in HIGHEST_FIRST if r in role_names), None)
    if primary is None and user.is_superuser:
        primary = Role.ADMIN
    if primary is None and departments:
        home = "department"
    elif primary is None and Volunteer.objects.filter(user=user, is_active=True).exists():
        home = "lead"  # a building lead's or volunteer's light account (gridcase.volunteers)
    elif primary in MOBILE_ROLES:
        home = "mobile"
    else:
        home = "console"
    return {
        "id": user.pk,
        "username": user.username,
        "display_name": display_name(user),
        "is_superuser": user.is_superuser,
        "roles": roles,
        "departments": departments,
        "primary_role": primary.value if hasattr(primary, "value") else primary,
        "home": home,
    }


class CsrfView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(responses=inline_serializer("Csrf", {"csrf_token": serializers.CharField()}))
    @method_decorator(ensure_csrf_cookie)
    def get(self, request):
        from django.middleware.csrf import get_token

        return Response({"csrf_token": get_token(request)})


class LoginView(APIView):
    """Sign in: a session (when the CSRF check passes) and an API token. See the module's docstring for CSRF,
    and `gridcase.core.loginguard` for how failed attempts are throttled (429 with Retry-After)."""

    permission_classes = [AllowAny]
    authentication_classes = []
    serializer_class = LoginSerializer

    @extend_schema(request=LoginSerializer, responses={200: LoginResponseSerializer, **error_responses(403)})
    def post(self, request):
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        start_session = csrf_failure(request) is None
        if not start_session and has_browser_cookies(request):
            raise Forbidden(_("The page's security check failed (CSRF). Reload the page and sign in again."),
                            code="csrf_failed")
        username = serializer.validated_data["username"]
        attempt = loginguard.Attempt(request, username)
        try:
            attempt.start()
        except loginguard.LoginThrottled as exc:
            raise exceptions.Throttled(wait=exc.wait, detail=_("Too many failed attempts. Please wait and try again."))
        user = authenticate(request, username=username, password=serializer.validated_data["password"])
        if user is None:
            attempt.failed()
            raise ValidationFailed(_("Wrong username or password."), code="invalid_credentials")
        issued = issue_token(user)
        if start_session:
            login(request, user)
            request.session[SESSION_TOKEN] = issued["instance"].pk
        response = Response({"user": me_payload(user), "token": issued["token"], "token_expiry": issued["token_expiry"]})
        attempt.succeeded(response)
        return response


class LogoutView(APIView):
    """Ends the session and the API token: the one sent, or the one issued when the session signed in."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        if isinstance(request.auth, AuthToken):
            request.auth.delete()
        elif request.session.get(SESSION_TOKEN):
            AuthToken.objects.filter(user=request.user, pk=request.session[SESSION_TOKEN]).delete()
        logout(request)
        return Response(status=204)


class TokenRefreshView(APIView):
    """Swap the token sent in `Authorization` for a fresh one (a new expiry); the old one ends at once."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: TokenSerializer})
    def post(self, request):
        if not isinstance(request.auth, AuthToken):
            raise ValidationFailed(_("Send the token to refresh as: Authorization: Token <token>."),
                                   code="token_required")
        with transaction.atomic():
            deleted, _rows = AuthToken.objects.filter(pk=request.auth.pk).delete()
            if not deleted:  # a parallel refresh or logout ended it first
                raise exceptions.AuthenticationFailed(_("Invalid token."))
            issued = issue_token(request.user)
        return Response({"token": issued["token"], "token_expiry": issued["token_expiry"]})


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(me_payload(request.user))
