from django.contrib import admin

from .models import Campaign, CampaignTask


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "grid", "target", "status", "starts_on", "ends_on", "tasks_created")
    list_filter = ("status", "target")
    raw_id_fields = ("grid", "owner", "category")


@admin.register(CampaignTask)
class CampaignTaskAdmin(admin.ModelAdmin):
    """Tasks are made by the launch and answered on the phone (a problem opens a case): read-only here."""

    list_display = ("campaign", "grid", "target_id", "worker", "status", "answered_at")
    list_filter = ("status",)
    raw_id_fields = ("campaign", "grid", "building", "unit", "household", "resident", "worker", "answered_by", "case")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
