from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db import models
from django.utils.html import format_html

from core.admin import ReadOnlyAdmin
from sentiment.choices import RuleKind
from sentiment.models import CommentSite, FlagRule, LexiconEntry, Mention, SentimentAlert, SocialSearch, XSearch
from sentiment.x_source import NOT_CONFIGURED


@admin.register(Mention)
class MentionAdmin(admin.ModelAdmin):
    """Read-mostly: mentions arrive through ingest and are reviewed in the review queue (which checks roles,
    moves the state machine and writes the incident timeline). The admin may correct the incident link."""

    list_display = ["posted_at", "source", "author_handle", "short_text", "label", "compound", "flagged",
                    "review_state", "incident"]
    list_filter = ["flagged", "label", "review_state", "source"]
    search_fields = ["text", "author_handle"]
    list_select_related = ["incident"]
    date_hierarchy = "posted_at"
    show_full_result_count = False
    fields = ["source", "external_id", "url", "in_reply_to_id", "in_reply_to_url", "network_ref", "posted_at",
              "received_at", "author_handle", "author_name",
              "author_followers", "language", "text", "neg", "neu", "pos", "compound", "label", "scored_at",
              "flagged", "flag_reasons", "incident", "review_state", "assignee", "review_note", "reviewed_at"]
    readonly_fields = [name for name in fields if name != "incident"]
    raw_id_fields = ["incident"]

    @admin.display(description="text")
    def short_text(self, mention):
        return mention.text if len(mention.text) <= 80 else mention.text[:79] + "…"

    def has_add_permission(self, request):
        return False


@admin.register(LexiconEntry)
class LexiconEntryAdmin(admin.ModelAdmin):
    list_display = ["term", "valence", "note", "updated_at"]
    list_editable = ["valence"]
    search_fields = ["term", "note"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "valence":  # in the change form and the list alike
            kwargs.update(min_value=-4, max_value=4, help_text=(
                "VADER scale: −4 (most negative) … +4 (most positive). 0 makes the term neutral: use it for your "
                "company's name, handles and product names (\"Happy Parcel\" is not happiness). Then run "
                "manage.py rescore_mentions."))
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class FlagRuleForm(forms.ModelForm):
    keywords = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}), required=False,
        help_text="For keyword rules: one word or phrase per line (matched as whole words, any case; a word also "
                  "in its inflections: cancel finds cancelled and cancelling).",
    )

    class Meta:
        model = FlagRule
        fields = ["name", "kind", "threshold", "keywords", "enabled"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["keywords"] = "\n".join(self.instance.keywords)

    def clean_keywords(self):
        return [word.strip() for word in self.cleaned_data["keywords"].splitlines() if word.strip()]

    def clean(self):
        data = super().clean()
        kind, threshold, keywords = data.get("kind"), data.get("threshold"), data.get("keywords") or []
        if kind == RuleKind.COMPOUND_AT_MOST:
            if threshold is None or not -1 <= threshold <= 1:
                self.add_error("threshold", "A score rule needs a compound threshold between −1 and 1, e.g. −0.5.")
        elif kind == RuleKind.FOLLOWERS_AT_LEAST:
            if threshold is None or threshold < 0 or threshold != int(threshold):
                self.add_error("threshold", "A follower rule needs a whole number of followers, e.g. 10000.")
        elif threshold is not None and kind:
            self.add_error("threshold", "Only score and follower rules have a threshold; leave it empty.")
        if kind == RuleKind.KEYWORDS and not keywords:
            self.add_error("keywords", "A keyword rule needs at least one word or phrase.")
        elif kind and kind != RuleKind.KEYWORDS and keywords:
            self.add_error("keywords", "Only keyword rules have keywords; leave them empty.")
        return data


@admin.register(FlagRule)
class FlagRuleAdmin(admin.ModelAdmin):
    form = FlagRuleForm
    list_display = ["name", "kind", "threshold", "keyword_list", "enabled"]
    list_filter = ["kind", "enabled"]
    list_editable = ["enabled"]

    @admin.display(description="keywords")
    def keyword_list(self, rule):
        return ", ".join(rule.keywords)




class XSearchForm(forms.ModelForm):
    class Meta:
        model = XSearch
        fields = ["name", "query", "enabled", "interval_seconds"]

    def clean_interval_seconds(self):
        interval = self.cleaned_data["interval_seconds"]
        if interval < 15:
            raise forms.ValidationError("Searches are polled at most every 15 seconds (the beat schedule).")
        return interval


@admin.register(XSearch)
class XSearchAdmin(admin.ModelAdmin):
    """Failing sources should be obvious: the status (or "not configured" without X_BEARER_TOKEN) and the last
    error lead the list."""

    form = XSearchForm
    list_display = ["name", "status_badge", "last_error_text", "enabled", "query", "last_polled_at", "next_poll_at"]
    list_display_links = ["name"]
    list_filter = ["status", "enabled"]
    search_fields = ["name", "query"]
    readonly_fields = ["status_badge", "last_error", "last_polled_at", "next_poll_at", "since_id",
                       "pending_next_token", "pending_newest_id"]
    fieldsets = [
        (None, {"fields": ["name", "query", "enabled", "interval_seconds"]}),
        ("Polling", {"fields": readonly_fields}),
    ]

    class Media:
        css = {"all": ["ears/admin.css"]}

    @admin.display(description="status", ordering="status")
    def status_badge(self, search):
        status = XSearch.Status.NOT_CONFIGURED if not settings.X_BEARER_TOKEN else XSearch.Status(search.status)
        # Coloured by ears/admin.css: the Content-Security-Policy refuses style attributes.
        return format_html('<strong class="x-search-status x-search-{}">{}</strong>', status.value, status.label)

    @admin.display(description="last error")
    def last_error_text(self, search):
        if not settings.X_BEARER_TOKEN:
            return NOT_CONFIGURED
        return search.last_error or "—"

    def changelist_view(self, request, extra_context=None):
        if not settings.X_BEARER_TOKEN:
            messages.warning(request, NOT_CONFIGURED)
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        if change and "query" in form.changed_data:
            # A pagination token belongs to the query it came from; a new query starts its poll afresh.
            obj.pending_next_token = obj.pending_newest_id = ""
        super().save_model(request, obj, form, change)


@admin.register(SentimentAlert)
class SentimentAlertAdmin(ReadOnlyAdmin):
    list_display = ["incident", "started_at", "ended_at", "ratio", "negatives_last_hour"]
    list_filter = [("ended_at", admin.EmptyFieldListFilter)]
    list_select_related = ["incident"]


class SocialSearchForm(XSearchForm):
    class Meta:
        model = SocialSearch
        fields = ["name", "network", "kind", "query", "enabled", "interval_seconds"]


@admin.register(SocialSearch)
class SocialSearchAdmin(admin.ModelAdmin):
    """Mastodon and Bluesky searches and Facebook and LinkedIn page comments (sentiment/sources/): like X's, failing
    or unconfigured ones lead the list."""

    form = SocialSearchForm
    list_display = ["name", "network", "kind", "status_badge", "last_error_text", "enabled", "query",
                    "last_polled_at", "next_poll_at"]
    list_filter = ["network", "status", "enabled"]
    search_fields = ["name", "query"]
    readonly_fields = ["status_badge", "last_error", "last_polled_at", "next_poll_at", "cursor", "pending_cursor",
                       "pending_newest"]
    fieldsets = [
        (None, {"fields": ["name", "network", "kind", "query", "enabled", "interval_seconds"]}),
        ("Polling", {"fields": readonly_fields}),
    ]

    class Media:
        css = {"all": ["ears/admin.css"]}

    @staticmethod
    def not_configured(search) -> str:
        from sentiment.sources import bluesky, facebook, linkedin, mastodon

        if search.network == SocialSearch.Network.MASTODON and not settings.MASTODON_CONFIGURED:
            return mastodon.NOT_CONFIGURED
        if search.network == SocialSearch.Network.BLUESKY and not settings.BLUESKY_CONFIGURED:
            return bluesky.NOT_CONFIGURED
        if search.network == SocialSearch.Network.FACEBOOK and not settings.FACEBOOK_CONFIGURED:
            return facebook.NOT_CONFIGURED
        if search.network == SocialSearch.Network.LINKEDIN and not settings.LINKEDIN_CONFIGURED:
            return linkedin.NOT_CONFIGURED
        return ""

    @admin.display(description="status", ordering="status")
    def status_badge(self, search):
        status = SocialSearch.Status.NOT_CONFIGURED if self.not_configured(search) else SocialSearch.Status(
            search.status)
        return format_html('<strong class="x-search-status x-search-{}">{}</strong>', status.value, status.label)

    @admin.display(description="last error")
    def last_error_text(self, search):
        return self.not_configured(search) or search.last_error or "—"

    def save_model(self, request, obj, form, change):
        if change and {"query", "kind", "network"} & set(form.changed_data):
            obj.cursor = obj.pending_cursor = obj.pending_newest = ""  # a cursor belongs to the search it came from
        super().save_model(request, obj, form, change)


@admin.register(CommentSite)
class CommentSiteAdmin(admin.ModelAdmin):
    """Blogs and sites posting their comments to POST /api/v1/mentions/comments/. A new site gets a token, shown once
    on saving; the actions issue a new token or signing secret (shown once, the old one stops working) or remove the
    secret. Only the token's digest is stored."""

    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # blog.example.com means https://

    list_display = ["name", "url", "enabled", "token_key", "signs", "last_received_at"]
    list_filter = ["enabled"]
    fields = ["name", "url", "enabled", "token_key", "signs", "created_at", "last_received_at"]
    readonly_fields = ["token_key", "signs", "created_at", "last_received_at"]
    actions = ["issue_new_token", "issue_new_signing_secret", "remove_signing_secret"]

    @admin.display(boolean=True, description="Signing secret")
    def signs(self, site):
        return bool(site.hmac_secret)

    def save_model(self, request, obj, form, change):
        token = obj.issue_token() if not change else None
        super().save_model(request, obj, form, change)
        if token:
            self._show_once(request, f"The token of “{obj.name}” (id {obj.pk})", token)

    @admin.action(description="Issue a new token (the old one stops working)")
    def issue_new_token(self, request, queryset):
        for site in queryset:
            token = site.issue_token()
            site.save(update_fields=["token_key", "token_digest"])
            self._show_once(request, f"The new token of “{site.name}”", token)

    @admin.action(description="Issue a new signing secret (the old one stops working)")
    def issue_new_signing_secret(self, request, queryset):
        for site in queryset:
            secret = site.issue_hmac_secret()
            site.save(update_fields=["hmac_secret"])
            self._show_once(request, f"The new signing secret of “{site.name}” (id {site.pk})", secret)

    @admin.action(description="Remove the signing secret (signed requests are refused)")
    def remove_signing_secret(self, request, queryset):
        count = queryset.update(hmac_secret="")
        self.message_user(request, f"Signing secret removed from {count} site(s).", messages.SUCCESS)

    def _show_once(self, request, what: str, value: str) -> None:
        self.message_user(request, f"{what}, shown this once — copy it now: {value}", messages.WARNING)
