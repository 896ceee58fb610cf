from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import (
    Attachment,
    CalendarDay,
    CalendarYear,
    Case,
    CaseDepartment,
    CaseEvent,
    CaseHop,
    Category,
    ExtensionRequest,
    ResponseTemplate,
    SlaPolicy,
)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "parent", "default_priority", "sensitive", "entry_level")
    list_filter = ("sensitive", "parent")
    search_fields = ("code", "name", "name_en")
    filter_horizontal = ("copy_departments",)


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ("category", "priority", "owner_level", "stage", "yellow_hours", "red_hours", "working_hours",
                    "auto_escalate")
    list_filter = ("stage", "owner_level", "priority", "working_hours", "auto_escalate")


class ViewOnly:
    """The admin may look, never write: a case changes only through the workflow, which records an event
    for every change (the event log is the truth). No add, change or delete, here or in inlines."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EventInline(ViewOnly, admin.TabularInline):
    model = CaseEvent
    extra = 0
    readonly_fields = ("action", "actor", "from_status", "to_status", "version", "comment", "payload", "at")


class HopInline(ViewOnly, admin.TabularInline):
    model = CaseHop
    extra = 0
    readonly_fields = ("kind", "grid", "department", "start_action", "end_action", "started_at", "ended_at")


class DepartmentInline(ViewOnly, admin.TabularInline):
    model = CaseDepartment
    extra = 0
    raw_id_fields = ("department", "whistled_by", "reported_in_by", "replied_by", "scored_by", "whistled_from")


@admin.register(Case)
class CaseAdmin(ViewOnly, admin.ModelAdmin):
    """Read-only: status, grids, category, assignee, merges, deadlines, departments, hops and events change
    only through the workflow (the API), which checks its rules and records an event; so does every other
    field, so that no path changes a case without an event."""

    list_display = ("number", "title", "category", "status", "priority", "owner_grid", "sla_state", "created_at")
    list_filter = ("status", "sla_state", "priority", "source", "sensitive")
    search_fields = ("number", "title")
    raw_id_fields = ("grid", "owner_grid", "dedicated_grid", "building", "unit", "household", "resident",
                     "reporter", "assignee", "merged_into", "category")
    inlines = [DepartmentInline, HopInline, EventInline]
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(ResponseTemplate)
class ResponseTemplateAdmin(admin.ModelAdmin):
    list_display = ("title", "category", "status", "sort")
    list_filter = ("status",)


@admin.register(ExtensionRequest)
class ExtensionAdmin(ViewOnly, admin.ModelAdmin):
    """Read-only: granting an extension moves a case's deadline, so it goes through the workflow."""

    list_display = ("case", "stage", "hours", "state", "requested_at", "decided_at")
    raw_id_fields = ("case", "requested_by", "decided_by")


@admin.register(Attachment)
class AttachmentAdmin(ViewOnly, admin.ModelAdmin):
    """Read-only: photos are the evidence of a case's events."""

    list_display = ("case", "kind", "content_type", "size", "created_at")
    raw_id_fields = ("case", "uploaded_by")


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    """Holidays and make-up working days behind SLA deadlines; a change takes effect at once (the calendar
    cache is invalidated on save). A whole year at a time: `manage.py calendar import`."""

    list_display = ("date", "weekday", "kind", "name")
    list_filter = ("kind",)
    search_fields = ("name",)
    date_hierarchy = "date"

    @admin.display(description=_("weekday"))
    def weekday(self, obj):
        return obj.date.strftime("%a")


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    """Years whose calendar is complete; a year without a complete row counts weekends only (and warns)."""

    list_display = ("year", "source", "complete", "updated_at")
    list_filter = ("source", "complete")
