"""The audit log's routes: `audit-log/` (list) and `audit-log/export/`."""

from .views import AuditLogViewSet

urlpatterns: list = []


def register(router):
    router.register("audit-log", AuditLogViewSet, basename="audit-log")
