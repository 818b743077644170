"""The three payload shapes POST /api/v1/alerts/ reads (docs/api.md, "Alerts"), each turned into IncomingAlerts.

Senders add fields over time (Grafana's payload grows with its versions), so unknown fields are ignored here,
unlike the rest of the API; what is read is checked, and a payload that does not fit its source's shape is a 400."""

from datetime import UTC

from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from comms.alerts.mapping import AlertStatus, IncomingAlert
from comms.models import AlertSource

MAX_ALERTS = 500  # per payload; Alertmanager's max_alerts and Grafana's Max Alerts can cap what they send
LABEL_LIMIT = 1000  # characters in a label or annotation value


@extend_schema_field(OpenApiTypes.DATETIME)
class InstantField(serializers.Field):
    """An RFC 3339 date and time, as a UTC instant. Alertmanager and Grafana send a firing alert's endsAt as
    0001-01-01T00:00:00Z, which is read; an instant that cannot be one in UTC is a 400, not an overflow."""

    default_error_messages = {"invalid": "Give a date and time as RFC 3339, e.g. 2026-01-31T09:30:00Z."}

    def to_internal_value(self, data):
        if not isinstance(data, str) or len(data) > 64:
            self.fail("invalid")
        try:
            value = parse_datetime(data.strip())
        except ValueError:
            value = None
        if value is None or value.tzinfo is None:
            self.fail("invalid")
        try:
            return value.astimezone(UTC)
        except OverflowError:
            self.fail("invalid")

    def to_representation(self, value):
        return value.isoformat()


class LabelsField(serializers.DictField):
    child = serializers.CharField(allow_blank=True, max_length=LABEL_LIMIT, trim_whitespace=False)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            if len(data) > 100:
                raise serializers.ValidationError("At most 100 labels or annotations.")
            if any(len(key) > 200 or "\x00" in key for key in data):
                raise serializers.ValidationError("A label name is longer than 200 characters or holds a NUL.")
        return super().to_internal_value(data)


def _web_url(*candidates) -> str:
    """The first link that is an http(s) URL: it is shown as a link on the incident page."""
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.startswith(("https://", "http://")) and len(candidate) <= 1000:
            return candidate
    return ""


# --- Prometheus Alertmanager (webhook_config, payload version 4) -------------------------------------------------

class AlertmanagerAlertSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=AlertStatus.choices)
    labels = LabelsField()
    annotations = LabelsField(required=False, default=dict)
    startsAt = InstantField(required=False)  # noqa: N815 — the sender's names
    endsAt = InstantField(required=False)  # noqa: N815
    generatorURL = serializers.CharField(required=False, allow_blank=True, max_length=2000)  # noqa: N815
    fingerprint = serializers.CharField(max_length=200)


class AlertmanagerPayloadSerializer(serializers.Serializer):
    """Alertmanager's webhook body (version 4). Outer fields other than `alerts` are read for nothing but
    checked when present."""

    version = serializers.CharField(required=False, max_length=10)
    groupKey = serializers.CharField(required=False, allow_blank=True, max_length=5000)  # noqa: N815
    status = serializers.ChoiceField(choices=AlertStatus.choices, required=False)
    receiver = serializers.CharField(required=False, allow_blank=True, max_length=500)
    alerts = AlertmanagerAlertSerializer(many=True, max_length=MAX_ALERTS)

    def incoming(self) -> list[IncomingAlert]:
        return [_from_prometheus_style(alert) for alert in self.validated_data["alerts"]]


# --- Grafana alerting (contact point "webhook") --------------------------------------------------------------------

class GrafanaAlertSerializer(AlertmanagerAlertSerializer):
    silenceURL = serializers.CharField(required=False, allow_blank=True, max_length=2000)  # noqa: N815
    dashboardURL = serializers.CharField(required=False, allow_blank=True, max_length=2000)  # noqa: N815
    panelURL = serializers.CharField(required=False, allow_blank=True, max_length=2000)  # noqa: N815
    values = serializers.DictField(required=False, allow_null=True)


class GrafanaPayloadSerializer(AlertmanagerPayloadSerializer):
    """Grafana's webhook body: Alertmanager's shape plus orgId, title, state, message and per-alert links."""

    orgId = serializers.IntegerField(required=False)  # noqa: N815
    title = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    state = serializers.CharField(required=False, allow_blank=True, max_length=50)
    message = serializers.CharField(required=False, allow_blank=True, max_length=100_000)
    alerts = GrafanaAlertSerializer(many=True, max_length=MAX_ALERTS)


def _from_prometheus_style(alert: dict) -> IncomingAlert:
    labels, annotations = alert["labels"], alert.get("annotations") or {}
    name = labels.get("alertname") or "Alert"
    return IncomingAlert(
        fingerprint=alert["fingerprint"], firing=alert["status"] == "firing", name=name,
        summary=annotations.get("summary") or annotations.get("title") or "",
        description=annotations.get("description") or "",
        labels=labels, severity_label=labels.get("severity", ""), starts_at=alert.get("startsAt"),
        url=_web_url(alert.get("panelURL"), alert.get("dashboardURL"), alert.get("generatorURL")),
    )


# --- The generic shape ---------------------------------------------------------------------------------------------

@extend_schema_field({"oneOf": [{"type": "integer", "minimum": 1},
                                {"type": "string", "minLength": 1, "maxLength": 100}]})
class ComponentReferenceField(serializers.Field):
    """A component by id (a whole number) or by name."""

    default_error_messages = {"invalid": "Name the component by its id (a whole number) or its name."}

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, int) and 0 < data < 2**63:
            return data
        if isinstance(data, str) and data.strip() and len(data) <= 100 and "\x00" not in data:
            return data
        self.fail("invalid")

    def to_representation(self, value):
        return value


class GenericAlertSerializer(serializers.Serializer):
    source_id = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1,
                                         help_text="The alert source's id (optional; see X-Alert-Source).")
    fingerprint = serializers.CharField(max_length=200, help_text="The same for every notification of one alert.")
    status = serializers.ChoiceField(choices=AlertStatus.choices)
    component = ComponentReferenceField(help_text="The component's id or name.")
    severity = serializers.CharField(required=False, allow_blank=True, max_length=50,
                                     help_text="SEV1…SEV4, or a value of the severity mapping (critical, warning…).")
    summary = serializers.CharField(max_length=500)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    started_at = InstantField(required=False)
    labels = LabelsField(required=False, default=dict)
    url = serializers.CharField(required=False, allow_blank=True, max_length=1000)

    def to_incoming(self, alert: dict) -> IncomingAlert:
        return IncomingAlert(
            fingerprint=alert["fingerprint"], firing=alert["status"] == "firing", name=alert["summary"][:200],
            summary=alert["summary"], description=alert.get("description", ""), labels=alert.get("labels") or {},
            severity_label=alert.get("severity", ""), component=alert["component"],
            starts_at=alert.get("started_at"), url=_web_url(alert.get("url")),
        )


class GenericBatchSerializer(serializers.Serializer):
    alerts = GenericAlertSerializer(many=True, max_length=MAX_ALERTS)


def read_payload(source: AlertSource, data) -> list[IncomingAlert]:
    """The payload's alerts for this source's kind; raises ValidationError (400) when it does not fit."""
    if not isinstance(data, dict):
        raise serializers.ValidationError({"non_field_errors": ["The body must be a JSON object."]})
    if source.kind == AlertSource.Kind.GENERIC:
        if "alerts" in data:
            batch = GenericBatchSerializer(data=data)
            batch.is_valid(raise_exception=True)
            alerts = batch.validated_data["alerts"]
        else:
            single = GenericAlertSerializer(data=data)
            single.is_valid(raise_exception=True)
            alerts = [single.validated_data]
        for alert in alerts:
            if alert.get("source_id") not in (None, source.pk):
                raise serializers.ValidationError({"source_id": ["This is not the source the request authenticated "
                                                                 "as."]})
        return [GenericAlertSerializer().to_incoming(alert) for alert in alerts]
    serializer_class = GrafanaPayloadSerializer if source.kind == AlertSource.Kind.GRAFANA else \
        AlertmanagerPayloadSerializer
    payload = serializer_class(data=data)
    payload.is_valid(raise_exception=True)
    return payload.incoming()


class AlertResultSerializer(serializers.Serializer):
    fingerprint = serializers.CharField()
    result = serializers.CharField(help_text="opened incident N, joined incident N, duplicate, resolved, no component "
                                             "mapped, or no open alert.")
    incident = serializers.IntegerField(allow_null=True, help_text="The incident the alert opened, joined or "
                                                                   "resolved on, if any.")


class AlertResultsSerializer(serializers.Serializer):
    results = AlertResultSerializer(many=True)
