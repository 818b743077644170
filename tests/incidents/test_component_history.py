"""Component groups and the status history: every status change is kept, whichever way it was made (the
component page, the API, the admin, an incident), and the uptime API reads it."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from incidents import services
from incidents.choices import ComponentStatus
from incidents.models import ComponentGroup, ComponentStatusChange, StatusChangeCause
from tests.factories import ComponentFactory, IncidentFactory

pytestmark = pytest.mark.django_db


def incident_on(component, **fields):
    incident = IncidentFactory(**fields)
    incident.components.set([component])
    return incident


def history_of(component) -> list[tuple]:
    return list(component.status_changes.values_list("from_status", "to_status", "cause", "incident_id"))


# --- Every change is recorded, once ------------------------------------------------------------------


def test_a_direct_edit_on_the_component_page_is_recorded_with_who_did_it(client, lead):
    component = ComponentFactory(name="Search")
    client.force_login(lead)
    client.post(f"/components/{component.pk}/status/", {"status": "major_outage"})
    change = ComponentStatusChange.objects.get()
    assert (change.from_status, change.to_status, change.cause, change.actor) == (
        "operational", "major_outage", StatusChangeCause.DIRECT_EDIT, lead)


def test_setting_the_same_status_again_records_nothing(lead):
    component = ComponentFactory(status=ComponentStatus.MAJOR_OUTAGE)
    services.set_component_status(component, ComponentStatus.MAJOR_OUTAGE, actor=lead)
    assert not ComponentStatusChange.objects.exists()


def test_an_incident_change_is_recorded_with_the_incident(lead):
    component = ComponentFactory()
    incident = incident_on(component)
    services.set_affected_components_status(incident, ComponentStatus.PARTIAL_OUTAGE, actor=lead)
    assert history_of(component) == [("operational", "partial_outage", "incident", incident.pk)]


def test_an_internal_incident_records_its_change_only_when_it_is_shown(lead):
    component = ComponentFactory()
    incident = incident_on(component, public_since=None)
    services.set_affected_components_status(incident, ComponentStatus.MAJOR_OUTAGE, actor=lead)
    assert history_of(component) == []
    services.show_on_status_page(incident, actor=lead)
    assert history_of(component) == [("operational", "major_outage", "incident", incident.pk)]


def test_a_status_change_through_the_api_is_recorded(api_as, lead):
    component = ComponentFactory()
    response = api_as(lead).patch(f"/api/v1/components/{component.pk}/", {"status": "degraded_performance"},
                                  format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "degraded_performance"
    assert history_of(component) == [("operational", "degraded_performance", "direct_edit", None)]


def test_a_status_change_in_the_admin_list_is_recorded(client, admin_user):
    component = ComponentFactory(name="Search")
    client.force_login(admin_user)
    response = client.post("/admin/incidents/component/", {
        "form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "1", "form-0-id": str(component.pk),
        "form-0-status": "major_outage", "form-0-display_order": "0", "_save": "Save",
    })
    assert response.status_code == 302
    component.refresh_from_db()
    assert component.status == "major_outage"
    assert history_of(component) == [("operational", "major_outage", "direct_edit", None)]


def test_the_history_is_not_editable_in_the_admin(client, admin_user, lead):
    component = ComponentFactory()
    services.set_component_status(component, ComponentStatus.MAJOR_OUTAGE, actor=lead)
    client.force_login(admin_user)
    change = ComponentStatusChange.objects.get()
    assert client.get(f"/admin/incidents/componentstatuschange/{change.pk}/change/").status_code == 200
    response = client.post(f"/admin/incidents/componentstatuschange/{change.pk}/change/", {"to_status": "operational"})
    assert response.status_code == 403
    assert ComponentStatusChange.objects.get().to_status == "major_outage"


# --- Groups -------------------------------------------------------------------------------------------


def test_a_groups_status_is_the_worst_of_its_components():
    group = ComponentGroup.objects.create(name="EU region")
    ComponentFactory(group=group, status=ComponentStatus.UNDER_MAINTENANCE)
    ComponentFactory(group=group, status=ComponentStatus.PARTIAL_OUTAGE)
    ComponentFactory(group=group, status=ComponentStatus.OPERATIONAL)
    assert group.status == ComponentStatus.PARTIAL_OUTAGE
    assert ComponentGroup.objects.create(name="Empty").status == ComponentStatus.OPERATIONAL


def test_a_lead_creates_a_group_and_puts_a_component_in_it_on_the_pages(client, lead):
    component = ComponentFactory(name="Payments")
    client.force_login(lead)
    response = client.post("/components/groups/new/", {"name": "EU region", "description": "", "position": "1"})
    assert response["Location"] == "/components/"
    group = ComponentGroup.objects.get()
    response = client.post(f"/components/{component.pk}/edit/", {
        "name": "Payments", "description": "", "tier": "1", "group": str(group.pk), "display_order": "0"})
    assert response["Location"] == "/components/"
    component.refresh_from_db()
    assert component.group == group
    page = client.get("/components/").content.decode()
    assert "EU region" in page and f'href="/components/groups/{group.pk}/edit/"' in page


@pytest.mark.parametrize("role", ["support", "manager"])
def test_other_roles_cannot_create_or_edit_groups(client, users, role):
    group = ComponentGroup.objects.create(name="EU region")
    client.force_login(users[role])
    assert client.post("/components/groups/new/", {"name": "US", "position": "0"}).status_code == 403
    assert client.post(f"/components/groups/{group.pk}/edit/", {"name": "X", "position": "0"}).status_code == 403
    assert list(ComponentGroup.objects.values_list("name", flat=True)) == ["EU region"]
    assert "/components/groups/new/" not in client.get("/components/").content.decode()


def test_leads_manage_groups_through_the_api_and_others_only_read(api_as, lead, support):
    member = ComponentFactory(status=ComponentStatus.MAJOR_OUTAGE)
    response = api_as(lead).post("/api/v1/component-groups/", {"name": "EU region", "position": 2}, format="json")
    assert response.status_code == 201, response.json()
    group_id = response.json()["id"]
    api_as(lead).patch(f"/api/v1/components/{member.pk}/", {"group": group_id}, format="json")
    body = api_as(support).get(f"/api/v1/component-groups/{group_id}/").json()
    assert (body["name"], body["status"], body["components"]) == ("EU region", "major_outage", [member.pk])
    refused = api_as(support).post("/api/v1/component-groups/", {"name": "US"}, format="json")
    assert (refused.status_code, refused.json()["status"]) == (403, 403)
    assert api_as(support).delete(f"/api/v1/component-groups/{group_id}/").status_code == 403
    assert api_as(lead).delete(f"/api/v1/component-groups/{group_id}/").status_code == 204
    member.refresh_from_db()
    assert member.group is None


def test_the_group_status_cannot_be_written_through_the_api(api_as, lead):
    response = api_as(lead).post("/api/v1/component-groups/", {"name": "EU", "status": "operational"}, format="json")
    assert response.status_code == 400
    assert "status" in response.json()["fields"]


# --- The uptime API -------------------------------------------------------------------------------


def test_the_uptime_api_gives_each_day_its_worst_status_down_minutes_and_public_incidents(api_as, support):
    day = timezone.localdate() - timedelta(days=2)
    ten_oclock = timezone.make_aware(datetime.combine(day, time(10)))
    component = ComponentFactory(created_at=ten_oclock - timedelta(days=10))
    incident = incident_on(component, title="Payments failing", started_at=ten_oclock,
                           resolved_at=ten_oclock + timedelta(hours=1), status="resolved")
    internal = incident_on(component, title="Secret database work", public_since=None, started_at=ten_oclock)
    ComponentStatusChange.objects.create(component=component, from_status="operational", to_status="major_outage",
                                         at=ten_oclock, cause="incident", incident=incident)
    ComponentStatusChange.objects.create(component=component, from_status="major_outage", to_status="operational",
                                         at=ten_oclock + timedelta(minutes=30), cause="incident", incident=incident)
    response = api_as(support).get(f"/api/v1/components/{component.pk}/uptime/?from={day}&to={day}")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["component"], body["from"], body["to"], body["time_zone"]) == (component.pk, str(day), str(day), "UTC")
    assert (body["uptime_percent"], body["down_minutes"], body["known_minutes"]) == ("97.91", "30.0", "1440.0")
    (summary,) = body["days"]
    assert (summary["status"], summary["down_minutes"]) == ("major_outage", "30.0")
    assert summary["minutes_by_status"] == {"major_outage": 30.0, "operational": 1410.0}
    assert summary["incidents"] == [{"id": incident.pk, "title": "Payments failing"}]
    assert "Secret" not in response.content.decode()
    assert internal.pk not in [listed["id"] for listed in summary["incidents"]]


def test_the_uptime_api_defaults_to_the_last_ninety_days(api_as, support):
    component = ComponentFactory()
    body = api_as(support).get(f"/api/v1/components/{component.pk}/uptime/").json()
    assert len(body["days"]) == 90 and body["to"] == str(timezone.localdate())


@pytest.mark.parametrize(("query", "field"), [
    ("from=2026-02-30", "from"),
    ("to=yesterday", "to"),
    ("from=2026-03-10&to=2026-03-01", "from"),
    ("from=2024-01-01&to=2026-01-01", "from"),
    ("from=0001-01-01&to=0001-01-02", "from"),
])
def test_bad_uptime_dates_are_a_400_in_the_error_shape(api_as, support, query, field):
    component = ComponentFactory()
    response = api_as(support).get(f"/api/v1/components/{component.pk}/uptime/?{query}")
    assert response.status_code == 400
    body = response.json()
    assert (body["status"], body["code"]) == (400, "invalid") and field in body["fields"]


def test_the_uptime_api_needs_a_signed_in_user_with_a_role(api_as, roleless):
    component = ComponentFactory()
    assert api_as(None).get(f"/api/v1/components/{component.pk}/uptime/").status_code == 401
    assert api_as(roleless).get(f"/api/v1/components/{component.pk}/uptime/").status_code == 403


def test_a_groups_uptime_is_as_bad_as_its_worst_component(api_as, support):
    group = ComponentGroup.objects.create(name="EU region")
    ComponentFactory(group=group, status=ComponentStatus.MAJOR_OUTAGE,
                            created_at=timezone.now() - timedelta(days=3))
    ComponentFactory(group=group, created_at=timezone.now() - timedelta(days=3))
    yesterday = timezone.localdate() - timedelta(days=1)
    body = api_as(support).get(f"/api/v1/component-groups/{group.pk}/uptime/?from={yesterday}&to={yesterday}").json()
    assert (body["group"], body["uptime_percent"], body["days"][0]["status"]) == (group.pk, "0.00", "major_outage")
