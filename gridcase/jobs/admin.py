from django.contrib import admin

from .models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "owner", "status", "done", "total", "created_at", "finished_at"]
    list_filter = ["kind", "status"]
    readonly_fields = ["kind", "owner", "params", "status", "done", "total", "result", "filename", "content_type",
                       "error", "created_at", "started_at", "finished_at"]
