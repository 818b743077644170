from django import forms
from django.contrib import admin, messages
from django.db import models

from comms.models import (
    Alert,
    AlertComponentMapping,
    AlertSeverityMapping,
    AlertSource,
    Delivery,
    Message,
    MessageTemplate,
    SmsSubscriber,
    Subscriber,
    SubscriberEndpoint,
    WebhookEndpoint,
)
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


# --- Alerts that open incidents (comms.alerts; docs/api.md, "Alerts") -------------------------------------------

class AlertComponentMappingInline(admin.TabularInline):
    model = AlertComponentMapping
    extra = 1
    fields = ["label", "value", "component"]


@admin.register(AlertSource)
class AlertSourceAdmin(admin.ModelAdmin):
    """A new source gets a token, shown once on saving; the actions issue a new token or signing secret (shown once,
    the old one stops working) or remove the secret. Only the token's digest is stored."""

    list_display = ["name", "kind", "enabled", "token_key", "signs", "default_severity", "last_seen_at"]
    list_filter = ["kind", "enabled"]
    fields = ["name", "kind", "enabled", "default_severity", "acknowledgement_template", "token_key", "signs",
              "created_at", "last_seen_at"]
    readonly_fields = ["token_key", "signs", "created_at", "last_seen_at"]
    inlines = [AlertComponentMappingInline]
    actions = ["issue_new_token", "issue_new_signing_secret", "remove_signing_secret"]

    @admin.display(boolean=True, description="Signing secret")
    def signs(self, source):
        return bool(source.hmac_secret)

    def save_model(self, request, obj, form, change):
        token = obj.issue_token() if not change else None
        super().save_model(request, obj, form, change)
        if token:
            self._show_once(request, f"The token of “{obj.name}”", token)

    @admin.action(description="Issue a new token (the old one stops working)")
    def issue_new_token(self, request, queryset):
        for source in queryset:
            token = source.issue_token()
            source.save(update_fields=["token_key", "token_digest"])
            self._show_once(request, f"The new token of “{source.name}”", token)

    @admin.action(description="Issue a new signing secret (the old one stops working)")
    def issue_new_signing_secret(self, request, queryset):
        for source in queryset:
            secret = source.issue_hmac_secret()
            source.save(update_fields=["hmac_secret"])
            self._show_once(request, f"The new signing secret of “{source.name}” (id {source.pk})", secret)

    @admin.action(description="Remove the signing secret (signed requests are refused)")
    def remove_signing_secret(self, request, queryset):
        count = queryset.update(hmac_secret="")
        self.message_user(request, f"Signing secret removed from {count} source(s).", messages.SUCCESS)

    def _show_once(self, request, what: str, value: str) -> None:
        self.message_user(request, f"{what}, shown this once — copy it now: {value}", messages.WARNING)


@admin.register(AlertSeverityMapping)
class AlertSeverityMappingAdmin(admin.ModelAdmin):
    """The `severity` label's value → SEV1…SEV4; a value not listed takes the source's default severity."""

    list_display = ["value", "severity"]
    list_editable = ["severity"]
    list_filter = ["severity"]


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["name", "source", "fingerprint", "severity", "component", "incident", "outcome", "received_at",
                    "resolved_at"]
    list_filter = ["outcome", "source", ("resolved_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "fingerprint"]
    list_select_related = ["source", "component", "incident"]


@admin.register(SmsSubscriber)
class SmsSubscriberAdmin(admin.ModelAdmin):
    """Numbers subscribed by SMS (comms.sms). Opted out: replied STOP; they get nothing until they reply START.
    The code is never shown (only its HMAC is kept)."""

    list_display = ["phone", "confirmed_at", "opted_out_at", "code_sent_at", "created_at"]
    list_filter = [("confirmed_at", admin.EmptyFieldListFilter), ("opted_out_at", admin.EmptyFieldListFilter)]
    search_fields = ["phone"]
    filter_horizontal = ["components"]
    fields = ["phone", "components", "confirmed_at", "opted_out_at", "code_sent_at", "code_attempts", "created_at"]
    readonly_fields = ["phone", "confirmed_at", "opted_out_at", "code_sent_at", "code_attempts", "created_at"]

    def has_add_permission(self, request):
        return False  # a number is added only by its owner typing the code back


@admin.register(SubscriberEndpoint)
class SubscriberEndpointAdmin(admin.ModelAdmin):
    """Status page subscribers' Slack, Teams, Discord and generic webhooks (comms.endpoints). Added only by their
    owners through the status page (a code sent to the URL must come back); disabled after repeated permanent
    failures. Clearing "disabled at" here enables one again (the leads' page does the same)."""

    list_display = ["__str__", "kind", "confirmed_at", "consecutive_failures", "disabled_at", "created_at"]
    list_filter = ["kind", ("confirmed_at", admin.EmptyFieldListFilter), ("disabled_at", admin.EmptyFieldListFilter)]
    filter_horizontal = ["components"]
    fields = ["kind", "url", "place", "components", "requested_at", "confirmed_at", "test_sent_at", "test_error",
              "consecutive_failures", "disabled_at", "disabled_reason", "created_at"]
    readonly_fields = ["kind", "url", "place", "requested_at", "confirmed_at", "test_sent_at", "test_error",
                       "created_at"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False
