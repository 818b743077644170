"""Time from alert to first public acknowledgement: recorded per incident and shown on its page, and the 30/90-day
medians on the dashboard (comms.alerts.metrics); the incident page lists its alerts and suggests monitoring."""

from datetime import timedelta

import pytest
from django.utils import timezone

from comms import delivery, messaging
from comms.alerts import intake, metrics
from comms.alerts.mapping import IncomingAlert
from comms.models import Alert, AlertSource, Message
from incidents.models import Incident
from tests.factories import ComponentFactory, IncidentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def source():
    alert_source = AlertSource(name="prometheus", kind="alertmanager")
    alert_source.issue_token()
    alert_source.save()
    return alert_source


def firing(fingerprint="f1", component="Payments") -> IncomingAlert:
    return IncomingAlert(fingerprint=fingerprint, firing=True, name="HighErrorRate", summary="Checkout errors",
                         labels={"service": component, "severity": "critical"}, severity_label="critical")


def test_publishing_the_drafted_acknowledgement_records_the_time_from_the_alert(source, support):
    ComponentFactory(name="Payments")
    alerted = timezone.now() - timedelta(minutes=7)
    intake.receive(source, [firing()], now=alerted)
    incident = Incident.objects.get()
    draft = Message.objects.get()
    messaging.publish(draft, actor=support)  # support's one click on the unchanged pre-approved draft
    delivery.dispatch_due_messages()
    incident.refresh_from_db()
    times = metrics.for_incident(incident)
    assert times.first_alert_at == alerted and times.acknowledged_at == incident.acknowledged_at
    assert timedelta(minutes=7) <= times.elapsed < timedelta(minutes=8)
    assert incident.is_public  # published by a person, not by the alert


def _alerted_incident(source, first_alert_ago: timedelta, acknowledged_after: timedelta | None, now):
    incident = IncidentFactory()
    received = now - first_alert_ago
    Alert.objects.create(source=source, fingerprint=f"f{incident.pk}", name="x", severity="SEV2",
                         outcome=Alert.Outcome.OPENED, incident=incident, received_at=received)
    if acknowledged_after is not None:
        Incident.objects.filter(pk=incident.pk).update(acknowledged_at=received + acknowledged_after)
    return incident


def test_the_medians_count_incidents_alerts_opened_by_their_first_alert_in_each_period(source):
    now = timezone.now()
    minutes = timedelta(minutes=1)
    _alerted_incident(source, timedelta(days=1), 4 * minutes, now)
    _alerted_incident(source, timedelta(days=10), 10 * minutes, now)
    _alerted_incident(source, timedelta(days=20), 20 * minutes, now)
    _alerted_incident(source, timedelta(days=2), None, now)  # not acknowledged yet: counted as opened only
    _alerted_incident(source, timedelta(days=60), 60 * minutes, now)  # 90 days only
    _alerted_incident(source, timedelta(days=100), 1 * minutes, now)  # in neither
    joined = _alerted_incident(source, timedelta(days=3), 2 * minutes, now)
    Alert.objects.filter(incident=joined).update(outcome=Alert.Outcome.JOINED)  # opened by hand: not counted
    thirty, ninety = metrics.median_times(now=now)
    assert (thirty.days, thirty.median, thirty.acknowledged, thirty.opened) == (30, 10 * minutes, 3, 4)
    assert (ninety.days, ninety.median, ninety.acknowledged, ninety.opened) == (90, 15 * minutes, 4, 5)


def test_the_dashboard_shows_the_medians_once_alert_sources_exist(client, lead, source):
    _alerted_incident(source, timedelta(days=1), timedelta(minutes=12), timezone.now())
    client.force_login(lead)
    page = client.get("/").content.decode()
    assert "Alert to first public acknowledgement" in page
    assert "Median, last 30 days" in page and "12m" in page and "over 1 of 1 incident opened by alerts" in page


def test_the_dashboard_says_nothing_of_alerts_without_alert_sources(client, lead):
    client.force_login(lead)
    assert "Alert to first public acknowledgement" not in client.get("/").content.decode()


def test_the_incident_page_lists_its_alerts_and_the_time_to_acknowledge(client, lead, source):
    incident = _alerted_incident(source, timedelta(hours=1), timedelta(minutes=9), timezone.now())
    Alert.objects.filter(incident=incident).update(name="HighErrorRate", url="https://prometheus.example/graph")
    client.force_login(lead)
    page = client.get(incident.get_absolute_url()).content.decode()
    assert 'id="alerts-title"' in page and "HighErrorRate" in page and "prometheus" in page
    assert "Alert to acknowledgement</dt>\n    <dd>9m" in page
    assert 'href="https://prometheus.example/graph" rel="noopener noreferrer"' in page
    assert "Consider moving it to monitoring" not in page  # its alert is still firing


def test_the_incident_page_suggests_monitoring_once_every_alert_resolved(client, lead, source):
    ComponentFactory(name="Payments")
    intake.receive(source, [firing()])
    resolved = IncomingAlert(fingerprint="f1", firing=False, name="HighErrorRate")
    intake.receive(source, [resolved])
    incident = Incident.objects.get()
    client.force_login(lead)
    page = client.get(incident.get_absolute_url()).content.decode()
    assert "Consider moving it to monitoring" in page
    assert incident.status == "investigating"


def test_an_incident_without_alerts_has_no_alerts_section(client, lead):
    incident = IncidentFactory()
    client.force_login(lead)
    assert 'id="alerts-title"' not in client.get(incident.get_absolute_url()).content.decode()
