from django.contrib.auth import get_user_model
from rest_framework import serializers

from core.api import IdField, ModelSerializer, StrictFieldsMixin, UsernameField
from incidents import services
from incidents.choices import OPEN_STATUSES, IncidentStatus
from incidents.models import Component, Incident, TimelineEntry


class ComponentSerializer(StrictFieldsMixin, ModelSerializer):
    class Meta:
        model = Component
        fields = ["id", "name", "description", "tier", "status", "display_order", "updated_at"]
        read_only_fields = ["updated_at"]


class IncidentSerializer(StrictFieldsMixin, ModelSerializer):
    components = IdField(
        many=True, required=False, queryset=Component.objects.all(), help_text="Ids of affected components."
    )
    commander = UsernameField(
        queryset=get_user_model().objects.filter(is_active=True),
        required=False,
        allow_null=True,
        help_text="Username of the incident commander.",
    )
    status = serializers.ChoiceField(
        choices=IncidentStatus.choices,
        required=False,
        help_text="A new incident starts investigating, identified or monitoring. Later changes follow the "
        "allowed moves; a refused move answers 409 with the reason.",
    )
    note = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=300,
        help_text="Optional reason recorded on the timeline with a status change.",
    )
    public_status = serializers.CharField(read_only=True, help_text="A closed incident reads as resolved.")
    is_open = serializers.BooleanField(read_only=True)
    is_public = serializers.BooleanField(
        read_only=True, help_text="On the public status page. A new incident is internal until its first public "
        "message goes out or a lead shows it (POST …/show-on-status-page/); a security incident only the latter way.")
    allowed_statuses = serializers.SerializerMethodField(help_text="Statuses this incident may move to next.")
    update_overdue = serializers.BooleanField(read_only=True, help_text="The next public update is overdue.")
    time_to_acknowledge_seconds = serializers.SerializerMethodField(
        help_text="From detection (or start) to the first public message; null until then."
    )

    class Meta:
        model = Incident
        fields = [
            "id", "title", "kind", "severity", "status", "public_status", "is_open", "is_public", "public_since",
            "allowed_statuses",
            "components", "impact_summary", "internal_notes", "commander", "note",
            "started_at", "detected_at", "acknowledged_at", "time_to_acknowledge_seconds", "last_public_update_at",
            "next_update_due_at", "update_overdue", "resolved_at", "closed_at", "created_at", "updated_at",
        ]
        read_only_fields = [
            "acknowledged_at", "last_public_update_at", "next_update_due_at", "resolved_at", "closed_at",
            "created_at", "updated_at",
        ]

    def get_allowed_statuses(self, incident) -> list[str]:
        from incidents.choices import INCIDENT_MACHINE

        return INCIDENT_MACHINE.allowed_from(incident.status)

    def get_time_to_acknowledge_seconds(self, incident) -> int | None:
        delta = incident.time_to_acknowledge
        return None if delta is None else int(delta.total_seconds())

    def validate_status(self, value):
        if self.instance is None and value not in OPEN_STATUSES:
            raise serializers.ValidationError(
                "A new incident starts as investigating, identified or monitoring; resolve it afterwards."
            )
        return value

    def validate(self, attrs):
        started = attrs.get("started_at", getattr(self.instance, "started_at", None))
        detected = attrs.get("detected_at", getattr(self.instance, "detected_at", None))
        if started and detected and detected < started:
            raise serializers.ValidationError({"detected_at": "Detection cannot be earlier than the start."})
        return attrs

    def create(self, validated_data):
        validated_data.pop("note", None)
        components = validated_data.pop("components", [])
        return services.create_incident(actor=self._actor(), components=components, **validated_data)

    def update(self, instance, validated_data):
        components = validated_data.pop("components", None)
        return services.update_incident(instance, actor=self._actor(), components=components, **validated_data)

    def _actor(self):
        return self.context["request"].user


class TimelineEntrySerializer(ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True,
                                         help_text="Who did it; null for the system.")

    class Meta:
        model = TimelineEntry
        fields = ["id", "at", "actor", "kind", "description", "data"]
