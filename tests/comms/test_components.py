"""The component pages (/components/) and the incident form's "Set the affected components to": leads set what the
status page shows; an internal incident changes nothing public until it is shown on the status page."""

import pytest
from django.utils import timezone

from core.statemachine import TransitionNotAllowed
from incidents import services
from incidents.choices import ComponentStatus, IncidentStatus, TimelineKind
from incidents.models import Component, Incident, TimelineEntry
from incidents.signals import public_change
from tests.comms.helpers import open_public_incident
from tests.factories import ComponentFactory

pytestmark = pytest.mark.django_db

NEW = {"name": "Payments", "description": "Card and wallet payments.", "tier": "0", "display_order": "1"}


def public_statuses(client) -> dict[str, str]:
    """What /api/v2/components.json tells the public: name → status."""
    return {item["name"]: item["status"] for item in client.get("/api/v2/components.json").json()["components"]}


def incident_form(component, **fields) -> dict:
    return {
        "title": "Card payments failing", "severity": "SEV1", "kind": "service", "status": "investigating",
        "components": [component.pk], "started_at": "2026-11-23T09:00", **fields,
    }


# --- The component pages -----------------------------------------------------------------------------------

def test_a_lead_lists_creates_and_edits_a_component_and_sets_its_status_for_the_status_page(client, lead):
    client.force_login(lead)
    assert client.post("/components/new/", NEW)["Location"] == "/components/"
    component = Component.objects.get(name="Payments")
    assert (component.tier, component.display_order, component.status) == (0, 1, ComponentStatus.OPERATIONAL)
    assert public_statuses(client) == {"Payments": "operational"}  # now cached under the current version

    response = client.post(f"/components/{component.pk}/edit/", {**NEW, "name": "Card payments"})
    assert response["Location"] == "/components/"
    response = client.post(f"/components/{component.pk}/status/", {"status": "major_outage"})
    assert response["Location"] == "/components/"

    assert public_statuses(client) == {"Card payments": "major_outage"}
    page = client.get("/components/").content.decode()
    assert "Card payments" in page and "Major outage" in page and "Card and wallet payments." in page
    assert f'action="/components/{component.pk}/status/"' in page
    assert 'for="component-status-' in page  # the inline status select has a label


def test_the_list_orders_components_as_the_status_page_does(client, support):
    ComponentFactory(name="Search", display_order=2)
    ComponentFactory(name="Login", display_order=1)
    client.force_login(support)
    page = client.get("/components/").content.decode()
    assert page.index("Login") < page.index("Search")


def test_an_invalid_status_changes_nothing_and_says_so(client, lead):
    component = ComponentFactory(name="Search")
    client.force_login(lead)
    response = client.post(f"/components/{component.pk}/status/", {"status": "on_fire"}, follow=True)
    assert "Choose a status for Search." in response.content.decode()
    component.refresh_from_db()
    assert component.status == ComponentStatus.OPERATIONAL


def test_a_duplicate_name_is_refused_on_the_form(client, lead):
    ComponentFactory(name="Payments")
    client.force_login(lead)
    response = client.post("/components/new/", NEW)
    assert response.status_code == 200
    assert "Component with this Name already exists." in response.content.decode()
    assert Component.objects.filter(name="Payments").count() == 1


@pytest.mark.parametrize("role", ["support", "manager"])
def test_other_roles_read_components_but_every_post_is_refused_and_no_form_is_shown(client, users, role):
    component = ComponentFactory(name="Search", description="Finding things.")
    client.force_login(users[role])
    page = client.get("/components/")
    content = page.content.decode()
    assert page.status_code == 200 and "Search" in content and "Finding things." in content
    assert "/components/new/" not in content
    assert f"/components/{component.pk}/" not in content  # neither the edit link nor the status form
    assert '<select name="status"' not in content and 'name="status"' not in content
    assert client.get("/components/new/").status_code == 403
    assert client.get(f"/components/{component.pk}/edit/").status_code == 403
    assert client.post("/components/new/", NEW).status_code == 403
    assert client.post(f"/components/{component.pk}/edit/", {**NEW, "name": "Search"}).status_code == 403
    assert client.post(f"/components/{component.pk}/status/", {"status": "major_outage"}).status_code == 403
    component.refresh_from_db()
    assert (component.name, component.status) == ("Search", ComponentStatus.OPERATIONAL)
    assert not Component.objects.filter(name="Payments").exists()


def test_a_user_without_a_role_cannot_read_components(client, roleless):
    client.force_login(roleless)
    assert client.get("/components/").status_code == 403


def test_a_status_change_goes_through_the_service_and_tells_the_status_page(client, lead):
    component = ComponentFactory(name="Search")
    senders = []

    def receiver(sender, **kwargs):
        senders.append(sender)

    public_change.connect(receiver)
    try:
        client.force_login(lead)
        client.post(f"/components/{component.pk}/status/", {"status": "degraded_performance"})
    finally:
        public_change.disconnect(receiver)
    assert senders == [Component]


# --- The incident form: "Set the affected components to" ----------------------------------------------------

def test_the_incident_form_explains_that_an_internal_incident_waits(client, lead):
    client.force_login(lead)
    page = client.get("/incidents/new/").content.decode()
    assert "Set the affected components to" in page
    assert "On an internal incident nothing changes publicly until the incident is shown on the status page" in page


def test_on_an_internal_incident_the_status_waits_until_it_is_shown_on_the_status_page(client, lead):
    payments = ComponentFactory(name="Payments")
    client.force_login(lead)
    client.post("/incidents/new/", incident_form(payments, component_status="major_outage"))
    incident = Incident.objects.get(title="Card payments failing")
    assert not incident.is_public
    assert incident.pending_component_status == ComponentStatus.MAJOR_OUTAGE
    assert public_statuses(client) == {"Payments": "operational"}
    assert "Waiting to apply: major outage." in client.get(f"/incidents/{incident.pk}/edit/").content.decode()

    client.post(f"/incidents/{incident.pk}/show-on-status-page/")

    assert public_statuses(client) == {"Payments": "major_outage"}
    incident.refresh_from_db()
    assert incident.pending_component_status == ""
    entry = incident.timeline.get(kind=TimelineKind.COMPONENTS)
    assert (entry.description, entry.actor) == ("Payments changed from operational to major outage", lead)


def test_the_first_public_message_applies_the_waiting_status_too(lead):
    payments = ComponentFactory(name="Payments")
    incident = services.create_incident(actor=lead, title="Checkout down", components=[payments])
    services.set_affected_components_status(incident, ComponentStatus.PARTIAL_OUTAGE, actor=lead)
    payments.refresh_from_db()
    assert payments.status == ComponentStatus.OPERATIONAL

    services.mark_public(incident, reason="with “Checkout is failing”")  # as dispatch does, with no actor

    payments.refresh_from_db()
    assert payments.status == ComponentStatus.PARTIAL_OUTAGE


def test_editing_an_internal_incident_can_withdraw_the_waiting_status(client, lead):
    payments = ComponentFactory(name="Payments")
    client.force_login(lead)
    client.post("/incidents/new/", incident_form(payments, component_status="major_outage"))
    incident = Incident.objects.get(title="Card payments failing")
    client.post(f"/incidents/{incident.pk}/edit/", incident_form(payments, component_status=""))
    incident.refresh_from_db()
    assert incident.pending_component_status == ""

    services.show_on_status_page(incident, actor=lead)

    assert public_statuses(client) == {"Payments": "operational"}


def test_an_incident_resolved_while_internal_shows_no_outage_when_made_public(client, lead):
    payments = ComponentFactory(name="Payments")
    incident = services.create_incident(actor=lead, title="Checkout down", components=[payments])
    services.set_affected_components_status(incident, ComponentStatus.MAJOR_OUTAGE, actor=lead)
    services.change_status(incident, IncidentStatus.RESOLVED, actor=lead)

    services.show_on_status_page(incident, actor=lead)

    assert public_statuses(client) == {"Payments": "operational"}
    incident.refresh_from_db()
    assert incident.pending_component_status == ""


def test_on_a_public_incident_the_status_applies_at_once_and_is_on_its_timeline(client, lead):
    payments = ComponentFactory(name="Payments")
    search = ComponentFactory(name="Search")
    incident = open_public_incident(lead, title="Card payments failing", components=[payments])
    client.force_login(lead)

    client.post(f"/incidents/{incident.pk}/edit/", incident_form(payments, component_status="partial_outage"))

    assert public_statuses(client) == {"Payments": "partial_outage", "Search": "operational"}
    incident.refresh_from_db()
    assert incident.pending_component_status == ""
    entry = incident.timeline.get(kind=TimelineKind.COMPONENTS)
    assert entry.description == "Payments changed from operational to partial outage"
    assert entry.actor == lead
    assert entry.data == {"component": payments.pk, "old": "operational", "new": "partial_outage"}
    search.refresh_from_db()
    assert search.status == ComponentStatus.OPERATIONAL


def test_leaving_the_choice_blank_leaves_the_components_as_they_are(client, lead):
    payments = ComponentFactory(name="Payments", status=ComponentStatus.MAJOR_OUTAGE)
    incident = open_public_incident(lead, title="Card payments failing", components=[payments])
    client.force_login(lead)
    client.post(f"/incidents/{incident.pk}/edit/", incident_form(payments, title="Cards failing"))
    payments.refresh_from_db()
    assert payments.status == ComponentStatus.MAJOR_OUTAGE
    assert not incident.timeline.filter(kind=TimelineKind.COMPONENTS).exists()


def test_the_service_refuses_to_change_a_component_for_an_internal_incident(lead):
    payments = ComponentFactory(name="Payments")
    incident = services.create_incident(actor=lead, title="Checkout down", components=[payments])
    with pytest.raises(TransitionNotAllowed):
        services.set_component_status(payments, ComponentStatus.MAJOR_OUTAGE, actor=lead, incident=incident)
    payments.refresh_from_db()
    assert payments.status == ComponentStatus.OPERATIONAL


def test_a_change_without_an_incident_updates_the_component_and_no_timeline(lead):
    open_public_incident(lead, title="Unrelated")
    payments = ComponentFactory(name="Payments", updated_at=timezone.now() - timezone.timedelta(days=1))
    Component.objects.filter(pk=payments.pk).update(updated_at=timezone.now() - timezone.timedelta(days=1))
    entries = TimelineEntry.objects.count()

    services.set_component_status(payments, ComponentStatus.UNDER_MAINTENANCE, actor=lead)

    payments.refresh_from_db()
    assert payments.status == ComponentStatus.UNDER_MAINTENANCE
    assert payments.updated_at > timezone.now() - timezone.timedelta(minutes=1)  # the status page's "updated"
    assert TimelineEntry.objects.count() == entries
