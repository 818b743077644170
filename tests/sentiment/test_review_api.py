"""Review actions through the API, by role; state refusals; X replies through the delivery machinery."""

import json
from unittest import mock

import pytest

from comms.models import Delivery
from sentiment.models import Mention
from tests.comms.test_transports import http_response
from tests.factories import IncidentFactory
from tests.outermost_http import patched_requests
from tests.sentiment.helpers import mention

pytestmark = pytest.mark.django_db


def act(api_as, user, m, action, body=None):
    return api_as(user).post(f"/api/v1/mentions/{m.pk}/{action}/", body or {}, format="json")


@pytest.mark.parametrize("role", ["support", "lead"])
def test_reviewers_assign_respond_escalate_and_dismiss(api_as, users, role):
    a, b, c = mention("a"), mention("b"), mention("c")
    assigned = act(api_as, users[role], a, "assign").json()
    assert (assigned["review_state"], assigned["assignee"]) == ("in_review", role)
    assert act(api_as, users[role], a, "respond", {"text": "DM'd them a fix"}).json()["review_state"] == "responded"
    assert act(api_as, users[role], b, "escalate", {"note": "key customer"}).json()["review_state"] == "escalated"
    dismissed = act(api_as, users[role], c, "dismiss", {"reason": "spam"}).json()
    assert (dismissed["review_state"], dismissed["review_note"]) == ("dismissed", "spam")


@pytest.mark.parametrize("action", ["assign", "respond", "escalate", "dismiss"])
def test_an_account_manager_cannot_act_on_mentions(api_as, manager, action):
    m = mention("x")
    body = {"assign": {}, "respond": {"text": "x"}, "escalate": {}, "dismiss": {"reason": "x"}}[action]
    assert act(api_as, manager, m, action, body).status_code == 403
    assert Mention.objects.get().review_state == "new"


def test_account_managers_read_only_mentions_of_their_accounts(api_as, manager, support):
    mention("someone else's customer")
    assert api_as(manager).get("/api/v1/mentions/").json()["count"] == 0  # no accounts of theirs yet
    assert api_as(support).get("/api/v1/mentions/").json()["count"] == 1


@pytest.mark.parametrize(("role", "status"), [("roleless", 403), (None, 401)])
def test_others_cannot_read_mentions(api_as, users, role, status):
    assert api_as(users[role] if role else None).get("/api/v1/mentions/").status_code == status


def test_a_move_the_state_does_not_allow_is_a_409(api_as, support):
    m = mention("x")
    act(api_as, support, m, "dismiss", {"reason": "spam"})
    response = act(api_as, support, m, "dismiss", {"reason": "spam"})
    assert response.status_code == 409
    assert response.json()["message"] == "The mention is already dismissed."


def test_dismissing_needs_a_reason_and_responding_needs_text(api_as, support):
    m = mention("x")
    assert "reason" in act(api_as, support, m, "dismiss", {"reason": ""}).json()["fields"]
    assert "text" in act(api_as, support, m, "respond", {}).json()["fields"]
    assert Mention.objects.get().review_state == "new"


def test_actions_on_a_linked_mention_are_written_to_the_incident_timeline_by_its_number(api_as, support):
    incident = IncidentFactory()
    m = mention("acme down", incident=incident, author_handle="angry")
    act(api_as, support, m, "assign")
    act(api_as, support, m, "dismiss", {"reason": "duplicate of a ticket"})
    assert list(incident.timeline.values_list("description", "data__mention_id")) == [
        (f"Mention {m.pk} assigned to support", m.pk),
        (f"Mention {m.pk} dismissed", m.pk),
    ]


def test_escalating_a_mention_without_an_account_emails_the_leads_not_the_account_managers(
        api_as, support, manager, lead, mailoutbox):
    act(api_as, support, mention("we will sue"), "escalate", {"note": "legal threat"})
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [lead.email] and "legal threat" in mailoutbox[0].body


def test_the_queue_filters_by_flag_state_label_and_reason(api_as, support):
    mention("refund now", flagged=True, flag_reasons=["Churn, refund or legal words: refund"], label="negative")
    mention("thanks", flagged=False, label="positive")
    client = api_as(support)
    assert client.get("/api/v1/mentions/?flagged=true").json()["count"] == 1
    assert client.get("/api/v1/mentions/?reason=refund").json()["count"] == 1
    assert client.get("/api/v1/mentions/?label=positive").json()["count"] == 1
    assert client.get("/api/v1/mentions/?state=new&state=in_review").json()["count"] == 2


class TestXReply:
    @pytest.fixture
    def x_configured(self, settings):
        settings.X_CONFIGURED = True
        settings.X_CREDENTIALS = {name: "test" for name in settings.X_CREDENTIAL_NAMES}
        settings.CELERY_TASK_ALWAYS_EAGER = True

    def test_a_response_is_posted_as_a_reply_through_a_delivery(self, api_as, support, x_configured,
                                                              django_capture_on_commit_callbacks):
        m = mention("@acme your API is down", source="x", external_id="1850000000000000042")
        with patched_requests() as http:
            http.return_value = http_response(201, {"data": {"id": "99", "text": "…"}})
            with django_capture_on_commit_callbacks(execute=True):
                response = act(api_as, support, m, "respond", {"text": "Sorry! We are on it.", "post_to_x": True})
        assert response.status_code == 200
        assert http.call_count == 1
        sent = http.call_args.kwargs["json"]
        assert sent == {"text": "Sorry! We are on it.", "reply": {"in_reply_to_tweet_id": "1850000000000000042"}}
        reply = Delivery.objects.get()
        assert (list(m.replies.all()), reply.in_reply_to, reply.status, reply.external_id) == (
            [reply],
            m.external_id,
            "sent",
            "99",
        )
        assert response.json()["replies"][0]["status"] in ("queued", "sent")

    def test_with_the_broker_down_the_response_is_recorded_and_its_reply_waits_for_the_sweep(
        self, api_as, support, x_configured, django_capture_on_commit_callbacks
    ):
        from kombu.exceptions import OperationalError

        from comms.tasks import send_deliveries

        m = mention("@acme your API is down", source="x", external_id="1850000000000000043")
        with mock.patch.object(send_deliveries, "apply_async", side_effect=OperationalError("Connection refused")):
            with django_capture_on_commit_callbacks(execute=True) as callbacks:
                response = act(api_as, support, m, "respond", {"text": "Sorry! We are on it.", "post_to_x": True})
        assert len(callbacks) == 1  # the enqueue ran, and failed
        assert response.status_code == 200 and response.json()["review_state"] == "responded"
        reply = Delivery.objects.get()
        assert (list(m.replies.all()), reply.status) == ([reply], "queued")  # sweep_deliveries enqueues queued rows

    def test_only_a_mention_from_x_can_be_answered_on_x(self, api_as, support, x_configured):
        m = mention("api mention", source="api")
        response = act(api_as, support, m, "respond", {"text": "hi", "post_to_x": True})
        assert response.status_code == 400
        assert not Delivery.objects.exists()

    def test_without_x_credentials_the_reply_is_refused_with_what_to_set(self, api_as, support, settings):
        settings.X_CONFIGURED = False
        response = act(api_as, support, mention("x", source="x"), "respond", {"text": "hi", "post_to_x": True})
        assert response.status_code == 400
        assert "X is not configured" in json.dumps(response.json())
