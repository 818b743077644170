from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import ModelSerializer, StrictFieldsMixin, UsernameField
from core.validators import web_url
from sentiment.choices import DismissReason, Label, Priority
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
    in_reply_to_url = OptionalURLField(read_only=True, help_text="Where the post or comment it answers is; empty "
                                                                 "when it answers nothing or that is unknown.")
    replies = ReplySerializer(many=True, read_only=True,
                              help_text="Replies posted in response on the mention's network, and their state.")
    priority = serializers.ChoiceField(
        choices=Priority.choices, allow_blank=True, read_only=True,
        help_text="How soon to answer a flagged mention (why: its last flag reason); empty when not flagged.")
    reply_due_at = serializers.DateTimeField(
        read_only=True, allow_null=True,
        help_text="When a flagged mention should have been answered: received_at + its priority's reply target.")
    dismiss_reason = serializers.ChoiceField(
        choices=DismissReason.choices, allow_blank=True, read_only=True,
        help_text="Why it was dismissed (labels the flag as right or false); empty unless dismissed with a kind.")
    account_name = serializers.CharField(source="account.name", read_only=True, allow_null=True, default=None,
                                         help_text="The customer account the author belongs to, if known.")

    class Meta:
        model = Mention
        fields = [
            "id", "source", "external_id", "author_handle", "author_name", "author_followers", "text", "url",
            "in_reply_to_id", "in_reply_to_url", "posted_at", "language", "received_at", "neg", "neu", "pos",
            "compound", "label", "scored_at",
            "flagged", "flag_reasons", "priority", "reply_due_at", "incident", "account", "account_name",
            "review_state", "assignee",
            "review_note", "reviewed_at", "dismiss_reason", "spot_check", "replies",
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
    in_reply_to_id = serializers.CharField(required=False, max_length=200,
                                           help_text="The post or comment it answers, as its network names it.")
    in_reply_to_url = serializers.URLField(required=False, max_length=500, help_text="Where that post or comment is.")
    network_ref = serializers.CharField(
        required=False, max_length=200,
        help_text="What a reply on its network needs besides the external id (LinkedIn: \"<post URN> <comment URN>\").")


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
    post_to_x = serializers.BooleanField(default=False, help_text="Post it as a reply where the mention was posted "
                                         "(X, Mastodon, Bluesky or a Facebook page comment).")


class EscalateSerializer(StrictFieldsMixin, serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class DismissSerializer(StrictFieldsMixin, serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=DismissReason.choices, required=False,
        help_text="Why, as a label for the flag quality figures: not_negative and not_about_us mark a false flag, "
                  "already_handled one that needed an answer. Either kind or reason is required.")
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True,
                                   help_text="Why no action is needed, in words.")

    def validate(self, data):
        if not data.get("kind") and not data.get("reason", "").strip():
            raise serializers.ValidationError({"reason": ["Say why it needs no action: a kind, a reason or both."]})
        return data


class RateSerializer(serializers.Serializer):
    hits = serializers.IntegerField()
    total = serializers.IntegerField()
    value = serializers.FloatField(allow_null=True, help_text="hits ÷ total; null when total is 0.")
    low = serializers.FloatField(allow_null=True, help_text="95 % Wilson interval, lower bound.")
    high = serializers.FloatField(allow_null=True, help_text="95 % Wilson interval, upper bound.")


class ReasonCountSerializer(serializers.Serializer):
    reason = serializers.CharField()
    count = serializers.IntegerField()


class SuggestionSerializer(serializers.Serializer):
    term = serializers.CharField()
    valence = serializers.FloatField(help_text="Negative for missed-complaint words; 0 to neutralise a word.")
    documents = serializers.IntegerField(help_text="Missed complaints (or false flags) that contain it.")
    ratio = serializers.FloatField(help_text="How many times as frequent there as on the other side.")
    why = serializers.CharField()
    examples = serializers.ListField(child=serializers.IntegerField(), help_text="Mention ids you may read.")


class QualitySerializer(serializers.Serializer):
    days = serializers.IntegerField()
    since = serializers.DateTimeField()
    flagged = serializers.IntegerField(help_text="Mentions flagged in the period.")
    unflagged = serializers.IntegerField(help_text="Scored mentions not flagged in the period.")
    flags = serializers.DictField(child=serializers.IntegerField(),
                                  help_text="Reviewed flags by outcome: right, false, needless, unlabelled; open.")
    flag_precision = RateSerializer(help_text="Reviewed flags that needed an answer.")
    flag_negative = RateSerializer(help_text="Reviewed flags that were negative at all.")
    spot_checks = serializers.DictField(child=serializers.IntegerField(),
                                        help_text="sampled, reviewed, missed (needed an answer), open.")
    miss_rate = RateSerializer(help_text="Reviewed spot-checks that needed an answer.")
    recall = serializers.FloatField(allow_null=True, help_text="Estimated share of complaints that were flagged.")
    recall_low = serializers.FloatField(allow_null=True)
    recall_high = serializers.FloatField(allow_null=True)
    false_flag_reasons = ReasonCountSerializer(many=True)
    dismiss_reasons = ReasonCountSerializer(many=True)
    suggestions = SuggestionSerializer(many=True)


class AcceptSuggestionSerializer(StrictFieldsMixin, serializers.Serializer):
    term = serializers.CharField(max_length=60)
    valence = serializers.FloatField(min_value=-4, max_value=4)
    why = serializers.CharField(max_length=150, required=False, allow_blank=True)


class LexiconEntrySerializer(serializers.Serializer):
    term = serializers.CharField()
    valence = serializers.FloatField()
    note = serializers.CharField()


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
