"""Bad input from the second independent probe: each answer is a 4xx in the one error shape (or a page that
ignores the value), never a 500, and a bad item in a batch costs only itself."""

import json

import pytest
from django.core import mail
from django.utils import timezone

from tests.factories import AccountFactory, ComponentFactory, ImpactFactory, IncidentFactory

pytestmark = pytest.mark.django_db


def _mention(**fields):
    from sentiment.models import Mention

    values = {"source": "x", "external_id": "post-1", "author_handle": "angry_customer", "text": "Down again",
              "posted_at": timezone.now(), "compound": -0.7, "neg": 0.4, "neu": 0.6, "pos": 0.0,
              "label": "negative", "flagged": True, "scored_at": timezone.now()}
    return Mention.objects.create(**{**values, **fields})


def _assert_one_error_shape(response, status=400):
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert body["status"] == status and body["code"] and body["message"]
    return body


# --- JSON nested beyond any reason ---


@pytest.mark.parametrize("path", ["/api/v1/incidents/", "/api/v1/messages/preview/", "/api/v1/mentions/bulk/"])
def test_json_nested_thousands_of_levels_deep_is_a_400_not_a_recursion_error(api_as, lead, path):
    deep = "[" * 5000 + "]" * 5000
    response = api_as(lead).post(path, data=deep, content_type="application/json")
    body = _assert_one_error_shape(response)
    assert "nested" in body["message"].lower()


# --- ids that are not whole numbers ---


@pytest.fixture
def targets(db):
    incident = IncidentFactory()
    account = AccountFactory()
    impact = ImpactFactory(incident=incident, account=account)
    return {"incident": incident, "account": account, "impact": impact, "component": ComponentFactory()}


def _id_cases(targets):
    incident, impact = targets["incident"], targets["impact"]
    return [
        ("/api/v1/incidents/", {"title": "Payments failing", "severity": "sev2", "components": ["__BAD__"]}),
        ("/api/v1/messages/", {"incident": "__BAD__", "headline": "Payments", "explain": "Card payments fail."}),
        (f"/api/v1/incidents/{incident.pk}/impacts/", {"account": "__BAD__", "level": "major"}),
        ("/api/v1/compensations/", {"impact": "__BAD__", "kind": "credit", "amount": "10.00"}),
        ("/api/v1/follow-ups/", {"impact": "__BAD__", "summary": "Call them", "due_at": "2026-12-01T10:00:00Z"}),
        ("/api/v1/follow-ups/", {"impact": impact.pk, "owner": "__BAD__", "summary": "Call them",
                                 "due_at": "2026-12-01T10:00:00Z"}),
        ("/api/v1/contacts/", {"account": "__BAD__", "name": "Ann", "email": "ann@example.com"}),
        ("/api/v1/accounts/", {"name": "Acme", "components": ["__BAD__"]}),
    ]


# Raw JSON: 1e400 is a number too large for a float (Python reads it as infinity), 1.9 is no id, "²" and "١" are
# digits to str.isdigit() and not to int().
@pytest.mark.parametrize("raw", ["1e400", "-1e400", '"1e400"', "1.9", '"1.9"', "1.0", "true", '"²"', '"١٢"',
                                 "99999999999999999999999"])
def test_an_id_that_is_not_a_plain_whole_number_is_refused_with_a_400(api_as, admin_user, targets, raw):
    client = api_as(admin_user)
    for path, body in _id_cases(targets):
        response = client.post(path, data=json.dumps(body).replace('"__BAD__"', raw),
                               content_type="application/json")
        body = _assert_one_error_shape(response)
        assert body["fields"], (path, raw)


def test_an_id_written_as_one_point_nine_is_not_read_as_one(api_as, lead):
    component = ComponentFactory()
    response = api_as(lead).post(
        "/api/v1/incidents/",
        data=json.dumps({"title": "Payments failing", "severity": "sev2", "components": [component.pk + 0.9]}),
        content_type="application/json",
    )
    _assert_one_error_shape(response)


# --- a lone surrogate in one bulk item ---


def test_a_lone_surrogate_in_one_bulk_item_is_that_items_error_and_the_others_are_kept(api_as, support):
    items = [
        {"external_id": "ok-1", "text": "The dashboard is down again", "posted_at": "2026-11-23T12:00:00Z"},
        {"external_id": "bad", "text": "broken \udfff text", "posted_at": "2026-11-23T12:00:00Z"},
        {"external_id": "ok-2", "text": "Still waiting on support", "posted_at": "2026-11-23T12:00:00Z",
         "author_name": "Ann"},
        {"external_id": "bad-name", "text": "fine", "author_name": "\ud800", "posted_at": "2026-11-23T12:00:00Z"},
    ]
    raw = json.dumps({"mentions": items})  # json.dumps writes the surrogates as \\udfff escapes, as the probe did
    response = api_as(support).post("/api/v1/mentions/bulk/", data=raw, content_type="application/json")
    assert response.status_code in (200, 207), response.content[:300]
    statuses = [item["status"] for item in response.json()["results"]]
    assert statuses == ["created", "error", "created", "error"]
    from sentiment.models import Mention

    assert set(Mention.objects.values_list("external_id", flat=True)) == {"ok-1", "ok-2"}


def test_a_lone_surrogate_in_an_incident_title_is_a_400(api_as, lead):
    raw = json.dumps({"title": "Payments \udfff failing", "severity": "sev2"})
    _assert_one_error_shape(api_as(lead).post("/api/v1/incidents/", data=raw, content_type="application/json"))


# --- URLs that the schema calls format: uri ---


@pytest.mark.parametrize("url", [
    'https://x.example/"><script>alert(1)</script>',
    "https://x.example/a b",
    "https://x.example/<p>",
    "https://x.example/{x}",
    "javascript:alert(1)",
])
def test_a_mention_url_that_is_not_a_uri_is_refused_on_ingest(api_as, support, url):
    item = {"external_id": "u", "text": "Down again", "posted_at": "2026-11-23T12:00:00Z", "url": url}
    response = api_as(support).post("/api/v1/mentions/bulk/", data={"mentions": [item]}, format="json")
    assert response.json()["results"][0]["status"] == "error"
    assert "url" in response.json()["results"][0]["reason"]


def test_a_mention_url_with_percent_escapes_and_a_query_is_accepted(api_as, support):
    url = "https://x.example/status/1?ref=a%20b&x=%C3%A9#top"
    item = {"external_id": "u", "text": "Down again", "posted_at": "2026-11-23T12:00:00Z", "url": url}
    response = api_as(support).post("/api/v1/mentions/bulk/", data={"mentions": [item]}, format="json")
    assert response.json()["results"][0]["status"] == "created"


# --- digits that are not ASCII, and instants beyond the year 9999 ---


@pytest.mark.parametrize("path", [
    "/mentions/?incident=²",
    "/mentions/?incident=١٢",
    "/mentions/?account=²",
    "/incidents/?started_after=9999-12-31T23:59:59-23:00",
    "/incidents/?started_before=0001-01-01T00:00:00%2B23:00",
    "/api/v1/incidents/?started_after=9999-12-31T23:59:59-23:00",
    "/api/v1/mentions/?incident=²",
    "/api/v1/mentions/?incident=1.9",
])
def test_odd_filter_values_never_make_a_500(client, lead, path):
    client.force_login(lead)
    response = client.get(path)
    assert response.status_code in (200, 400), path


def test_the_composers_template_choice_with_a_superscript_digit_is_ignored(client, lead):
    incident = IncidentFactory()
    client.force_login(lead)
    response = client.get(f"/incidents/{incident.pk}/messages/new/?template=²")
    assert response.status_code == 200


def test_bulk_review_with_a_superscript_digit_id_changes_nothing_and_says_so(client, support):
    mention = _mention(flagged=True)
    client.force_login(support)
    response = client.post("/mentions/bulk/", {"ids": ["²", "١"], "action": "dismiss", "reason": "noise"})
    assert response.status_code in (200, 302, 400)
    mention.refresh_from_db()
    assert mention.review_state == "new"


# --- names that reach email headers ---


def test_escalating_a_mention_whose_handle_carries_a_header_tells_the_manager(client, support, lead, settings):
    mention = _mention(flagged=True, author_handle="evil\r\nBcc: victim@example.com")
    client.force_login(support)
    response = client.post(f"/mentions/{mention.pk}/escalate/", {"note": "Angry key customer"})
    assert response.status_code in (200, 302)
    mention.refresh_from_db()
    assert mention.review_state == "escalated"
    assert mail.outbox, "no one was told of the escalation"
    for sent in mail.outbox:
        assert "\n" not in sent.subject and "\r" not in sent.subject
        assert "victim@example.com" not in sent.bcc
        assert "victim@example.com" not in sent.message().as_string().split("\n\n", 1)[0].replace(
            sent.subject, "")


def test_overdue_follow_up_reminders_survive_an_account_name_with_a_newline(manager):
    from accounts.models import FollowUp
    from accounts.reminders import remind_overdue_follow_ups

    account = AccountFactory(name="Acme\r\nBcc: victim@example.com", owner=manager)
    impact = ImpactFactory(account=account)
    FollowUp.objects.create(impact=impact, owner=manager, summary="Call the CTO",
                            due_at=timezone.now() - timezone.timedelta(days=2))
    assert remind_overdue_follow_ups() == 1
    (sent,) = mail.outbox
    assert "\n" not in sent.subject and "victim@example.com" not in sent.bcc


# --- the sentiment chart ---


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Pacific/Kiritimati"])
def test_the_sentiment_chart_of_an_incident_started_in_the_year_one_stays_small(client, support, settings, zone):
    from datetime import UTC, datetime

    settings.TIME_ZONE = zone
    incident = IncidentFactory(started_at=datetime(1, 1, 2, tzinfo=UTC))
    _mention(incident=incident)
    client.force_login(support)
    response = client.get(f"/incidents/{incident.pk}/")
    assert response.status_code == 200
    assert b"Customer sentiment for" in response.content
    assert len(response.content) < 500_000


# --- free text has a documented maximum length ---------------------------------------------------------------


def test_a_message_part_over_its_limit_is_refused_by_the_api_the_composer_and_the_model(api_as, client, lead):
    from django.core.exceptions import ValidationError

    from comms.models import Message
    from comms.models.messages import PART_LIMIT

    incident = IncidentFactory()
    long = "x" * (PART_LIMIT + 1)
    body = {"incident": incident.pk, "headline": "Payments", "explain": long}
    response = api_as(lead).post("/api/v1/messages/", body, format="json")
    assert _assert_one_error_shape(response)["fields"]["explain"]
    response = api_as(lead).post("/api/v1/messages/preview/", body, format="json")
    assert _assert_one_error_shape(response)["fields"]["explain"]
    client.force_login(lead)
    page = client.post(f"/incidents/{incident.pk}/messages/new/",
                       {"headline": "Payments", "explain": long, "phase": "update", "audience": "public"})
    assert page.status_code == 200 and b"at most 10000 characters" in page.content.replace(b",", b"")
    assert not Message.objects.exists()
    with pytest.raises(ValidationError):
        Message(incident=incident, headline="Payments", explain=long, author=lead).full_clean()


def test_a_review_note_over_its_limit_is_refused_on_the_page_and_changes_nothing(client, support):
    mention = _mention()
    client.force_login(support)
    client.post(f"/mentions/{mention.pk}/escalate/", {"note": "n" * 5001})
    mention.refresh_from_db()
    assert mention.review_state == "new" and mention.review_note == ""
    assert not mail.outbox


# --- a request Django will not read ----------------------------------------------------------------------------


def test_an_api_body_over_the_upload_limit_is_a_413_in_the_error_shape_and_a_page_keeps_its_400(
        api_as, lead, client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = json.dumps({"title": "x" * 4096, "severity": "sev2"})
    response = api_as(lead).post("/api/v1/incidents/", data=body, content_type="application/json")
    assert response.status_code == 413 and response["Content-Type"] == "application/json"
    assert response.json() == {"status": 413, "code": "too_large",
                               "message": "The request body is larger than the limit of 1,024 bytes."}
    client.force_login(lead)
    page = client.post("/incidents/new/", {"title": "x" * 4096})
    assert page.status_code == 400 and not page["Content-Type"].startswith("application/json")


def test_an_api_form_body_with_too_many_fields_is_a_400_in_the_error_shape(api_as, lead, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    response = api_as(lead).post("/api/v1/incidents/", data="&".join(f"f{n}=1" for n in range(20)),
                                 content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
