from django.contrib import admin

from .models import CadenceRule, CarePlan, CarePlanItem, DueRun, Visit


@admin.register(CadenceRule)
class CadenceRuleAdmin(admin.ModelAdmin):
    list_display = ["tag", "kind", "every_n_days", "community"]
    list_filter = ["kind", "tag"]
    raw_id_fields = ["community"]


class CarePlanItemInline(admin.TabularInline):
    model = CarePlanItem
    extra = 0
    fields = ["kind", "rule_days", "custom_days", "every_n_days", "last_contact_on", "due_on"]
    readonly_fields = ["rule_days", "every_n_days", "last_contact_on", "due_on"]


@admin.register(CarePlan)
class CarePlanAdmin(admin.ModelAdmin):
    list_display = ["resident", "active", "wellbeing", "escalated", "worker", "started_on", "ended_on"]
    list_filter = ["active", "escalated", "wellbeing"]
    raw_id_fields = ["resident", "worker"]
    readonly_fields = ["wellbeing", "escalated", "last_contact_at"]
    inlines = [CarePlanItemInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        from .services import refresh_plan

        refresh_plan(form.instance)


@admin.register(Visit)
class VisitAdmin(admin.ModelAdmin):
    """Visits are append-only facts: readable here, never edited or deleted."""

    list_display = ["visited_at", "kind", "resident", "household", "wellbeing", "visitor", "case"]
    list_filter = ["kind", "wellbeing"]
    date_hierarchy = "visited_at"
    raw_id_fields = ["resident", "household", "visitor"]
    search_fields = ["client_uuid"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DueRun)
class DueRunAdmin(admin.ModelAdmin):
    list_display = ["day", "due_today", "overdue", "worker_notices", "leader_notices", "runs", "finished_at"]
