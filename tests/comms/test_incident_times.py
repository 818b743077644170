"""The incident form refuses a start or a detection time in the future (a typo of a year), and forgives a clock
a few minutes ahead."""

import pytest
from django.utils import timezone

from incidents.models import Incident
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def local(delta: timezone.timedelta) -> str:
    return timezone.localtime(timezone.now() + delta).strftime("%Y-%m-%dT%H:%M")


def opened(client, **times):
    return client.post("/incidents/new/", {
        "title": "Card payments failing", "severity": "SEV1", "kind": "service", "status": "investigating", **times,
    })


def test_the_incident_form_refuses_a_start_years_ahead(client, lead):
    client.force_login(lead)
    response = opened(client, started_at="2090-01-01T09:00")  # a typo of a year
    assert response.status_code == 200
    assert "The start cannot be in the future: it is now" in response.content.decode()
    assert not Incident.objects.exists()


def test_the_incident_form_refuses_a_detection_an_hour_ahead(client, lead):
    client.force_login(lead)
    response = opened(client, started_at=local(-timezone.timedelta(hours=1)),
                      detected_at=local(timezone.timedelta(hours=1)))
    assert response.status_code == 200
    assert response.context["form"].errors["detected_at"][0].startswith("The detection time cannot be in the future")
    assert not Incident.objects.exists()


def test_the_incident_form_accepts_a_start_now_and_a_clock_a_minute_ahead(client, lead):
    client.force_login(lead)
    response = opened(client, started_at=local(timezone.timedelta(minutes=1)),
                      detected_at=local(timezone.timedelta(minutes=2)))
    assert response.status_code == 302
    assert Incident.objects.get().title == "Card payments failing"


def test_editing_an_incident_refuses_moving_its_start_into_the_future(client, lead):
    incident = IncidentFactory(title="Slow", severity="SEV3")
    client.force_login(lead)
    response = client.post(f"/incidents/{incident.pk}/edit/", {
        "title": "Slow", "severity": "SEV3", "kind": "service", "started_at": local(timezone.timedelta(days=2)),
    })
    assert response.status_code == 200
    assert "The start cannot be in the future" in response.content.decode()
    incident.refresh_from_db()
    assert incident.started_at <= timezone.now()
