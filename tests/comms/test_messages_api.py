"""Messages through the API: the state machine and the approval rules, by role."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from comms import messaging
from comms.choices import MessageState
from comms.models import Message, MessageTemplate, Subscriber
from tests.factories import IncidentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_lead(db):
    return UserFactory(username="lead2", role="Communications lead")


@pytest.fixture
def incident():
    return IncidentFactory(title="Checkout errors", severity="SEV1")


def draft(api_as, user, incident, **fields):
    body = {"incident": incident.pk, "headline": "Checkout is failing", "explain": "Payments fail.",
            "acknowledge": "Sorry.", "channels": ["statuspage"], **fields}
    response = api_as(user).post("/api/v1/messages/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def act(api_as, user, message_id, action, body=None):
    return api_as(user).post(f"/api/v1/messages/{message_id}/{action}/", body or {}, format="json")


@pytest.mark.parametrize("role", ["lead", "manager", "support"])
def test_every_role_that_writes_can_create_a_draft(api_as, users, incident, role):
    body = draft(api_as, users[role], incident)
    assert (body["state"], body["author"], body["approver"]) == ("draft", role, None)


@pytest.mark.parametrize(("role", "status"), [("roleless", 403), (None, 401)])
def test_others_cannot_create_or_read_messages(api_as, users, incident, role, status):
    client = api_as(users[role] if role else None)
    assert client.post("/api/v1/messages/", {"incident": incident.pk, "headline": "x"}).status_code == status
    assert client.get("/api/v1/messages/").status_code == status


def test_a_support_user_cannot_set_the_approver_or_the_state(api_as, support, lead, incident):
    response = api_as(support).post(
        "/api/v1/messages/",
        {"incident": incident.pk, "headline": "x", "channels": ["statuspage"], "approver": "lead", "state": "sent"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "approver": ["This field is read-only and cannot be set."],
        "state": ["This field is read-only and cannot be set."],
    }
    assert not Message.objects.exists()


def test_the_full_path_from_draft_to_scheduled_by_another_lead(api_as, lead, other_lead, incident):
    message = draft(api_as, lead, incident, scheduled_for="2030-01-01T10:00:00Z")
    assert act(api_as, lead, message["id"], "submit").json()["state"] == "submitted"
    approved = act(api_as, other_lead, message["id"], "approve").json()
    assert (approved["state"], approved["approver"]) == ("scheduled", "lead2")
    entries = api_as(lead).get(f"/api/v1/incidents/{incident.pk}/timeline/").json()["results"]
    timeline = [entry["description"] for entry in entries]
    assert timeline == [
        "Draft “Checkout is failing” written",
        "“Checkout is failing” submitted for approval",
        "“Checkout is failing” approved; it goes out at 10:00 UTC",
    ]


def test_a_lead_cannot_approve_their_own_sev1_message(api_as, lead, incident):
    message = draft(api_as, lead, incident)
    act(api_as, lead, message["id"], "submit")
    response = act(api_as, lead, message["id"], "approve")
    assert response.status_code == 403
    refusal = response.json()["message"]
    assert "approve it: you wrote or changed its text" in refusal
    assert Message.objects.get().state == MessageState.SUBMITTED


def test_a_lead_may_approve_their_own_sev3_message(api_as, lead):
    message = draft(api_as, lead, IncidentFactory(severity="SEV3"))
    act(api_as, lead, message["id"], "submit")
    assert act(api_as, lead, message["id"], "approve").json()["state"] == "approved"


@pytest.mark.parametrize("role", ["support", "manager"])
def test_only_communications_leads_approve_or_reject(api_as, users, lead, incident, role):
    message = draft(api_as, lead, incident)
    act(api_as, lead, message["id"], "submit")
    assert act(api_as, users[role], message["id"], "approve").status_code == 403
    assert act(api_as, users[role], message["id"], "reject", {"reason": "no"}).status_code == 403
    assert Message.objects.get().state == MessageState.SUBMITTED


def test_rejecting_needs_a_reason_and_returns_the_message_to_draft(api_as, lead, other_lead, incident):
    message = draft(api_as, lead, incident)
    act(api_as, lead, message["id"], "submit")
    assert act(api_as, other_lead, message["id"], "reject", {"reason": ""}).status_code == 400
    rejected = act(api_as, other_lead, message["id"], "reject", {"reason": "Too technical"}).json()
    assert (rejected["state"], rejected["rejection_reason"]) == ("draft", "Too technical")


def test_editing_an_approved_message_sends_it_back_for_approval(api_as, lead, other_lead, incident):
    message = draft(api_as, lead, incident)
    act(api_as, lead, message["id"], "submit")
    act(api_as, other_lead, message["id"], "approve")
    edited = api_as(lead).patch(f"/api/v1/messages/{message['id']}/", {"explain": "New detail."}, format="json")
    assert (edited.json()["state"], edited.json()["approver"]) == ("submitted", None)


@pytest.mark.parametrize(
    ("state", "action", "reason"),
    [
        (MessageState.DRAFT, "approve", "Submit the draft for approval first."),
        (MessageState.SENT, "cancel", "A sent message cannot change state any more."),
        (MessageState.SENDING, "submit", "A message cannot move from sending to submitted"),
        (MessageState.DRAFT, "publish", "needs a communications lead's approval"),
        (MessageState.DRAFT, "retry", "Only a message with failed deliveries can be retried."),
    ],
)
def test_a_move_the_state_does_not_allow_is_a_409_with_the_reason(api_as, lead, other_lead, incident, state, action,
                                                                   reason):
    message = draft(api_as, lead, incident)
    Message.objects.filter(pk=message["id"]).update(state=state)
    response = act(api_as, other_lead, message["id"], action)
    assert response.status_code == 409
    assert reason in response.json()["message"]


def test_a_sent_message_cannot_be_edited(api_as, lead, incident):
    message = draft(api_as, lead, incident)
    Message.objects.filter(pk=message["id"]).update(state=MessageState.SENT)
    response = api_as(lead).patch(f"/api/v1/messages/{message['id']}/", {"headline": "x"}, format="json")
    assert response.status_code == 409


class TestPreApproved:
    @pytest.fixture
    def template(self):
        return MessageTemplate.objects.get(name="Initial acknowledgement")

    def test_support_publishes_an_unchanged_pre_approved_draft_at_once(self, api_as, support, incident, template):
        message = api_as(support).post(
            "/api/v1/messages/", {"incident": incident.pk, "template": template.pk}, format="json"
        ).json()
        assert message["is_unchanged_preapproved"] is True
        assert "Checkout errors" not in message["headline"]  # {components} filled, not the title
        published = act(api_as, support, message["id"], "publish").json()
        assert (published["state"], published["approver"]) == ("scheduled", "support")

    def test_an_edited_pre_approved_draft_needs_approval(self, api_as, support, incident, template):
        message = api_as(support).post(
            "/api/v1/messages/", {"incident": incident.pk, "template": template.pk}, format="json"
        ).json()
        api_as(support).patch(f"/api/v1/messages/{message['id']}/", {"explain": "Changed."}, format="json")
        response = act(api_as, support, message["id"], "publish")
        assert response.status_code == 409
        assert Message.objects.get().state == MessageState.DRAFT

    def test_an_account_manager_cannot_publish_even_an_unchanged_one(self, api_as, manager, incident, template):
        message = api_as(manager).post(
            "/api/v1/messages/", {"incident": incident.pk, "template": template.pk}, format="json"
        ).json()
        assert act(api_as, manager, message["id"], "publish").status_code == 403

    def test_a_lead_may_approve_their_own_unchanged_pre_approved_sev1_message(self, api_as, lead, incident, template):
        message = api_as(lead).post(
            "/api/v1/messages/", {"incident": incident.pk, "template": template.pk}, format="json"
        ).json()
        act(api_as, lead, message["id"], "submit")
        assert act(api_as, lead, message["id"], "approve").status_code == 200


    @pytest.mark.parametrize("change", [{"channels": ["statuspage", "email", "webhook"]}, {"phase": "resolution"},
                                        {"audience": "internal", "channels": ["email"]}, {"is_announcement": True}])
    def test_a_pre_approved_message_changed_in_anything_but_time_needs_approval(self, support, change):
        template = MessageTemplate.objects.get(name="Initial acknowledgement")
        message = messaging.create_message(incident=IncidentFactory(severity="SEV1"), author=support,
                                           template=template)
        assert message.is_unchanged_preapproved
        message = messaging.update_message(message, actor=support, **change)
        assert not Message.objects.get(pk=message.pk).is_unchanged_preapproved


def test_choosing_x_without_credentials_is_refused_with_what_to_set(api_as, lead, incident, settings):
    settings.X_CONFIGURED = False
    response = api_as(lead).post(
        "/api/v1/messages/", {"incident": incident.pk, "headline": "x", "channels": ["x"]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["fields"]["channels"] == [
        "X is not configured: set X_API_KEY, X_API_SECRET, X_ACCESS_TOKEN and X_ACCESS_TOKEN_SECRET."
    ]


def test_an_internal_message_cannot_go_to_the_status_page(api_as, lead, incident):
    response = api_as(lead).post(
        "/api/v1/messages/",
        {"incident": incident.pk, "headline": "x", "channels": ["statuspage"], "audience": "internal"},
        format="json",
    )
    assert response.status_code == 400
    assert "Status page is public" in response.json()["fields"]["channels"][0]


def test_the_preview_shows_every_rendering_and_the_lint(api_as, support, incident):
    message = draft(api_as, support, incident, phase="resolution", explain="Fixed by 14:00 via failover.")
    body = api_as(support).get(f"/api/v1/messages/{message['id']}/preview/").json()
    assert set(body) == {"email", "statuspage", "x", "webhook", "slack", "lint"}
    assert body["email"]["subject"] == "[Investigating] Checkout errors: Checkout is failing"
    assert body["x"]["weighted_length"] <= 280
    codes = {warning["code"] for warning in body["lint"]}
    assert {"jargon", "no_thanks", "missing_part"} <= codes


def test_an_unsaved_draft_can_be_previewed_without_storing_it(api_as, support, incident):
    response = api_as(support).post(
        "/api/v1/messages/preview/", {"incident": incident.pk, "headline": "<b>Hi</b>", "channels": ["x"]},
        format="json",
    )
    assert response.status_code == 200
    assert "&lt;b&gt;Hi&lt;/b&gt;" in response.json()["email"]["html"]
    assert not Message.objects.exists()


def test_deliveries_of_a_message_are_listed(api_as, lead, incident):
    message = draft(api_as, lead, incident)
    Message.objects.get().deliveries.create(channel="statuspage", recipient="status-page", status="failed",
                                            last_error="boom")
    body = api_as(lead).get(f"/api/v1/messages/{message['id']}/deliveries/?status=failed").json()
    assert [(d["recipient"], d["last_error"]) for d in body["results"]] == [("status-page", "boom")]


def test_the_message_list_queries_do_not_grow_with_the_messages(api_as, lead):
    incident = IncidentFactory()
    client = api_as(lead)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/v1/messages/").status_code == 200
        return len(captured)

    messaging.create_message(incident=incident, author=lead, headline="one", channels=["statuspage"])
    before = queries()
    for n in range(10):
        messaging.create_message(incident=incident, author=lead, headline=f"m{n}", channels=["statuspage"])
    assert queries() == before


@pytest.mark.parametrize(("role", "status"), [("lead", 201), ("support", 403), ("manager", 403)])
def test_only_leads_manage_templates(api_as, users, role, status):
    response = api_as(users[role]).post(
        "/api/v1/templates/", {"name": "Short ack", "phase": "initial", "headline": "Problem with {components}"},
        format="json",
    )
    assert response.status_code == status


def test_a_template_with_an_unknown_placeholder_is_refused(api_as, lead):
    response = api_as(lead).post(
        "/api/v1/templates/", {"name": "Bad", "phase": "initial", "headline": "Problem with {component}"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["fields"]["headline"][0].startswith("Unknown placeholder {component}; use one of:")


@pytest.mark.parametrize(("role", "status"), [("lead", 200), ("support", 403), ("manager", 403), (None, 401)])
def test_only_leads_see_subscribers(api_as, users, role, status):
    assert api_as(users[role] if role else None).get("/api/v1/subscribers/").status_code == status


def test_a_subscriber_added_through_the_api_must_still_confirm(api_as, lead, settings, mailoutbox,
                                                               django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(lead).post("/api/v1/subscribers/", {"email": "Ada@Example.com"}, format="json")
    assert response.status_code == 201
    subscriber = Subscriber.objects.get()
    assert (subscriber.email, subscriber.confirmed_at) == ("ada@example.com", None)
    assert len(mailoutbox) == 1 and "/status/confirm/" in mailoutbox[0].body


def test_publishing_now_schedules_for_now(api_as, lead, other_lead, incident):
    message = draft(api_as, lead, incident)
    act(api_as, lead, message["id"], "submit")
    act(api_as, other_lead, message["id"], "approve")
    body = act(api_as, other_lead, message["id"], "publish").json()
    assert body["state"] == "scheduled"
    assert Message.objects.get().scheduled_for <= timezone.now()


@pytest.mark.parametrize("action", ["submit", "cancel"])
def test_only_the_author_or_a_lead_may_change_a_message(api_as, support, manager, lead, incident, action):
    message = draft(api_as, support, incident)
    assert act(api_as, manager, message["id"], action).status_code == 403
    edit = api_as(manager).patch(f"/api/v1/messages/{message['id']}/", {"headline": "Hijacked"}, format="json")
    assert edit.status_code == 403
    assert Message.objects.get().headline == "Checkout is failing"
    assert act(api_as, lead, message["id"], action).status_code == 200


def test_rendered_email_is_plain_text_so_pages_escape_it(incident, lead):
    from django.utils.safestring import SafeData

    from comms.rendering import render_email

    message = Message(incident=incident, author=lead, headline="<script>x</script>")
    assert not any(isinstance(part, SafeData) for part in render_email(message))


@pytest.mark.parametrize("role", ["support", "manager"])
def test_only_communications_leads_retry_failed_deliveries(api_as, users, lead, incident, role):
    message = draft(api_as, lead, incident)
    Message.objects.filter(pk=message["id"]).update(state=MessageState.PARTIALLY_FAILED)
    assert act(api_as, users[role], message["id"], "retry").status_code == 403
    assert Message.objects.get().state == MessageState.PARTIALLY_FAILED
