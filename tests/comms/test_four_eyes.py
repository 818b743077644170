"""Four eyes on SEV1/SEV2 messages hold on the content: lowering the severity for a moment or rewriting someone
else's draft does not let one lead approve their own text."""

import pytest

from comms import messaging
from comms.choices import MessageState
from comms.models import Message
from core.roles import COMMS_LEAD
from incidents import services
from incidents.models import TimelineEntry
from tests.factories import IncidentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_lead(db):
    return UserFactory(username="lead2", role=COMMS_LEAD)


@pytest.fixture
def sev1():
    return IncidentFactory(severity="SEV1", title="Checkout errors")


def write(api_as, author, incident) -> int:
    response = api_as(author).post("/api/v1/messages/", {
        "incident": incident.pk, "headline": "Checkout is failing", "explain": "Payments fail at checkout.",
        "acknowledge": "We are sorry.", "resolve": "We are rolling back.", "study": "We will review it.",
    }, format="json")
    assert response.status_code == 201
    return response.json()["id"]


def act(api_as, user, message_id, action):
    return api_as(user).post(f"/api/v1/messages/{message_id}/{action}/")


def test_lowering_the_severity_for_a_moment_does_not_let_a_lead_approve_their_own_message(api_as, lead, sev1):
    message_id = write(api_as, lead, sev1)
    act(api_as, lead, message_id, "submit")
    assert api_as(lead).patch(f"/api/v1/incidents/{sev1.pk}/", {"severity": "SEV3"}, format="json").status_code == 200

    refused = act(api_as, lead, message_id, "approve")

    assert refused.status_code == 403
    assert "SEV1 incident (at its highest)" in refused.json()["message"]
    assert Message.objects.get(pk=message_id).state == MessageState.SUBMITTED


def test_a_lead_who_rewrote_someone_elses_draft_cannot_approve_it_but_another_lead_can(
        api_as, lead, other_lead, support, sev1):
    message_id = write(api_as, support, sev1)
    rewritten = api_as(lead).patch(f"/api/v1/messages/{message_id}/", {"explain": "All payments fail."},
                                   format="json")
    assert rewritten.status_code == 200
    act(api_as, lead, message_id, "submit")

    assert act(api_as, lead, message_id, "approve").status_code == 403
    assert act(api_as, other_lead, message_id, "approve").status_code == 200
    assert Message.objects.get(pk=message_id).approver == other_lead


def test_a_lead_who_only_moved_the_send_time_may_approve_someone_elses_text(api_as, lead, support, sev1):
    message_id = write(api_as, support, sev1)
    moved = api_as(lead).patch(f"/api/v1/messages/{message_id}/", {"scheduled_for": "2099-01-01T10:00:00Z"},
                               format="json")
    assert moved.status_code == 200
    act(api_as, lead, message_id, "submit")
    assert act(api_as, lead, message_id, "approve").status_code == 200


def test_a_message_a_lead_approved_themself_under_sev3_needs_another_lead_once_the_severity_rises(lead, other_lead):
    incident = IncidentFactory(severity="SEV3")
    message = messaging.create_message(incident=incident, author=lead, headline="Search is slow",
                                       explain="Search takes seconds.", scheduled_for=None)
    messaging.submit(message, actor=lead)
    messaging.approve(message, actor=lead)  # SEV3: one lead may approve their own

    services.update_incident(incident, actor=other_lead, severity="SEV1")

    message.refresh_from_db()
    assert (message.state, message.approver) == (MessageState.SUBMITTED, None)
    reason = "needs approval again: the incident is now SEV1 and its approver wrote it"
    reopened = TimelineEntry.objects.filter(incident=incident, description__contains=reason)
    assert reopened.exists()
    with pytest.raises(messaging.PermissionDenied):
        messaging.approve(message, actor=lead)
    assert messaging.approve(message, actor=other_lead).state == MessageState.APPROVED


def test_a_message_approved_by_another_lead_stays_approved_when_the_severity_rises(lead, other_lead, support):
    incident = IncidentFactory(severity="SEV3")
    message = messaging.create_message(incident=incident, author=support, headline="Search is slow")
    messaging.submit(message, actor=support)
    messaging.approve(message, actor=lead)

    services.update_incident(incident, actor=other_lead, severity="SEV1")

    message.refresh_from_db()
    assert (message.state, message.approver) == (MessageState.APPROVED, lead)


# --- Found by an independent review -----------------------------------------------------------------------


def test_a_lead_cannot_publish_their_own_pre_approved_template_alone_on_a_sev1(api_as, lead, other_lead, sev1):
    template = api_as(lead).post("/api/v1/templates/", {
        "name": "All fine", "phase": "update", "pre_approved": True, "channels": ["statuspage"],
        "headline": "Everything is fine now", "explain": "Nothing to see here.",
    }, format="json").json()
    message = api_as(lead).post("/api/v1/messages/", {"incident": sev1.pk, "template": template["id"]},
                                format="json").json()
    assert message["is_unchanged_preapproved"] is True

    refused = api_as(lead).post(f"/api/v1/messages/{message['id']}/publish/", format="json")
    assert refused.status_code == 403
    assert "or the pre-approved template it comes from" in refused.json()["message"]
    assert api_as(other_lead).post(f"/api/v1/messages/{message['id']}/publish/", format="json").status_code == 200


def test_lowering_the_severity_before_writing_does_not_let_a_lead_approve_their_own_message(api_as, lead, sev1):
    assert api_as(lead).patch(f"/api/v1/incidents/{sev1.pk}/", {"severity": "SEV3"}, format="json").status_code == 200
    message_id = write(api_as, lead, sev1)
    act(api_as, lead, message_id, "submit")
    assert act(api_as, lead, message_id, "approve").status_code == 403


def test_everyone_who_changed_the_text_is_an_author_not_only_the_last(api_as, lead, other_lead, support, sev1):
    message_id = write(api_as, support, sev1)
    api_as(lead).patch(f"/api/v1/messages/{message_id}/", {"explain": "All card payments fail."}, format="json")
    api_as(support).patch(f"/api/v1/messages/{message_id}/", {"headline": "Card payments fail"}, format="json")
    act(api_as, support, message_id, "submit")
    assert act(api_as, lead, message_id, "approve").status_code == 403
    assert act(api_as, other_lead, message_id, "approve").status_code == 200
