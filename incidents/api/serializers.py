from datetime import date

from django.contrib.auth import get_user_model
from rest_framework import serializers

from core.api import IdField, ModelSerializer, StrictFieldsMixin, UsernameField
from incidents import services
from incidents.choices import OPEN_STATUSES, IncidentStatus
from incidents.models import Component, ComponentGroup, Incident, TimelineEntry


class ComponentSerializer(StrictFieldsMixin, ModelSerializer):
    group = IdField(queryset=ComponentGroup.objects.all(), required=False, allow_null=True,
                    help_text="Id of the component group it shows in; null for none.")

    class Meta:
        model = Component
        fields = ["id", "name", "description", "tier", "status", "group", "display_order", "updated_at"]
        read_only_fields = ["updated_at"]

    def update(self, instance, validated_data):
        """A status change goes through incidents.services, so it is kept in the status history."""
        status = validated_data.pop("status", instance.status)
        instance = super().update(instance, validated_data)
        if status != instance.status:
            instance = services.set_component_status(instance, status, actor=self.context["request"].user)
        return instance


class ComponentGroupSerializer(StrictFieldsMixin, ModelSerializer):
    status = serializers.SerializerMethodField(help_text="The worst status of its components.")
    components = serializers.SerializerMethodField(help_text="Ids of its components, in display order.")

    class Meta:
        model = ComponentGroup
        fields = ["id", "name", "description", "position", "status", "components", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def get_status(self, group) -> str:
        return group.status_of(group.components.all())

    def get_components(self, group) -> list[int]:
        return [component.pk for component in group.components.all()]


class UptimeQuerySerializer(serializers.Serializer):
    """The days asked for: ISO dates, inclusive, at most a year; by default the last 90 days."""

    MAX_DAYS = 366
    EARLIEST = date(2000, 1, 1)
    LATEST = date(2999, 12, 31)

    from_ = serializers.DateField(required=False, help_text="First day (YYYY-MM-DD); default 89 days before `to`.")
    to = serializers.DateField(required=False, help_text="Last day (YYYY-MM-DD); default today.")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields

    def validate(self, attrs):
        from datetime import timedelta

        from django.utils import timezone

        last = attrs.get("to") or timezone.localdate()
        first = attrs.get("from") or last - timedelta(days=89)
        for name, day in (("from", first), ("to", last)):
            if not self.EARLIEST <= day <= self.LATEST:
                raise serializers.ValidationError(
                    {name: f"Give a day between {self.EARLIEST.isoformat()} and {self.LATEST.isoformat()}."})
        if first > last:
            raise serializers.ValidationError({"from": "The first day must not be after the last (`to`)."})
        if (last - first).days >= self.MAX_DAYS:
            raise serializers.ValidationError({"from": f"Ask for at most {self.MAX_DAYS} days at a time."})
        return {"from": first, "to": last}


class UptimeDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    status = serializers.CharField(allow_null=True, help_text="The worst status of the day; null: no data.")
    uptime_percent = serializers.CharField(allow_null=True)
    down_minutes = serializers.CharField(help_text="Weighted: major outage 1, partial outage 0.3, others 0.")
    minutes_by_status = serializers.DictField(child=serializers.FloatField())
    incidents = serializers.ListField(child=serializers.DictField(), help_text="Public incidents that day: id, title.")


class UptimeSerializer(serializers.Serializer):
    component = serializers.IntegerField(required=False)
    group = serializers.IntegerField(required=False)
    from_ = serializers.DateField()
    to = serializers.DateField()
    time_zone = serializers.CharField(help_text="Days run midnight to midnight in this zone (yours).")
    uptime_percent = serializers.CharField(allow_null=True, help_text="Over the minutes with data, two decimals.")
    down_minutes = serializers.CharField()
    known_minutes = serializers.CharField(help_text="Minutes with data (after the component was created).")
    days = UptimeDaySerializer(many=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


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
