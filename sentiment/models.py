from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.db import BoundedTextField
from sentiment.choices import OPEN_REVIEW_STATES, DismissReason, Label, Priority, ReviewState, RuleKind, Source


class Mention(models.Model):
    """Something a customer said about us, scored, flagged by rules, linked and reviewed."""

    source = models.CharField(max_length=8, choices=Source.choices)
    external_id = models.CharField(max_length=100, help_text="Unique per source, e.g. the post id.")
    author_handle = models.CharField(max_length=100, blank=True)
    author_name = models.CharField(max_length=200, blank=True)
    author_followers = models.PositiveIntegerField(null=True, blank=True)
    text = BoundedTextField(max_length=10_000)
    url = models.URLField(max_length=500, blank=True)
    # The thread it belongs to, when it answers something (a reply, a comment): the network's id of the post or
    # comment it answers, and that one's address for people opening the conversation.
    in_reply_to_id = models.CharField(
        max_length=200, blank=True,
        help_text="The post or comment it answers, as the network names it (a Mastodon status id, a Bluesky at:// "
                  "URI, a Facebook post or comment id, a LinkedIn post or comment URN, a blog's comment id).")
    in_reply_to_url = models.URLField(max_length=500, blank=True, help_text="Where that post or comment is.")
    network_ref = models.CharField(
        max_length=200, blank=True,
        help_text="What a reply on the network needs when the external id is not enough (LinkedIn: the post's URN "
                  "and the URN of the comment to answer under).")
    posted_at = models.DateTimeField()
    language = models.CharField(max_length=12, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    # Scores, filled by the worker right after ingest (null until then).
    neg = models.FloatField(null=True, blank=True)
    neu = models.FloatField(null=True, blank=True)
    pos = models.FloatField(null=True, blank=True)
    compound = models.FloatField(null=True, blank=True)
    label = models.CharField(max_length=8, choices=Label.choices, blank=True)
    scored_at = models.DateTimeField(null=True, blank=True)
    flagged = models.BooleanField(default=False)
    flag_reasons = models.JSONField(default=list, blank=True)
    # Flagged mentions only (blank / null otherwise), set at scoring: how soon to answer, and by when.
    priority = models.CharField(max_length=8, choices=Priority.choices, blank=True)
    reply_due_at = models.DateTimeField(null=True, blank=True,
                                        help_text="received_at + the reply target of the priority.")
    overdue_alerted_at = models.DateTimeField(null=True, blank=True,
                                              help_text="When people were told it is past its reply target (once).")

    incident = models.ForeignKey(
        "incidents.Incident", null=True, blank=True, on_delete=models.SET_NULL, related_name="mentions", db_index=False
    )
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="mentions", db_index=False
    )
    replies = models.ManyToManyField(
        "comms.Delivery", blank=True, related_name="+", help_text="Replies posted in answer (X), and their state.",
    )

    review_state = models.CharField(max_length=12, choices=ReviewState.choices, default=ReviewState.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_mentions",
        db_index=False,
    )
    review_note = BoundedTextField(max_length=5000, blank=True,
                                   help_text="The response, escalation note or dismissal reason.")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    dismiss_reason = models.CharField(max_length=16, choices=DismissReason.choices, blank=True,
                                      help_text="Set when dismissed: labels the flag as true or false.")
    # An unflagged mention sampled into the queue by the daily spot-check, so that missed complaints are found too.
    spot_check = models.BooleanField(default=False)
    spot_checked_at = models.DateTimeField(null=True, blank=True, help_text="When the spot-check sampled it.")

    class Meta:
        ordering = ["-posted_at", "-id"]
        permissions = [("review_mention", "Can assign, respond to, escalate and dismiss mentions")]
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="one_mention_per_source_id")]
        # Partial indexes: most mentions are never flagged, linked or assigned, and a row enters an index only
        # when it is. A stored mention costs three index entries (primary key, source and id, unscored) instead
        # of nine, and its scored version one or two more (docs/benchmarks.md, ingest).
        indexes = [
            models.Index(fields=["review_state", "-posted_at"], condition=Q(flagged=True), name="mention_queue"),
            models.Index(fields=["compound"], condition=Q(flagged=True), name="mention_queue_negative"),
            # Waiting for an answer, most urgent first: the queue's default order and the overdue sweep's lookup.
            models.Index(fields=["priority", "reply_due_at"],
                         condition=Q(flagged=True, review_state__in=OPEN_REVIEW_STATES), name="mention_urgent"),
            models.Index(fields=["incident", "posted_at"], condition=Q(incident__isnull=False),
                         name="mention_incident"),
            models.Index(fields=["account", "incident", "label"], condition=Q(account__isnull=False),
                         name="mention_account"),
            models.Index(fields=["assignee"], condition=Q(assignee__isnull=False), name="mention_assignee"),
            # The few sampled by the spot-check: the queue's "spot checks" view and the quality page.
            models.Index(fields=["spot_checked_at"], condition=Q(spot_check=True), name="mention_spot_check"),
            # Reviewed ones, for the quality page's outcome labels over a window.
            models.Index(fields=["reviewed_at"], condition=Q(reviewed_at__isnull=False), name="mention_reviewed"),
            # Those waiting for the worker, for the sweep that scores what a lost task left (score_stragglers).
            models.Index(fields=["received_at"], condition=Q(scored_at__isnull=True), name="mention_unscored"),
        ]

    def __str__(self):
        return f"{self.get_source_display()} {self.author_handle or self.external_id}: {self.text[:60]}"


class LexiconEntry(models.Model):
    """A term the incident vocabulary layer adds to VADER (or re-weights). Phrases may contain spaces."""

    term = models.CharField(max_length=60, unique=True)
    valence = models.FloatField(help_text="VADER scale: −4 (most negative) … +4 (most positive).")
    note = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["term"]
        verbose_name_plural = "lexicon entries"

    def __str__(self):
        return f"{self.term} ({self.valence:+})"


class FlagRule(models.Model):
    """One reason to flag a mention for review. Each rule that matches is recorded on the mention."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=24, choices=RuleKind.choices)
    threshold = models.FloatField(null=True, blank=True, help_text="For score and follower rules.")
    keywords = models.JSONField(default=list, blank=True, help_text="For keyword rules: words or phrases.")
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class XSearch(models.Model):
    """A search on X polled by a periodic task. since_id is kept so that nothing is fetched twice."""

    class Status(models.TextChoices):
        OK = "ok", "OK"
        WAITING = "waiting", "Waiting for the rate limit"
        FAILING = "failing", "Failing"
        NOT_CONFIGURED = "not_configured", "Not configured"

    name = models.CharField(max_length=100, unique=True)
    query = models.CharField(max_length=512, help_text="X search syntax, e.g. “@acme OR acme.com -is:retweet”.")
    enabled = models.BooleanField(default=True)
    interval_seconds = models.PositiveIntegerField(default=60)
    since_id = models.CharField(max_length=32, blank=True)
    # A poll cut short (rate limit) resumes here instead of starting over.
    pending_next_token = models.CharField(max_length=200, blank=True)
    pending_newest_id = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OK)
    last_error = models.TextField(blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    next_poll_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "X search"
        verbose_name_plural = "X searches"

    def __str__(self):
        return self.name


class SentimentAlert(models.Model):
    """A negative spike on an incident; open until negative volume falls back below the factor."""

    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="sentiment_alerts")
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    ratio = models.FloatField(help_text="Negative mentions per hour in the last hour ÷ the 12 hours before.")
    negatives_last_hour = models.PositiveIntegerField()

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"Negative spike on {self.incident} at {self.started_at:%Y-%m-%d %H:%M} (×{self.ratio:.1f})"


from sentiment.sources.models import CommentSite, SocialSearch  # noqa: E402, F401 - searches, comment sites
