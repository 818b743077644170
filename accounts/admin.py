from django.contrib import admin

from accounts.models import Account, AccountEvent, Compensation, Contact, EmailDomain, FollowUp, Impact, SocialHandle
from core.admin import ReadOnlyAdmin


class EmailDomainInline(admin.TabularInline):
    model = EmailDomain
    extra = 0


class SocialHandleInline(admin.TabularInline):
    model = SocialHandle
    extra = 0


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "tier", "arr", "currency", "renewal_date", "owner"]
    list_filter = ["tier", "owner"]
    search_fields = ["name", "email_domains__domain", "social_handles__handle"]
    autocomplete_fields = ["owner"]
    filter_horizontal = ["components"]
    inlines = [EmailDomainInline, SocialHandleInline, ContactInline]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "role", "is_primary", "account"]
    search_fields = ["name", "email", "account__name"]
    list_select_related = ["account"]


class FollowUpInline(admin.TabularInline):
    model = FollowUp
    fields = ["kind", "summary", "owner", "due_at", "done_at", "outcome"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class CompensationInline(FollowUpInline):
    model = Compensation
    fields = ["kind", "amount", "percentage", "currency", "state", "proposed_by", "approved_by"]
    readonly_fields = fields


# Impacts, follow-ups and compensation move through state machines with approval rules: they change on the
# pages and through the API (accounts.services), and the admin shows them.
@admin.register(Impact)
class ImpactAdmin(ReadOnlyAdmin):
    list_display = ["account", "incident", "level", "state", "owner", "downtime_minutes", "sla_breached"]
    list_filter = ["state", "level", "source"]
    search_fields = ["account__name", "incident__title"]
    list_select_related = ["account", "incident", "owner"]
    inlines = [FollowUpInline, CompensationInline]


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnlyAdmin):
    list_display = ["summary", "kind", "owner", "due_at", "done_at"]
    list_filter = ["kind"]
    search_fields = ["summary", "impact__account__name"]
    list_select_related = ["owner"]


@admin.register(Compensation)
class CompensationAdmin(ReadOnlyAdmin):
    list_display = ["impact", "kind", "amount", "percentage", "currency", "state", "proposed_by", "approved_by"]
    list_filter = ["state", "kind"]
    list_select_related = ["impact__account", "impact__incident", "proposed_by", "approved_by"]


@admin.register(AccountEvent)
class AccountEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "account", "kind", "description", "actor"]
    list_filter = ["kind"]
    search_fields = ["description", "account__name"]
    list_select_related = ["account", "actor"]
