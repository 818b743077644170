"""The server-rendered pages: who sees what, and what happens when they act."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from incidents import services
from incidents.choices import IncidentStatus
from incidents.models import Incident
from tests.factories import ComponentFactory, IncidentFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/", "/incidents/", "/incidents/new/", "/approvals/", "/mentions/", "/accounts/"])
def test_every_page_sends_an_anonymous_visitor_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(f"/login/?next={url}")


@pytest.mark.parametrize("public", ["/login/", "/healthz"])
def test_the_public_pages_need_no_login(client, public):
    assert client.get(public).status_code == 200


def test_signing_in_as_a_role_leads_to_the_dashboard_with_the_role_shown(client, support):
    response = client.post("/login/", {"username": "support", "password": "correct horse battery staple"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("dashboard")
    assert b"<strong>Support</strong>" in response.content


def test_a_wrong_password_is_explained(client, support):
    response = client.post("/login/", {"username": "support", "password": "nope"})
    assert b"That username and password do not match" in response.content


def test_the_dashboard_groups_open_incidents_by_severity_with_their_age(client, support):
    IncidentFactory(title="Payments down", severity="SEV1")
    IncidentFactory(title="Slow search", severity="SEV3", status=IncidentStatus.MONITORING)
    IncidentFactory(title="Old thing", status=IncidentStatus.CLOSED)
    client.force_login(support)
    page = client.get("/").content.decode()
    assert "2 open incidents" in page
    assert page.index("Payments down") < page.index("Slow search")
    assert "Old thing" not in page.split("Resolved in the last 7 days")[0]


@pytest.mark.parametrize(("role", "sees_button"), [("lead", True), ("support", False), ("manager", False)])
def test_only_communications_leads_see_the_open_incident_button(client, users, role, sees_button):
    client.force_login(users[role])
    assert (b"Open an incident" in client.get("/").content) is sees_button


@pytest.mark.parametrize("role", ["support", "manager", "roleless"])
def test_other_roles_are_refused_the_create_form_and_its_post(client, users, role):
    client.force_login(users[role])
    assert client.get("/incidents/new/").status_code == 403
    response = client.post("/incidents/new/", {"title": "Sneaky", "severity": "SEV1", "kind": "service"})
    assert response.status_code == 403
    assert b"Your role does not allow this" in response.content
    assert not Incident.objects.filter(title="Sneaky").exists()


def test_a_user_without_a_role_cannot_read_incidents(client, roleless):
    client.force_login(roleless)
    assert client.get("/incidents/").status_code == 403


def test_a_lead_opens_an_incident_through_the_form(client, lead):
    component = ComponentFactory(name="Payments")
    client.force_login(lead)
    response = client.post(
        "/incidents/new/",
        {
            "title": "Card payments failing",
            "severity": "SEV1",
            "kind": "service",
            "status": "investigating",
            "components": [component.pk],
            "started_at": "2026-11-23T09:00",
        },
    )
    incident = Incident.objects.get(title="Card payments failing")
    assert response["Location"] == incident.get_absolute_url()
    assert incident.created_by == lead
    assert list(incident.components.all()) == [component]
    detail = client.get(incident.get_absolute_url()).content.decode()
    assert "Incident opened as SEV1, investigating, affecting Payments" in detail


def test_the_form_shows_what_to_fix(client, lead):
    client.force_login(lead)
    response = client.post("/incidents/new/", {"title": "", "severity": "SEV1", "kind": "service"})
    assert response.status_code == 200
    assert b"This field is required." in response.content
    assert not Incident.objects.exists()


def test_editing_records_the_change_on_the_timeline(client, lead):
    incident = IncidentFactory(title="Slow", severity="SEV3")
    client.force_login(lead)
    client.post(
        f"/incidents/{incident.pk}/edit/",
        {"title": "Very slow", "severity": "SEV2", "kind": "service", "started_at": "2026-11-23T09:00"},
    )
    assert list(incident.timeline.values_list("description", flat=True)) == [
        "Severity changed from SEV3 to SEV2",
        "Edited title, start time",
    ]


def test_the_detail_page_offers_only_the_allowed_moves(client, lead):
    incident = IncidentFactory(status=IncidentStatus.RESOLVED)
    client.force_login(lead)
    page = client.get(incident.get_absolute_url()).content.decode()
    assert "Reopen as investigating" in page
    assert "Mark closed" in page
    assert "Mark resolved" not in page


def test_the_incident_page_queries_do_not_grow_with_the_timeline(client, lead):
    incident = services.create_incident(actor=lead, title="x")
    client.force_login(lead)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(incident.get_absolute_url()).status_code == 200
        return len(captured)

    before = queries()
    for n in range(15):
        services.record(incident, "note", f"note {n}", lead)
    assert queries() == before


def test_a_status_change_from_the_page_lands_and_a_refused_one_explains_itself(client, lead):
    incident = IncidentFactory(status=IncidentStatus.INVESTIGATING)
    client.force_login(lead)
    response = client.post(f"/incidents/{incident.pk}/status/", {"status": "closed"}, follow=True)
    assert b"cannot move from investigating to closed" in response.content
    asked = client.post(f"/incidents/{incident.pk}/status/", {"status": "resolved", "note": "fixed"})
    assert "Resolve “" in asked.content.decode() and 'name="confirm" value="1"' in asked.content.decode()
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.INVESTIGATING  # asked, not done
    response = client.post(f"/incidents/{incident.pk}/status/", {"status": "resolved", "note": "fixed", "confirm": "1"},
                           follow=True)
    assert b"Status is now resolved." in response.content
    assert b"Write the resolution message" in response.content
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED


def test_support_cannot_change_a_status_even_by_posting(client, support):
    incident = IncidentFactory(status=IncidentStatus.INVESTIGATING)
    client.force_login(support)
    assert client.post(f"/incidents/{incident.pk}/status/", {"status": "resolved"}).status_code == 403
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.INVESTIGATING


def test_the_incident_list_filters_and_paginates(client, support):
    for n in range(30):
        IncidentFactory(title=f"Open {n}")
    IncidentFactory(title="Done", status=IncidentStatus.RESOLVED)
    client.force_login(support)
    page = client.get("/incidents/?open=false").content.decode()
    assert "Done" in page and "Open 1" not in page
    page = client.get("/incidents/?open=true").content.decode()
    assert "Page 1 of 2" in page


def test_html_in_an_incident_title_is_escaped(client, support):
    incident = IncidentFactory(title="<script>alert(1)</script>")
    client.force_login(support)
    for url in ["/", "/incidents/", incident.get_absolute_url()]:
        content = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in content
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content


@pytest.mark.parametrize("url", ["/accounts/", "/board/"])
def test_the_accounts_area_is_built_and_no_longer_says_coming_soon(client, support, url):
    client.force_login(support)
    response = client.get(url)
    assert response.status_code == 200
    assert b"Coming soon" not in response.content


def test_help_texts_on_the_incident_form_are_tied_to_their_fields_for_screen_readers(client, lead):
    client.force_login(lead)
    form = client.get("/incidents/new/").content.decode()
    assert 'aria-describedby="id_impact_summary_helptext"' in form
    assert 'id="id_impact_summary_helptext"' in form
