"""Alerts from monitoring (Prometheus Alertmanager, Grafana, anything that posts the generic shape) that open or join
internal incidents. The flow is comms.alerts; the endpoint POST /api/v1/alerts/ (docs/api.md, "Alerts")."""

import hashlib
import hmac
import secrets

from django.db import models
from django.db.models import Q
from django.utils import timezone

from comms.models.messages import MessageTemplate
from incidents.choices import Severity
from incidents.models import Component, Incident

TOKEN_KEY_LENGTH = 12  # the token's first characters, stored in the clear to find its source (as knox does)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AlertSource(models.Model):
    """Something that posts alerts: one Alertmanager receiver, one Grafana contact point, one script. It proves who
    it is by its bearer token (stored as a SHA-256 digest; shown once when issued) or by an HMAC-SHA256 signature of
    the request body with its secret."""

    class Kind(models.TextChoices):
        ALERTMANAGER = "alertmanager", "Prometheus Alertmanager"
        GRAFANA = "grafana", "Grafana alerting"
        GENERIC = "generic", "Generic JSON"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, help_text="The payload shape it posts.")
    enabled = models.BooleanField(default=True, help_text="A disabled source's requests are refused (401).")
    token_key = models.CharField(max_length=TOKEN_KEY_LENGTH, unique=True, editable=False)
    token_digest = models.CharField(max_length=64, editable=False)
    hmac_secret = models.CharField(
        max_length=128, blank=True, editable=False,
        help_text="Shared secret for the X-Signature header; empty: signatures are not accepted. Issued by the admin "
        "action and shown once.",
    )
    default_severity = models.CharField(
        max_length=4, choices=Severity.choices, default=Severity.SEV3,
        help_text="An incident opened by an alert whose severity label is missing or not in the severity mapping.",
    )
    acknowledgement_template = models.ForeignKey(
        MessageTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        limit_choices_to={"pre_approved": True, "phase": "initial"},
        help_text="The pre-approved acknowledgement drafted for an incident an alert opens; empty: the default "
        "“Initial acknowledgement” (or any pre-approved initial template).",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_seen_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def issue_token(self) -> str:
        """A new token (the old one stops working once saved). Returned once; only its digest is kept."""
        self.token_key = secrets.token_hex(TOKEN_KEY_LENGTH // 2)
        token = self.token_key + secrets.token_urlsafe(32)
        self.token_digest = token_digest(token)
        return token

    def issue_hmac_secret(self) -> str:
        self.hmac_secret = secrets.token_hex(32)
        return self.hmac_secret

    def token_matches(self, token: str) -> bool:
        return hmac.compare_digest(self.token_digest, token_digest(token))


class AlertComponentMapping(models.Model):
    """An alert whose label `label` has the value `value` is about this component (checked before the labels
    `component` and `service` are matched to component names)."""

    source = models.ForeignKey(AlertSource, on_delete=models.CASCADE, related_name="component_mappings")
    label = models.CharField(max_length=100, default="service")
    value = models.CharField(max_length=200)
    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["source", "label", "value"]
        constraints = [models.UniqueConstraint(fields=["source", "label", "value"],
                                               name="comms_alert_mapping_one_per_label_value")]

    def __str__(self):
        return f"{self.label}={self.value} → {self.component}"


class AlertSeverityMapping(models.Model):
    """The value of an alert's `severity` label (compared without case) and the incident severity it means."""

    value = models.CharField(max_length=50, unique=True, help_text="Lower case, e.g. critical, warning, page.")
    severity = models.CharField(max_length=4, choices=Severity.choices)

    class Meta:
        ordering = ["severity", "value"]

    def __str__(self):
        return f"{self.value} → {self.severity}"

    def save(self, *args, **kwargs):
        self.value = self.value.strip().lower()
        super().save(*args, **kwargs)


class Alert(models.Model):
    """One firing of an alert, from its first notification to its resolution. At most one is open (not resolved)
    per source and fingerprint — a unique constraint, so that a repeated or concurrent notification of the same
    firing alert is a duplicate however the requests interleave."""

    class Outcome(models.TextChoices):
        OPENED = "opened", "Opened an incident"
        JOINED = "joined", "Joined an open incident"
        UNMAPPED = "unmapped", "No component mapped"

    source = models.ForeignKey(AlertSource, on_delete=models.PROTECT, related_name="alerts")
    fingerprint = models.CharField(max_length=200)
    name = models.CharField(max_length=200, help_text="alertname, or the generic shape's summary.")
    summary = models.CharField(max_length=500, blank=True)
    labels = models.JSONField(default=dict, blank=True)
    severity_label = models.CharField(max_length=50, blank=True)
    severity = models.CharField(max_length=4, choices=Severity.choices)
    component = models.ForeignKey(Component, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    url = models.URLField(max_length=1000, blank=True, help_text="Where to see it (generatorURL, panel or dashboard).")
    starts_at = models.DateTimeField(null=True, blank=True, help_text="When it started firing, by its sender.")
    received_at = models.DateTimeField(default=timezone.now, help_text="When it reached us: the alert time.")
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(
            fields=["source", "fingerprint"], condition=Q(resolved_at__isnull=True),
            name="comms_alert_one_open_per_fingerprint",
        )]
        indexes = [models.Index(fields=["incident", "received_at"])]

    def __str__(self):
        return f"{self.name} ({self.fingerprint})"
