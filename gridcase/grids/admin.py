from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse

from gridcase.core import audit

from . import tree
from .models import (
    Building,
    Department,
    DepartmentMember,
    Grid,
    Household,
    ImportJob,
    ImportReview,
    Membership,
    Resident,
    Tag,
    Unit,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class MoveAuditedAdmin:
    """A change of the place field is a move (grids.moves): the model checks 三不破 in clean() and carries what hangs
    on the place in save(); open cases stay; the audit log records it as a move made in the admin."""

    move_field = ""

    def save_model(self, request, obj, form, change):
        moved = change and self.move_field in form.changed_data
        before = form.initial.get(self.move_field)
        super().save_model(request, obj, form, change)
        if moved:
            audit.record(request.user, "move", [obj], [self.move_field], request, via="admin", cases="stay",
                         before=before, after=getattr(obj, f"{self.move_field}_id"))


@admin.register(Grid)
class GridAdmin(MoveAuditedAdmin, tree.TreeAdmin):
    move_field = "parent"
    list_display = ("tree_actions", "indented_title", "code", "level", "kind")
    list_display_links = ("indented_title",)
    list_filter = ("level",)
    search_fields = ("code", "name")
    autocomplete_fields = ["parent"]
    readonly_fields = ("qr_token",)
    inlines = [MembershipInline]

    def _move_node(self, request):
        """The tree's drag-and-drop: the same rules as any move (a refusal is a message, nothing moved), audited."""
        try:
            with transaction.atomic():
                response = super()._move_node(request)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), level=messages.ERROR)
            return HttpResponse("FAIL, invalid move.")
        moved = Grid.objects.filter(pk=request.POST.get("cut_item")).first() if response.content.startswith(b"OK") \
            else None
        if moved is not None:
            audit.record(request.user, "move", [moved], ["parent"], request, via="admin tree", cases="stay",
                         after=moved.parent_id)
        return response


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en")


@admin.register(Building)
class BuildingAdmin(MoveAuditedAdmin, admin.ModelAdmin):
    move_field = "grid"
    list_display = ("code", "name", "grid", "address")
    search_fields = ("code", "name", "address")
    autocomplete_fields = ["grid"]


@admin.register(Unit)
class UnitAdmin(MoveAuditedAdmin, admin.ModelAdmin):
    move_field = "micro_grid"
    list_display = ("building", "name", "micro_grid")
    search_fields = ("building__name", "name")
    autocomplete_fields = ["building", "micro_grid"]


@admin.register(Household)
class HouseholdAdmin(admin.ModelAdmin):
    list_display = ("unit", "room", "grid")
    search_fields = ("room", "unit__building__name")
    autocomplete_fields = ["unit"]
    list_select_related = ("unit__building", "grid")


@admin.register(Resident)
class ResidentAdmin(admin.ModelAdmin):
    """Personal data shows masked here; the API's audited detail view is where it is revealed."""

    list_display = ("name", "gender", "birth_date", "phone_masked", "id_number_masked", "grid")
    search_fields = ("name", "name_initials", "phone_last4")
    list_filter = ("tags", "gender")
    autocomplete_fields = ["household"]
    filter_horizontal = ["tags"]
    list_select_related = ("grid",)
    readonly_fields = ("phone_masked", "id_number_masked", "grid")


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "area")
    search_fields = ("code", "name")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "grid", "role", "title")
    list_filter = ("role",)
    search_fields = ("user__username", "grid__code", "grid__name")
    autocomplete_fields = ["user", "grid"]


@admin.register(DepartmentMember)
class DepartmentMemberAdmin(admin.ModelAdmin):
    list_display = ("user", "department", "is_head")
    autocomplete_fields = ["user", "department"]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "grid", "filename", "status", "rows_done", "total_rows", "finished_at")
    list_filter = ("status",)
    readonly_fields = ("user", "grid", "filename", "file_type", "status", "total_rows", "rows_done", "counts",
                       "report", "error", "started_at", "finished_at")
    exclude = ("content",)

    def has_add_permission(self, request):
        return False


@admin.register(ImportReview)
class ImportReviewAdmin(admin.ModelAdmin):
    """Read-only here: a review is decided through the API (`decide`), which applies the row and audits it."""

    list_display = ("created_at", "grid", "name", "id_number_masked", "status", "decided_by", "decided_at")
    list_filter = ("status",)
    readonly_fields = ("grid", "job", "uploaded_by", "row", "name", "place", "id_number_masked", "resident", "status",
                       "decided_by", "decided_at", "note")
    exclude = ("id_number_encrypted", "id_number_hash", "row_encrypted")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
