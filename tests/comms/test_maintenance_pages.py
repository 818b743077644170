"""The maintenance pages: leads write, submit, approve and move windows; everyone signed in reads them."""

import pytest
from django.utils import timezone

from incidents.models import Maintenance
from tests.factories import ComponentFactory, UserFactory

pytestmark = pytest.mark.django_db


def form_data(**fields) -> dict:
    start = timezone.localtime() + timezone.timedelta(days=3)
    return {"title": "Database upgrade", "what": "We upgrade the main database.", "why": "", "customer_impact": "",
            "customer_action": "", "internal_notes": "Runbook DB-42",
            "scheduled_for": start.strftime("%Y-%m-%dT%H:%M"),
            "scheduled_until": (start + timezone.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"), **fields}


def test_a_lead_writes_a_window_and_another_lead_approves_it_on_the_pages(client, lead):
    other = UserFactory(username="other-lead", role="Communications lead")
    component = ComponentFactory(name="API")
    client.force_login(lead)
    response = client.post("/maintenance/new/", form_data(components=[component.pk], four_eyes="on"))
    window = Maintenance.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/maintenance/{window.pk}/"
    assert list(window.components.all()) == [component] and window.four_eyes

    client.post(f"/maintenance/{window.pk}/submit/")
    refused = client.post(f"/maintenance/{window.pk}/approve/", follow=True)
    assert "another communications lead must approve it" in refused.content.decode()
    client.force_login(other)
    client.post(f"/maintenance/{window.pk}/approve/")
    window.refresh_from_db()
    assert window.is_public

    page = client.get(f"/maintenance/{window.pk}/").content.decode()
    assert "shown on the status page" in page and "Runbook DB-42" in page
    assert "Database upgrade" in client.get("/maintenance/").content.decode()


def test_a_window_ending_before_it_starts_is_refused_on_the_form(client, lead):
    client.force_login(lead)
    start = timezone.localtime() + timezone.timedelta(days=3)
    response = client.post("/maintenance/new/", form_data(scheduled_until=start.strftime("%Y-%m-%dT%H:%M"),
                                                          scheduled_for=start.strftime("%Y-%m-%dT%H:%M")))
    assert response.status_code == 200
    assert "The window must end after it starts." in response.content.decode()
    assert not Maintenance.objects.exists()


def test_support_reads_the_maintenance_pages_but_cannot_write_or_approve(client, lead, support):
    client.force_login(lead)
    client.post("/maintenance/new/", form_data())
    window = Maintenance.objects.get()
    client.force_login(support)
    assert client.get("/maintenance/").status_code == 200
    page = client.get(f"/maintenance/{window.pk}/").content.decode()
    assert "Submit for approval" not in page and "Cancel the window" not in page
    assert f'href="/maintenance/{window.pk}/edit/"' not in page
    assert client.get("/maintenance/new/").status_code == 403
    assert client.post(f"/maintenance/{window.pk}/approve/").status_code == 403
    assert client.post(f"/maintenance/{window.pk}/edit/", form_data(title="Mine")).status_code == 403


def test_the_navigation_links_to_the_maintenance_list(client, support):
    client.force_login(support)
    assert 'href="/maintenance/"' in client.get("/maintenance/").content.decode()
