from django import forms
from django.contrib import admin

from core.admin import ReadOnlyAdmin
from core.statemachine import TransitionNotAllowed
from incidents import services
from incidents.choices import OPEN_STATUSES
from incidents.models import Component, ComponentGroup, ComponentStatusChange, Incident, Maintenance, TimelineEntry


@admin.register(ComponentGroup)
class ComponentGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "position"]
    list_editable = ["position"]
    search_fields = ["name"]


@admin.register(Component)
class ComponentAdmin(admin.ModelAdmin):
    """A status change goes through incidents.services.set_component_status, so it is kept in the history."""

    list_display = ["name", "group", "tier", "status", "display_order"]
    list_editable = ["status", "display_order"]
    list_filter = ["group", "tier", "status"]
    search_fields = ["name"]

    def save_model(self, request, obj, form, change):
        if not change or "status" not in form.changed_data:
            super().save_model(request, obj, form, change)
            return
        status = obj.status
        obj.status = Component.objects.values_list("status", flat=True).get(pk=obj.pk)
        super().save_model(request, obj, form, change)
        services.set_component_status(obj, status, actor=request.user)
        obj.refresh_from_db()


@admin.register(ComponentStatusChange)
class ComponentStatusChangeAdmin(ReadOnlyAdmin):
    list_display = ["at", "component", "from_status", "to_status", "cause", "incident", "actor"]
    list_filter = ["cause", "to_status", "component"]
    date_hierarchy = "at"


class TimelineInline(admin.TabularInline):
    model = TimelineEntry
    fields = ["at", "actor", "kind", "description"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class IncidentAdminForm(forms.ModelForm):
    class Meta:
        model = Incident
        fields = [
            "title", "kind", "severity", "status", "components", "impact_summary", "internal_notes",
            "commander", "started_at", "detected_at",
        ]

    def clean_status(self):
        status = self.cleaned_data["status"]
        try:
            if self.instance.pk is None:
                if status not in OPEN_STATUSES:
                    raise TransitionNotAllowed("A new incident starts as investigating, identified or monitoring.")
            else:
                current = Incident.objects.get(pk=self.instance.pk)
                if status != current.status:
                    services.check_status_change(current, status)
        except TransitionNotAllowed as refusal:
            raise forms.ValidationError(str(refusal)) from None
        return status


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    """Saves go through incidents.services, so the admin obeys the same moves and writes the same timeline."""

    form = IncidentAdminForm
    list_display = ["title", "severity", "status", "kind", "started_at", "resolved_at"]
    list_filter = ["status", "severity", "kind"]
    search_fields = ["title", "impact_summary"]
    filter_horizontal = ["components"]
    readonly_fields = ["acknowledged_at", "resolved_at", "closed_at", "created_by", "created_at", "updated_at"]
    inlines = [TimelineInline]
    date_hierarchy = "started_at"

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.changed_data}
        components = data.pop("components", None)
        if change:
            services.update_incident(obj, actor=request.user, components=components, **data)
        else:
            fields = {name: value for name, value in form.cleaned_data.items() if name != "components"}
            created = services.create_incident(actor=request.user, components=components or [], **fields)
            obj.pk = created.pk
            obj._state.adding = False
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        pass  # components were saved by save_model through the service; the timeline inline is read-only

    def has_delete_permission(self, request, obj=None):
        return False  # incidents are records; close them instead


@admin.register(TimelineEntry)
class TimelineEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "incident", "kind", "description", "actor"]
    list_filter = ["kind"]
    search_fields = ["description"]


@admin.register(Maintenance)
class MaintenanceAdmin(ReadOnlyAdmin):
    """Read only: windows are written, approved and moved through incidents.maintenance and comms.maintenance
    (the API and the maintenance pages), which check the state machines and keep the window's timeline."""

    list_display = ["title", "scheduled_for", "scheduled_until", "state", "approval"]
    list_filter = ["state", "approval"]
    search_fields = ["title"]
