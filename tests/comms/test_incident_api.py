"""Who may do what on the incident and component endpoints, and what they get back."""

import pytest
from django.utils import timezone
from knox.models import AuthToken

from incidents.choices import IncidentStatus, Severity
from incidents.models import Incident
from tests.factories import ComponentFactory, IncidentFactory

pytestmark = pytest.mark.django_db

ROLES = ["lead", "manager", "support", "admin", "roleless", None]
WRITERS = {"lead", "admin"}
READERS = {"lead", "manager", "support", "admin"}


def expected_status(role, allowed_roles, success):
    if role is None:
        return 401
    return success if role in allowed_roles else 403


def endpoints(incident, component):
    """Every incident and component operation: (method, url, body, who may, success status)."""
    new_incident = {"title": "Login failures", "severity": "SEV2"}
    return [
        ("get", "/api/v1/incidents/", None, READERS, 200),
        ("get", f"/api/v1/incidents/{incident.pk}/", None, READERS, 200),
        ("get", f"/api/v1/incidents/{incident.pk}/timeline/", None, READERS, 200),
        ("post", "/api/v1/incidents/", new_incident, WRITERS, 201),
        ("patch", f"/api/v1/incidents/{incident.pk}/", {"severity": "SEV1"}, WRITERS, 200),
        ("put", f"/api/v1/incidents/{incident.pk}/", new_incident, WRITERS, 200),
        ("get", "/api/v1/components/", None, READERS, 200),
        ("get", f"/api/v1/components/{component.pk}/", None, READERS, 200),
        ("post", "/api/v1/components/", {"name": "Search", "tier": 1}, WRITERS, 201),
        ("patch", f"/api/v1/components/{component.pk}/", {"status": "major_outage"}, WRITERS, 200),
        ("put", f"/api/v1/components/{component.pk}/", {"name": "Search", "tier": 0}, WRITERS, 200),
    ]


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
@pytest.mark.parametrize("operation", range(11), ids=lambda i: f"op{i}")
def test_every_incident_endpoint_answers_each_role_as_declared(api_as, users, role, operation):
    incident, component = IncidentFactory(), ComponentFactory()
    method, url, body, allowed, success = endpoints(incident, component)[operation]
    client = api_as(users[role] if role else None)

    response = getattr(client, method)(url, body)

    assert response.status_code == expected_status(role, allowed, success), response.content
    if response.status_code >= 400:
        assert set(response.json()) >= {"status", "code", "message"}
        assert response.json()["status"] == response.status_code


def test_incidents_cannot_be_deleted_through_the_api(api_as, lead):
    incident = IncidentFactory()
    response = api_as(lead).delete(f"/api/v1/incidents/{incident.pk}/")
    assert response.status_code == 405
    assert Incident.objects.filter(pk=incident.pk).exists()


def test_an_expired_token_is_refused(api, lead):
    instance, token = AuthToken.objects.create(lead, expiry=timezone.timedelta(seconds=-1))
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/incidents/").status_code == 401


def test_a_revoked_token_is_refused(api, lead):
    instance, token = AuthToken.objects.create(lead, expiry=None)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/incidents/").status_code == 200
    instance.delete()
    assert api.get("/api/v1/incidents/").status_code == 401


def test_tokens_are_stored_only_as_hashes(lead):
    instance, token = AuthToken.objects.create(lead, expiry=None)
    stored = AuthToken.objects.get(pk=instance.pk)
    assert token not in {stored.digest, stored.token_key}
    assert len(stored.token_key) < len(token)


def test_the_browser_session_also_authenticates_the_api(api, lead):
    api.force_login(lead)
    assert api.get("/api/v1/incidents/").status_code == 200


def test_an_anonymous_request_is_told_how_to_authenticate(api):
    response = api.get("/api/v1/incidents/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["code"] == "not_authenticated"


def test_creating_an_incident_returns_it_and_records_who_opened_it(api_as, lead):
    component = ComponentFactory(name="Payments")
    response = api_as(lead).post(
        "/api/v1/incidents/",
        {"title": "Card payments failing", "severity": "SEV1", "components": [component.pk], "commander": "lead"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "investigating"
    assert body["components"] == [component.pk]
    assert body["commander"] == "lead"
    assert body["allowed_statuses"] == ["identified", "monitoring", "resolved"]
    incident = Incident.objects.get(pk=body["id"])
    assert incident.created_by == lead
    assert incident.timeline.get().description == "Incident opened as SEV1, investigating, affecting Payments"


def test_bad_input_gets_field_errors_in_the_one_error_shape(api_as, lead):
    response = api_as(lead).post("/api/v1/incidents/", {"severity": "SEV9", "components": [999]})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["fields"]) == {"title", "severity", "components"}
    assert "Check these fields:" in body["message"]


def test_a_detection_time_before_the_start_is_refused(api_as, lead):
    response = api_as(lead).post(
        "/api/v1/incidents/",
        {"title": "x", "started_at": "2026-11-20T10:00:00Z", "detected_at": "2026-11-20T09:00:00Z"},
    )
    assert response.status_code == 400
    assert "detected_at" in response.json()["fields"]


def test_a_new_incident_cannot_start_resolved(api_as, lead):
    response = api_as(lead).post("/api/v1/incidents/", {"title": "Old outage", "status": "resolved"})
    assert response.status_code == 400
    assert "starts as investigating" in response.json()["fields"]["status"][0]


def test_an_unknown_incident_is_a_404_in_the_error_shape(api_as, support):
    response = api_as(support).get("/api/v1/incidents/424242/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


class TestListing:
    @pytest.fixture
    def incidents(self):
        return {
            "open_sev1": IncidentFactory(severity=Severity.SEV1, status=IncidentStatus.INVESTIGATING),
            "monitoring_sev3": IncidentFactory(severity=Severity.SEV3, status=IncidentStatus.MONITORING),
            "resolved_sev2": IncidentFactory(severity=Severity.SEV2, status=IncidentStatus.RESOLVED),
            "closed_security": IncidentFactory(severity=Severity.SEV4, status=IncidentStatus.CLOSED, kind="security"),
            "old": IncidentFactory(severity=Severity.SEV3, started_at=timezone.now() - timezone.timedelta(days=40)),
        }

    def titles(self, client, query):
        response = client.get(f"/api/v1/incidents/?{query}")
        assert response.status_code == 200, response.content
        return {item["title"] for item in response.json()["results"]}

    def test_it_filters_by_status_severity_kind_open_and_date(self, api_as, support, incidents):
        client = api_as(support)
        names = {key: incident.title for key, incident in incidents.items()}
        assert self.titles(client, "status=monitoring") == {names["monitoring_sev3"]}
        assert self.titles(client, "severity=SEV1&severity=SEV2") == {names["open_sev1"], names["resolved_sev2"]}
        assert self.titles(client, "kind=security") == {names["closed_security"]}
        assert self.titles(client, "open=false") == {names["resolved_sev2"], names["closed_security"]}
        assert names["old"] in self.titles(client, "open=true")
        week_ago = (timezone.now() - timezone.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert names["old"] not in self.titles(client, f"started_after={week_ago}")
        assert self.titles(client, f"started_before={week_ago}") == {names["old"]}

    def test_an_invalid_filter_value_is_a_400_naming_it(self, api_as, support, incidents):
        response = api_as(support).get("/api/v1/incidents/?severity=SEV9")
        assert response.status_code == 400
        assert "severity" in response.json()["fields"]

    def test_it_paginates_newest_first(self, api_as, support, incidents):
        response = api_as(support).get("/api/v1/incidents/?page_size=2")
        body = response.json()
        assert body["count"] == 5
        assert len(body["results"]) == 2
        assert body["next"].endswith("page=2&page_size=2")
        started = [item["started_at"] for item in body["results"]]
        assert started == sorted(started, reverse=True)


def test_a_closed_incident_shows_the_public_status_resolved(api_as, support):
    incident = IncidentFactory(status=IncidentStatus.CLOSED)
    body = api_as(support).get(f"/api/v1/incidents/{incident.pk}/").json()
    assert (body["status"], body["public_status"], body["is_open"]) == ("closed", "resolved", False)
