"""What customers read is true when it goes out: an update written under an older status is checked before it is
approved or published, and the next-update time they are promised is the deadline the cadence then tracks."""

import pytest
from django.core import mail
from django.utils import timezone

from comms import delivery, messaging
from comms.choices import MessageState
from comms.lint import lint_message
from comms.models import Delivery, Message, MessageTemplate
from comms.rendering import render_all
from core.statemachine import TransitionNotAllowed
from incidents import services
from incidents.models import Incident
from tests.comms.helpers import confirmed_subscribers
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db

REVERSING = "We are reversing it now. Next update within 30 minutes."


@pytest.fixture
def incident():
    return IncidentFactory(title="Checkout errors", severity="SEV2")


def submitted_update(incident, author):
    message = messaging.create_message(incident=incident, author=author, headline="We found the cause",
                                       explain=REVERSING, acknowledge="We are sorry, and thank you for your patience.")
    return messaging.submit(message, actor=author)


def test_an_update_written_before_the_incident_resolved_needs_a_confirmation_to_be_approved(
        api_as, incident, lead, support):
    message = submitted_update(incident, support)
    services.change_status(incident, "resolved", actor=lead)

    refused = api_as(lead).post(f"/api/v1/messages/{message.pk}/approve/", format="json")
    assert refused.status_code == 409
    assert "written while the incident was investigating; it is now resolved" in refused.json()["message"]
    body = api_as(lead).get(f"/api/v1/messages/{message.pk}/").json()
    assert body["stale_since"] == "investigating"
    assert "stale" in {finding["code"] for finding in body["lint"]}

    confirmed = api_as(lead).post(f"/api/v1/messages/{message.pk}/approve/", {"confirm_stale": True}, format="json")
    assert confirmed.status_code == 200 and confirmed.json()["state"] == "approved"


def test_an_approved_update_goes_back_to_approval_when_the_status_changes_and_then_needs_the_confirmation(
        incident, lead, support):
    message = submitted_update(incident, support)
    messaging.approve(message, actor=lead)
    services.change_status(incident, "monitoring", actor=lead)

    message = Message.objects.get(pk=message.pk)
    assert (message.state, message.approver) == (MessageState.SUBMITTED, None)
    with pytest.raises(TransitionNotAllowed, match="now monitoring"):
        messaging.approve(message, actor=lead)
    assert messaging.approve(message, actor=lead, confirm_stale=True).state == MessageState.APPROVED


def test_a_scheduled_update_written_before_a_status_change_does_not_go_out_unchecked(incident, lead, support):
    message = submitted_update(incident, support)
    Message.objects.filter(pk=message.pk).update(scheduled_for=timezone.now() + timezone.timedelta(minutes=5))
    assert messaging.approve(message, actor=lead).state == MessageState.SCHEDULED
    services.change_status(incident, "resolved", actor=lead)
    Message.objects.filter(pk=message.pk).update(scheduled_for=timezone.now())  # its time has come

    assert delivery.dispatch_due_messages() == []
    assert Message.objects.get(pk=message.pk).state == MessageState.SUBMITTED


def test_editing_the_text_after_the_status_change_makes_it_current_again(incident, lead, support):
    message = submitted_update(incident, support)
    services.change_status(incident, "resolved", actor=lead)
    messaging.update_message(message, actor=support, explain="We reversed the change; payments work again.")
    message = Message.objects.get(pk=message.pk)
    assert message.stale_since is None
    assert "stale" not in {finding.code for finding in lint_message(message)}


def test_a_message_that_went_out_is_never_called_stale(incident, lead, support):
    message = submitted_update(incident, support)
    Message.objects.filter(pk=message.pk).update(state=MessageState.SENT)
    services.change_status(incident, "resolved", actor=lead)
    assert Message.objects.get(pk=message.pk).stale_since is None


def test_the_promised_next_update_is_the_cadence_deadline_set_when_the_message_goes_out(settings, lead, support):
    settings.UPDATE_CADENCE_MINUTES = {"SEV1": 30, "SEV2": 60, "SEV3": 120, "SEV4": 0}
    long_ago = timezone.now() - timezone.timedelta(hours=3)
    incident = services.create_incident(actor=lead, title="Checkout errors", severity="SEV1", started_at=long_ago,
                                        detected_at=long_ago)
    confirmed_subscribers(1)
    template = MessageTemplate.objects.get(name="Initial acknowledgement")
    message = messaging.create_message(incident=incident, author=support, template=template)
    assert "{next_update}" in message.explain + message.acknowledge  # not fixed while it is a draft

    messaging.publish(message, actor=support)
    delivery.dispatch_due_messages()
    delivery.send_deliveries(list(Delivery.objects.filter(channel="email").values_list("pk", flat=True)))

    incident = Incident.objects.get(pk=incident.pk)
    message = Message.objects.get(pk=message.pk)
    assert message.promised_next_update_at == incident.next_update_due_at
    assert incident.next_update_due_at == message.dispatched_at + timezone.timedelta(minutes=30)
    promise = timezone.localtime(incident.next_update_due_at).strftime("%H:%M %Z")
    (email,) = mail.outbox
    assert promise in email.body and "{next_update}" not in email.body
    rendered = render_all(message)
    assert promise in rendered.statuspage["body"]
    stale_promise = timezone.localtime(long_ago + timezone.timedelta(minutes=30)).strftime("%H:%M %Z")
    assert stale_promise not in email.body  # what drafting from the detection time would have said


def test_the_message_page_asks_for_the_confirmation_and_passes_it_on(client, incident, lead, support):
    message = submitted_update(incident, support)
    services.change_status(incident, "resolved", actor=lead)
    client.force_login(lead)
    page = client.get(f"/messages/{message.pk}/").content.decode()
    assert "Written while the incident was investigating; it is now resolved." in page
    assert 'name="confirm_stale"' in page

    client.post(f"/messages/{message.pk}/approve/")
    assert Message.objects.get(pk=message.pk).state == MessageState.SUBMITTED
    client.post(f"/messages/{message.pk}/approve/", {"confirm_stale": "1"})
    assert Message.objects.get(pk=message.pk).state == MessageState.APPROVED


def test_the_promise_is_in_the_sites_time_zone_whoever_previews_it(settings, incident, support):
    from zoneinfo import ZoneInfo

    from comms.rendering import promised_next_update

    message = submitted_update(incident, support)
    Message.objects.filter(pk=message.pk).update(dispatched_at=timezone.now(),
                                                 promised_next_update_at=timezone.now())
    message = Message.objects.get(pk=message.pk)
    with timezone.override(ZoneInfo("America/New_York")):
        assert promised_next_update(message).endswith("UTC")


def test_a_message_to_accounts_never_promises_a_next_update_time_already_past(settings, lead, manager):
    settings.UPDATE_CADENCE_MINUTES = {"SEV1": 30, "SEV2": 60, "SEV3": 120, "SEV4": 0}
    long_ago = timezone.now() - timezone.timedelta(hours=3)
    incident = services.create_incident(actor=lead, title="Checkout errors", severity="SEV2", started_at=long_ago,
                                        detected_at=long_ago)
    assert Incident.objects.get(pk=incident.pk).next_update_due_at < timezone.now()  # overdue
    message = messaging.create_message(incident=incident, author=manager, audience="affected_accounts",
                                       channels=["email"], headline="About the checkout errors",
                                       explain="Next update by {next_update}.")
    messaging.submit(message, actor=manager)
    messaging.approve(message, actor=lead)
    messaging.publish(message, actor=lead)
    delivery.dispatch_due_messages()

    message = Message.objects.get(pk=message.pk)
    assert message.promised_next_update_at is None
    assert "Next update by as soon as we know more." in render_all(message).email_text


def test_a_headline_promise_is_filled_on_the_status_page_its_feed_and_json_too(client, lead, support):
    incident = services.create_incident(actor=lead, title="Checkout errors", severity="SEV3")
    message = messaging.create_message(incident=incident, author=support, headline="Next update by {next_update}",
                                       explain="Payments fail at checkout.", channels=["statuspage"])
    messaging.submit(message, actor=support)
    messaging.approve(message, actor=lead)
    messaging.publish(message, actor=lead)
    delivery.dispatch_due_messages()
    delivery.send_deliveries(list(Delivery.objects.values_list("pk", flat=True)))

    promise = timezone.localtime(Incident.objects.get(pk=incident.pk).next_update_due_at).strftime("%H:%M %Z")
    for url in ("/status/", "/status/feed.atom", "/api/v2/summary.json"):
        body = client.get(url).content.decode()
        assert "{next_update}" not in body and promise in body, url


def test_support_publishing_a_pre_approved_message_is_refused_while_guidance_is_left_in_it(api_as, support, incident):
    template = MessageTemplate.objects.create(name="With guidance", phase="update", pre_approved=True,
                                              channels=["statuspage"], headline="Checkout is slow",
                                              explain="[[Say which checkout steps are slow.]]")
    message = messaging.create_message(incident=incident, author=support, template=template)
    assert message.is_unchanged_preapproved

    refused = api_as(support).post(f"/api/v1/messages/{message.pk}/publish/", format="json")
    assert refused.status_code == 409
    assert "still has the template's guidance" in refused.json()["message"]
    assert Message.objects.get(pk=message.pk).state == MessageState.DRAFT


def test_support_publishing_a_stale_pre_approved_message_confirms_it_first(api_as, lead, support, incident):
    template = MessageTemplate.objects.get(name="Initial acknowledgement")
    message = messaging.create_message(incident=incident, author=support, template=template)
    services.change_status(incident, "identified", actor=lead)

    refused = api_as(support).post(f"/api/v1/messages/{message.pk}/publish/", format="json")
    assert refused.status_code == 409 and "it is now identified" in refused.json()["message"]
    confirmed = api_as(support).post(f"/api/v1/messages/{message.pk}/publish/", {"confirm_stale": True},
                                     format="json")
    assert confirmed.status_code == 200 and confirmed.json()["state"] == "scheduled"
