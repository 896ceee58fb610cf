from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from .models import HotlineCategory, HotlineTicket, Open311Client


@admin.register(Open311Client)
class Open311ClientAdmin(admin.ModelAdmin):
    """API keys are shown once, when made (on creation and by the "new key" action); only their hash is kept."""

    list_display = ("name", "area", "key_prefix", "is_active", "created_at", "last_used_at")
    readonly_fields = ("key_prefix", "created_at", "last_used_at")
    raw_id_fields = ("area",)
    actions = ["issue_new_key"]

    def save_model(self, request, obj, form, change):
        if not change:
            key = obj.new_key()
            messages.warning(request, _("API key of %(name)s (shown once, keep it now): %(key)s")
                             % {"name": obj.name, "key": key})
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Issue a new API key (the old one stops working)"))
    def issue_new_key(self, request, queryset):
        for client in queryset:
            key = client.new_key()
            client.save(update_fields=["key_prefix", "key_hash"])
            messages.warning(request, _("API key of %(name)s (shown once, keep it now): %(key)s")
                             % {"name": client.name, "key": key})


@admin.register(HotlineCategory)
class HotlineCategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "category")
    search_fields = ("code", "name")


@admin.register(HotlineTicket)
class HotlineTicketAdmin(admin.ModelAdmin):
    """Read only: a ticket is written by the signed push alone (and its case only through the workflow)."""

    list_display = ("ticket_id", "case", "category_code", "address", "received_at")
    search_fields = ("ticket_id",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
