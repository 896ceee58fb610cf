"""Login, logout, CSRF and `me`. Session + CSRF for the web app; a token for integrations."""

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.core.cache import cache
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.csrf import ensure_csrf_cookie
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from gridcase.core.errors import DomainError, ValidationFailed
from gridcase.grids.choices import Role
from gridcase.grids.models import DepartmentMember, Membership

MOBILE_ROLES = {Role.MICRO_GRID_WORKER, Role.GRID_WORKER, Role.GRID_LEADER}


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
    home = serializers.ChoiceField(choices=["mobile", "console", "department"])


class LoginResponseSerializer(serializers.Serializer):
    user = MeSerializer()
    token = serializers.CharField()


class Throttled(DomainError):
    status = 429
    code = "throttled"


def _failure_key(request, username: str) -> str:
    return f"login-fail:{request.META.get('REMOTE_ADDR', '')}:{username.lower()}"


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
    order = [Role.ADMIN, Role.STREET_DISPATCHER, Role.SECRETARY, Role.GRID_LEADER, Role.GRID_WORKER,
             Role.MICRO_GRID_WORKER, Role.VIEWER]
    primary = next((r for r in order if r in role_names), None)
    if primary is None and user.is_superuser:
        primary = Role.ADMIN
    if primary is None and departments:
        home = "department"
    elif primary in MOBILE_ROLES:
        home = "mobile"
    else:
        home = "console"
    return {
        "id": user.pk,
        "username": user.username,
        "display_name": user.get_full_name() or user.username,
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
    """Failed attempts are counted per address and username; past the limit the answer is 429."""

    permission_classes = [AllowAny]
    authentication_classes = []
    serializer_class = LoginSerializer

    @extend_schema(request=LoginSerializer, responses={200: LoginResponseSerializer})
    def post(self, request):
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        username = serializer.validated_data["username"]
        key = _failure_key(request, username)
        failures = cache.get(key, 0)
        if failures >= settings.LOGIN_FAILURE_LIMIT:
            raise Throttled(_("Too many failed attempts. Please wait a few minutes and try again."))
        user = authenticate(request, username=username, password=serializer.validated_data["password"])
        if user is None:
            cache.set(key, failures + 1, settings.LOGIN_FAILURE_WINDOW)
            raise ValidationFailed(_("Wrong username or password."), code="invalid_credentials")
        cache.delete(key)
        login(request, user)
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"user": me_payload(user), "token": token.key})


class LogoutView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        logout(request)
        return Response(status=204)


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(me_payload(request.user))
