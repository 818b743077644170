"""API rate limits (core.api.ApiRateThrottle): per token, per client address, and stricter per token for bulk
ingest and previews; over a limit, 429 in the one error shape with Retry-After."""

import pytest

from core.roles import SUPPORT
from tests.factories import IncidentFactory, UserFactory

pytestmark = pytest.mark.django_db

BULK = "/api/v1/mentions/bulk/"
ITEM = {"external_id": "m-1", "text": "Still down", "posted_at": "2026-11-23T12:00:00Z"}


def _assert_throttled(response):
    assert response.status_code == 429, response.content[:200]
    body = response.json()
    assert body["status"] == 429 and body["code"] == "throttled" and body["message"]
    assert int(response["Retry-After"]) >= 1


def test_a_token_over_its_rate_is_answered_429_with_retry_after(api_as, support, settings):
    settings.API_RATE_PER_TOKEN = (3, 60)
    client = api_as(support)
    for _ in range(3):
        assert client.get("/api/v1/incidents/").status_code == 200
    _assert_throttled(client.get("/api/v1/incidents/"))


def test_another_users_token_is_counted_on_its_own(api_as, support, lead, settings):
    settings.API_RATE_PER_TOKEN = (2, 60)
    first = api_as(support)
    for _ in range(2):
        first.get("/api/v1/incidents/")
    _assert_throttled(first.get("/api/v1/incidents/"))
    assert api_as(lead).get("/api/v1/incidents/").status_code == 200


def test_many_tokens_from_one_address_share_its_limit(api_as, settings):
    settings.API_RATE_PER_IP = (3, 60)
    for n in range(3):
        assert api_as(UserFactory(username=f"tool-{n}", role=SUPPORT)).get("/api/v1/incidents/").status_code == 200
    _assert_throttled(api_as(UserFactory(username="tool-x", role=SUPPORT)).get("/api/v1/incidents/"))


def test_bulk_ingest_has_a_stricter_limit_that_leaves_reading_alone(api_as, support, settings):
    settings.API_SCOPED_RATES = {**settings.API_SCOPED_RATES, "ingest": (2, 60)}
    client = api_as(support)
    for n in range(2):
        response = client.post(BULK, {"mentions": [{**ITEM, "external_id": f"m-{n}"}]}, format="json")
        assert response.status_code == 200
    _assert_throttled(client.post(BULK, {"mentions": [{**ITEM, "external_id": "m-9"}]}, format="json"))
    assert client.get("/api/v1/mentions/").status_code == 200
    from sentiment.models import Mention

    assert Mention.objects.count() == 2  # the refused batch stored nothing


def test_previews_have_a_stricter_limit(api_as, lead, settings):
    settings.API_SCOPED_RATES = {**settings.API_SCOPED_RATES, "preview": (1, 60)}
    incident = IncidentFactory()
    client = api_as(lead)
    draft = {"incident": incident.pk, "headline": "Card payments failing", "explain": "Some card payments fail."}
    assert client.post("/api/v1/messages/preview/", draft, format="json").status_code == 200
    _assert_throttled(client.post("/api/v1/messages/preview/", draft, format="json"))


def test_the_schema_documents_429_on_the_api_operations(api_as, lead):
    response = api_as(lead).get("/api/schema/", HTTP_ACCEPT="application/json")
    schema = response.json() if response["Content-Type"].startswith("application/json") else None
    if schema is None:
        import yaml

        schema = yaml.safe_load(response.content)
    operation = schema["paths"]["/api/v1/mentions/bulk/"]["post"]
    assert "429" in operation["responses"]
