from django import forms
from django.contrib import admin

from comms import services
from comms.choices import OPEN_STATUSES
from comms.models import (
    Component,
    Delivery,
    Incident,
    Message,
    MessageTemplate,
    Subscriber,
    TimelineEntry,
    WebhookEndpoint,
    WorkerHeartbeat,
)
from comms.rendering import PLACEHOLDERS, unknown_placeholders
from comms.statemachine import TransitionNotAllowed


@admin.register(Component)
class ComponentAdmin(admin.ModelAdmin):
    list_display = ["name", "tier", "status", "display_order"]
    list_editable = ["status", "display_order"]
    list_filter = ["tier", "status"]
    search_fields = ["name"]


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
    """Saves go through comms.services, so the admin obeys the same moves and writes the same timeline."""

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


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that change only through their own flow (or never): the admin shows them, nothing more."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TimelineEntry)
class TimelineEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "incident", "kind", "description", "actor"]
    list_filter = ["kind"]
    search_fields = ["description"]


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["hostname", "seen_at"]


class MessageTemplateAdminForm(forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = ["name", "phase", "pre_approved", "channels", "headline", "explain", "acknowledge", "resolve",
                  "study"]

    def clean(self):
        data = super().clean()
        for name in ("headline", "explain", "acknowledge", "resolve", "study"):
            unknown = unknown_placeholders(data.get(name) or "")
            if unknown:
                self.add_error(name, f"Unknown placeholder(s): {', '.join(unknown)}. Known: {', '.join(PLACEHOLDERS)}.")
        return data


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    form = MessageTemplateAdminForm
    list_display = ["name", "phase", "pre_approved", "updated_at"]
    list_filter = ["phase", "pre_approved"]


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    """Read-only: messages change only through the approval flow (pages and API), which the admin would bypass."""

    list_display = ["headline", "incident", "phase", "audience", "state", "author", "approver", "scheduled_for"]
    list_filter = ["state", "phase", "audience"]
    search_fields = ["headline", "explain"]
    list_select_related = ["incident", "author", "approver"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["message", "channel", "recipient", "status", "attempts", "sent_at", "last_error"]
    list_filter = ["status", "channel"]
    search_fields = ["recipient", "external_id", "code"]
    list_select_related = ["message"]
    show_full_result_count = False


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ["email", "confirmed_at", "created_at"]
    list_filter = [("confirmed_at", admin.EmptyFieldListFilter)]
    search_fields = ["email"]
    filter_horizontal = ["components"]
    readonly_fields = ["confirmed_at", "created_at"]
    show_full_result_count = False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "format", "internal", "active"]
    list_filter = ["format", "internal", "active"]
