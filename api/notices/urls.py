"""Routes of notices and broadcasts (staff) and of the public notice board (no sign-in)."""

from django.urls import path

from . import views

urlpatterns = [
    path("notices/<int:notice_id>/files/<int:pk>/", views.NoticeFileView.as_view(), name="file-notice"),
    path("public/notices/<str:token>/", views.BoardView.as_view(), name="public-notices"),
    path("public/notices/<str:token>/files/<int:pk>/", views.BoardFileView.as_view(), name="file-public-notice"),
]


def register(router):
    router.register("notices", views.NoticeViewSet, basename="notice")
