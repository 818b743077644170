
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from comms import messaging
from comms.channels import channel_choices
from comms.choices import Audience, MessagePhase
from comms.lint import as_dicts, lint_message, quiet_period_until
from comms.models import Delivery, Message, MessageTemplate, Subscriber
from comms.models.messages import PART_LIMIT
from comms.privacy import hides_recipient, without_addresses
from comms.rendering import PLACEHOLDERS, unknown_placeholders
from core.api import IdField, ModelSerializer, StrictFieldsMixin
from incidents.models import Component, Incident

CONTENT = ["headline", "explain", "acknowledge", "resolve", "study"]


class LintWarningSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    field = serializers.CharField(allow_null=True)


class MessageSerializer(StrictFieldsMixin, ModelSerializer):
    incident = IdField(queryset=Incident.objects.all())
    template = IdField(
        queryset=MessageTemplate.objects.all(), required=False, allow_null=True,
        help_text="Start from this template (placeholders filled in). Fields you also send override it.",
    )
    channels = serializers.ListField(child=serializers.ChoiceField(choices=channel_choices()), required=False)
    headline = serializers.CharField(max_length=140, required=False)
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)
    approver = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    is_unchanged_preapproved = serializers.BooleanField(
        read_only=True, help_text="Publishable at once by a lead or support user, without a second approval."
    )
    lint = serializers.SerializerMethodField(
        help_text="Problems with the text: `level` error ones (template guidance, unfilled placeholders) block "
        "approval and publishing; warnings never do.")
    stale_since = serializers.CharField(
        read_only=True, allow_null=True,
        help_text="The incident status the text was written under, when the incident has moved on since: approving "
        "or publishing then needs `confirm_stale`.")

    class Meta:
        model = Message
        fields = [
            "id", "incident", "template", "phase", "audience", "channels", "is_announcement", *CONTENT,
            "scheduled_for", "state", "author", "approver", "rejection_reason", "is_unchanged_preapproved", "lint",
            "stale_since",
            "submitted_at", "approved_at", "dispatched_at", "published_at", "finished_at", "created_at", "updated_at",
        ]
        read_only_fields = [
            "state", "rejection_reason", "submitted_at", "approved_at", "dispatched_at", "published_at",
            "finished_at", "created_at", "updated_at",
        ]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields["incident"].read_only = True  # a message stays with its incident
            fields["template"].read_only = True
        return fields

    @extend_schema_field(LintWarningSerializer(many=True))
    def get_lint(self, message) -> list[dict]:
        if "quiet_until" not in self.context:  # shared by every message of a list
            self.context["quiet_until"] = quiet_period_until()
        return as_dicts(lint_message(message, quiet_until=self.context["quiet_until"]))

    def validate(self, attrs):
        if self.instance is None and not attrs.get("template") and not attrs.get("headline"):
            raise serializers.ValidationError({"headline": "Write a headline, or start from a template."})
        return attrs

    def create(self, validated_data):
        return messaging.create_message(author=self.context["request"].user, **validated_data)

    def update(self, instance, validated_data):
        return messaging.update_message(instance, actor=self.context["request"].user, **validated_data)


class MessageUpdateSerializer(MessageSerializer):
    """A change to a message (documentation of PUT and PATCH): its incident and template stay as they are."""

    incident = IdField(read_only=True)
    template = IdField(read_only=True, allow_null=True)


class DraftPreviewSerializer(StrictFieldsMixin, serializers.Serializer):
    """An unsaved draft, to preview its renderings and warnings while it is being written."""

    incident = IdField(queryset=Incident.objects.all())
    phase = serializers.ChoiceField(choices=MessagePhase.choices, default=MessagePhase.UPDATE)
    audience = serializers.ChoiceField(choices=Audience.choices, default=Audience.PUBLIC)
    channels = serializers.ListField(child=serializers.ChoiceField(choices=channel_choices()), default=list)
    is_announcement = serializers.BooleanField(default=False)
    headline = serializers.CharField(max_length=140, allow_blank=True, default="")
    explain = serializers.CharField(allow_blank=True, default="", max_length=PART_LIMIT)
    acknowledge = serializers.CharField(allow_blank=True, default="", max_length=PART_LIMIT)
    resolve = serializers.CharField(allow_blank=True, default="", max_length=PART_LIMIT)
    study = serializers.CharField(allow_blank=True, default="", max_length=PART_LIMIT)


class ReasonSerializer(StrictFieldsMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text="Why, so the author knows what to change.")


class ConfirmStaleSerializer(StrictFieldsMixin, serializers.Serializer):
    confirm_stale = serializers.BooleanField(
        required=False, default=False,
        help_text="The text was written under an earlier incident status (`stale_since`); true confirms it was "
        "checked and still holds. Without it such a message is refused with 409.")


class PublishSerializer(ConfirmStaleSerializer):
    at = serializers.DateTimeField(required=False, help_text="Send at this time instead of now.")


class EmailPreviewSerializer(serializers.Serializer):
    subject = serializers.CharField()
    text = serializers.CharField()
    html = serializers.CharField()


class XPreviewSerializer(serializers.Serializer):
    text = serializers.CharField()
    weighted_length = serializers.IntegerField()
    limit = serializers.IntegerField()


class SocialPreviewSerializer(serializers.Serializer):
    text = serializers.CharField()
    length = serializers.IntegerField(help_text="As the network counts: grapheme clusters (Mastodon: URLs as 23).")
    limit = serializers.IntegerField()


class PreviewSerializer(serializers.Serializer):
    email = EmailPreviewSerializer()
    statuspage = serializers.DictField()
    x = XPreviewSerializer()
    mastodon = SocialPreviewSerializer(required=False, help_text="Only when Mastodon is configured.")
    bluesky = SocialPreviewSerializer(required=False, help_text="Only when Bluesky is configured.")
    facebook = SocialPreviewSerializer(required=False, help_text="Only when the Facebook page is configured.")
    linkedin = SocialPreviewSerializer(required=False, help_text="Only when the LinkedIn page is configured; "
                                       "length as stored (reserved characters escaped).")
    webhook = serializers.DictField()
    slack = serializers.DictField()
    lint = LintWarningSerializer(many=True)


class DeliverySerializer(ModelSerializer):
    """One delivery. Its `recipient` on the email channel is an email address (a subscriber's, an account contact's
    or a colleague's), shown only to users with `comms.view_subscriber` (communications leads): for everyone
    else it is null and any address in `last_error` is replaced by "[address hidden]". Other channels' recipients
    (`statuspage`, `x`, `reply:<post id>`, `endpoint:<id>`) are shown to every reader. Without a request in the
    context nothing is shown (fail closed)."""

    recipient = serializers.CharField(
        read_only=True, allow_null=True,
        help_text="Email address, endpoint id, or the channel name. Null for an email delivery unless you may "
                  "read subscribers (comms.view_subscriber); count with the `status` filter instead.",
    )
    last_error = serializers.CharField(
        read_only=True, help_text="Why the last attempt failed; email addresses hidden as for `recipient`.",
    )

    class Meta:
        model = Delivery
        fields = [
            "id", "channel", "recipient", "status", "attempts", "next_attempt_at", "sent_at", "external_id",
            "last_error", "created_at",
        ]

    def to_representation(self, delivery):
        data = super().to_representation(delivery)
        request = self.context.get("request")
        if hides_recipient(delivery, getattr(request, "user", None)):
            data["recipient"] = None
            data["last_error"] = without_addresses(data["last_error"])
        return data


class MessageTemplateSerializer(StrictFieldsMixin, ModelSerializer):
    channels = serializers.ListField(child=serializers.ChoiceField(choices=channel_choices()), required=False)

    class Meta:
        model = MessageTemplate
        fields = ["id", "name", "phase", "pre_approved", "channels", *CONTENT, "updated_at"]
        read_only_fields = ["updated_at"]

    def validate(self, attrs):
        errors = {}
        for name in CONTENT:
            unknown = unknown_placeholders(attrs.get(name, ""))
            if unknown:
                errors[name] = [
                    f"Unknown placeholder {{{u}}}; use one of: " + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
                    for u in unknown
                ]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class SubscriberSerializer(StrictFieldsMixin, ModelSerializer):
    components = IdField(many=True, required=False, queryset=Component.objects.all())

    class Meta:
        model = Subscriber
        fields = ["id", "email", "components", "confirmed_at", "created_at"]
        read_only_fields = ["confirmed_at", "created_at"]

    def create(self, validated_data):
        from comms.subscriptions import subscribe

        return subscribe(validated_data["email"], validated_data.get("components", []))
