"""What the pollers of Mastodon, Bluesky, Facebook and LinkedIn read (one row per search, with its cursor and its last
outcome), and the blogs and sites whose comments are posted to EARS (CommentSite).

Imported by sentiment.models, so that Django finds the model in the sentiment app."""

import hashlib
import hmac
import secrets

from django.core.exceptions import ValidationError
from django.db import models

COMMENT_SITE_TOKEN_KEY_LENGTH = 12  # the token's first characters, stored in the clear to find its site


class SocialSearch(models.Model):
    """A search on Mastodon or Bluesky, or the comments on our Facebook or LinkedIn page, polled by a periodic task.
    The cursor moves forward only over what was stored, so a poll cut short (rate limit, outage) resumes where it
    stopped and nothing is fetched twice."""

    class Network(models.TextChoices):
        MASTODON = "mastodon", "Mastodon"
        BLUESKY = "bluesky", "Bluesky"
        FACEBOOK = "facebook", "Facebook page"
        LINKEDIN = "linkedin", "LinkedIn page"

    class Kind(models.TextChoices):
        MENTIONS = "mentions", "Mentions of our account"
        HASHTAG = "hashtag", "Hashtag"
        KEYWORDS = "keywords", "Keyword search"
        COMMENTS = "comments", "Comments on our page's posts"

    class Status(models.TextChoices):
        OK = "ok", "OK"
        WAITING = "waiting", "Waiting for the rate limit"
        FAILING = "failing", "Failing"
        NOT_CONFIGURED = "not_configured", "Not configured"

    name = models.CharField(max_length=100, unique=True)
    network = models.CharField(max_length=8, choices=Network.choices)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.MENTIONS)
    query = models.CharField(max_length=300, blank=True,
                             help_text="The hashtag (without #) or the words to search for; empty for mentions.")
    enabled = models.BooleanField(default=True)
    interval_seconds = models.PositiveIntegerField(default=60)
    cursor = models.CharField(max_length=200, blank=True,
                              help_text="Mastodon: the newest id read. Bluesky, Facebook, LinkedIn: the newest time "
                                        "read.")
    # Bluesky pages from newest to oldest: a poll cut short keeps its page cursor and the newest time it saw.
    pending_cursor = models.CharField(max_length=500, blank=True)
    pending_newest = models.CharField(max_length=200, blank=True)
    # LinkedIn: each watched comment's reply count when its replies were last read (comment URN → count).
    reply_counts = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OK)
    last_error = models.TextField(blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    next_poll_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "sentiment"
        ordering = ["network", "name"]
        verbose_name = "social network search"
        verbose_name_plural = "social network searches"

    def __str__(self):
        return f"{self.get_network_display()}: {self.name}"

    def clean(self):
        super().clean()
        self.query = self.query.strip().lstrip("#") if self.kind == self.Kind.HASHTAG else self.query.strip()
        pages = (self.Network.FACEBOOK, self.Network.LINKEDIN)
        if (self.network in pages) != (self.kind == self.Kind.COMMENTS):
            raise ValidationError({"kind": "Facebook and LinkedIn read the comments on our page's posts; Mastodon and "
                                           "Bluesky read mentions, a hashtag or keywords."})
        if self.kind == self.Kind.COMMENTS:
            self.query = ""
            return
        if self.kind != self.Kind.MENTIONS and not self.query:
            raise ValidationError({"query": "A hashtag or keyword search needs something to search for."})
        if self.kind == self.Kind.HASHTAG and not self.query.replace("_", "").isalnum():
            raise ValidationError({"query": "A hashtag is letters, digits and underscores, e.g. AcmeStatus."})


def comment_site_token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class CommentSite(models.Model):
    """A blog or site whose comments are posted to POST /api/v1/mentions/comments/ (WordPress- or Disqus-style), proving
    which site it is by its bearer token (stored as a SHA-256 digest; shown once when issued) or by an HMAC-SHA256
    signature of the body with its secret. Its comments become mentions (source "blog")."""

    name = models.CharField(max_length=100, unique=True)
    url = models.URLField(blank=True, help_text="The site's address, for people reading the queue.")
    enabled = models.BooleanField(default=True)
    token_key = models.CharField(max_length=COMMENT_SITE_TOKEN_KEY_LENGTH, unique=True, editable=False)
    token_digest = models.CharField(max_length=64, editable=False)
    hmac_secret = models.CharField(max_length=64, blank=True, editable=False,
                                   help_text="Shared secret for the X-Signature header; empty: signatures are not "
                                             "accepted.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_received_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "sentiment"
        ordering = ["name"]
        verbose_name = "blog or site sending comments"
        verbose_name_plural = "blogs and sites sending comments"

    def __str__(self):
        return self.name

    def issue_token(self) -> str:
        """A new token (the old one stops working once saved). Returned once; only its digest is kept."""
        self.token_key = secrets.token_hex(COMMENT_SITE_TOKEN_KEY_LENGTH // 2)
        token = self.token_key + secrets.token_urlsafe(32)
        self.token_digest = comment_site_token_digest(token)
        return token

    def issue_hmac_secret(self) -> str:
        self.hmac_secret = secrets.token_hex(32)
        return self.hmac_secret

    def token_matches(self, token: str) -> bool:
        return hmac.compare_digest(self.token_digest, comment_site_token_digest(token))
