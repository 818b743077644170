from django import forms
from django.contrib import admin
from django.db import models

from comms.models import Delivery, Message, MessageTemplate, Subscriber, WebhookEndpoint
from comms.rendering import PLACEHOLDERS, unknown_placeholders
from core.admin import ReadOnlyAdmin


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
    list_display = ["name", "phase", "pre_approved", "written_by", "updated_at"]
    list_filter = ["phase", "pre_approved"]

    def save_model(self, request, obj, form, change):
        obj.written_by = request.user  # an author of messages left as it makes them (four eyes)
        super().save_model(request, obj, form, change)


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
    """The URL is checked by WebhookEndpoint.clean (core.outbound): https, public addresses only."""

    list_display = ["name", "url", "format", "internal", "active"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # hooks.example.com/x means https://
    list_filter = ["format", "internal", "active"]
