from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import ModelSerializer, StrictFieldsMixin, UsernameField
from core.validators import web_url
from sentiment.choices import Label, Priority
from sentiment.models import Mention


@extend_schema_field({"type": "string", "anyOf": [{"format": "uri"}, {"maxLength": 0}]})
class OptionalURLField(serializers.CharField):
    """A URL, or "" when there is none (a blank URLField in the model) — or when a row stored before ingest checked
    URLs as RFC 3986 does holds one that is not a URI: the schema promises `format: uri`."""

    def to_representation(self, value):
        try:
            return web_url(value) if value else ""
        except ValidationError:
            return ""


class ReplySerializer(serializers.Serializer):
    status = serializers.CharField()
    external_id = serializers.CharField()
    last_error = serializers.CharField()
    sent_at = serializers.DateTimeField(allow_null=True)


class MentionSerializer(ModelSerializer):
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    label = serializers.ChoiceField(choices=Label.choices, allow_blank=True, read_only=True,
                                    help_text="Empty until the mention is scored.")
    url = OptionalURLField(read_only=True, help_text="Where it was posted; empty when unknown.")
    replies = ReplySerializer(many=True, read_only=True, help_text="X replies posted in response, and their state.")
    priority = serializers.ChoiceField(
        choices=Priority.choices, allow_blank=True, read_only=True,
        help_text="How soon to answer a flagged mention (why: its last flag reason); empty when not flagged.")
    reply_due_at = serializers.DateTimeField(
        read_only=True, allow_null=True,
        help_text="When a flagged mention should have been answered: received_at + its priority's reply target.")
    account_name = serializers.CharField(source="account.name", read_only=True, allow_null=True, default=None,
                                         help_text="The customer account the author belongs to, if known.")

    class Meta:
        model = Mention
        fields = [
            "id", "source", "external_id", "author_handle", "author_name", "author_followers", "text", "url",
            "posted_at", "language", "received_at", "neg", "neu", "pos", "compound", "label", "scored_at",
            "flagged", "flag_reasons", "priority", "reply_due_at", "incident", "account", "account_name",
            "review_state", "assignee",
            "review_note", "reviewed_at", "replies",
        ]
        read_only_fields = fields


class MentionInSerializer(serializers.Serializer):
    """One mention to ingest (documentation of the bulk body; items are validated one by one)."""

    source = serializers.ChoiceField(choices=["x", "api", "import", "email", "ticket"], required=False,
                                     help_text="Default: api.")
    external_id = serializers.CharField(max_length=100, help_text="Unique per source; a repeat is a duplicate.")
    text = serializers.CharField(max_length=10_000)
    posted_at = serializers.DateTimeField()
    author_handle = serializers.CharField(required=False, max_length=100)
    author_name = serializers.CharField(required=False, max_length=200)
    author_followers = serializers.IntegerField(required=False, min_value=0)
    url = serializers.URLField(required=False, max_length=500)
    language = serializers.CharField(required=False, max_length=12)


class BulkInSerializer(serializers.Serializer):
    mentions = MentionInSerializer(many=True, help_text="At most 1,000 per request.")


class ItemResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["created", "duplicate", "error"])
    id = serializers.IntegerField(required=False)
    external_id = serializers.CharField(required=False)
    reason = serializers.CharField(required=False)


class BulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    errors = serializers.IntegerField()
    results = ItemResultSerializer(many=True)


class AssignSerializer(StrictFieldsMixin, serializers.Serializer):
    assignee = UsernameField(
        queryset=get_user_model().objects.filter(is_active=True), required=False,
        help_text="Username; default: you.",
    )


class RespondSerializer(StrictFieldsMixin, serializers.Serializer):
    text = serializers.CharField(max_length=5000, help_text="The response given (or to post on X).")
    post_to_x = serializers.BooleanField(default=False, help_text="Post it as a reply on X (mentions from X only).")


class EscalateSerializer(StrictFieldsMixin, serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class DismissSerializer(StrictFieldsMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text="Why no action is needed.")


class SeriesBucketSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    volume = serializers.IntegerField()
    mean_compound = serializers.FloatField(allow_null=True)
    share_negative = serializers.FloatField(allow_null=True)


class MarkerSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    message = serializers.IntegerField()
    headline = serializers.CharField()
    mean_compound_hour_before = serializers.FloatField(allow_null=True)
    mean_compound_hour_after = serializers.FloatField(allow_null=True)
    change = serializers.FloatField(allow_null=True)


class IncidentSentimentSerializer(serializers.Serializer):
    incident = serializers.IntegerField()
    bucket_minutes = serializers.IntegerField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    buckets = SeriesBucketSerializer(many=True)
    markers = MarkerSerializer(many=True)
