from rest_framework import serializers

from core.api import IdField, ModelSerializer, StrictFieldsMixin
from incidents import maintenance as windows
from incidents.models import Component, Maintenance, MaintenanceEvent


class MaintenanceEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = MaintenanceEvent
        fields = ["at", "actor", "kind", "description"]


class MaintenanceSerializer(StrictFieldsMixin, ModelSerializer):
    components = IdField(queryset=Component.objects.all(), many=True, required=False,
                         help_text="Ids of the components it affects: they are under maintenance while it lasts.")
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)
    approver = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    is_public = serializers.BooleanField(
        read_only=True, help_text="Shown on the status page, its feeds and calendar: a lead approved it as it stands.")
    timeline = MaintenanceEventSerializer(many=True, read_only=True)

    class Meta:
        model = Maintenance
        fields = [
            "id", "title", "what", "why", "customer_impact", "customer_action", "internal_notes", "components",
            "scheduled_for", "scheduled_until", "needs_verification", "four_eyes", "state", "approval", "is_public",
            "author", "approver", "rejection_reason", "submitted_at", "approved_at", "published_at",
            "schedule_version", "started_at", "verifying_at", "completed_at", "cancelled_at", "created_at",
            "updated_at", "timeline",
        ]
        read_only_fields = [
            "state", "approval", "rejection_reason", "submitted_at", "approved_at", "published_at", "schedule_version",
            "started_at", "verifying_at", "completed_at", "cancelled_at", "created_at", "updated_at",
        ]

    def create(self, validated_data):
        return windows.create_maintenance(author=self.context["request"].user, **validated_data)

    def update(self, instance, validated_data):
        from comms.maintenance.approval import check_may_change

        check_may_change(instance, self.context["request"].user)
        return windows.update_maintenance(instance, actor=self.context["request"].user, **validated_data)


class MaintenanceUpdateSerializer(MaintenanceSerializer):
    """A change to a window (documentation of PUT and PATCH). A new time after approval is a reschedule."""


class RescheduleSerializer(StrictFieldsMixin, serializers.Serializer):
    scheduled_for = serializers.DateTimeField()
    scheduled_until = serializers.DateTimeField()


class CancelSerializer(StrictFieldsMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="",
                                   help_text="Kept on the window's timeline (not sent to subscribers).")


class MaintenanceReasonSerializer(StrictFieldsMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text="Why, so the author knows what to change.")
