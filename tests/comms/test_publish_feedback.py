"""What the message page says right after publishing, and the delivery progress it follows until the message is
out: the flash, the badge and the deliveries section agree, and GET messages/<pk>/progress/ gives counts only."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import timezone

from comms import messaging
from comms.choices import DeliveryStatus, MessageState
from comms.models import Message, MessageTemplate
from tests.comms.helpers import scheduled_message
from tests.factories import DeliveryFactory, IncidentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident():
    return IncidentFactory(title="Payments failing")


@pytest.fixture
def preapproved_draft(incident, support):
    template = MessageTemplate.objects.create(
        name="Quick acknowledgement", phase="initial", pre_approved=True, channels=["statuspage"],
        headline="We are looking into a problem with payments",
        explain="Some payments fail. Engineers are working on it.", acknowledge="We are sorry for the disruption.",
    )
    message = messaging.create_message(incident=incident, author=support, template=template)
    assert message.is_unchanged_preapproved
    return message


def page_of(client, message) -> str:
    response = client.get(message.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def badge(content: str) -> str:
    return re.search(r'<span id="message-state"><span class="state[^"]*"[^>]*>([^<]*)</span>', content).group(1)


def progress_of(client, message):
    return client.get(reverse("message-progress", args=[message.pk]))


def with_deliveries(message, **per_status):
    """Email deliveries to real-looking addresses, so that a leak would show."""
    for status, count in per_status.items():
        for _ in range(count):
            DeliveryFactory(message=message, channel="email", status=status)
    DeliveryFactory(message=message, channel="statuspage", recipient="statuspage", status=DeliveryStatus.SENT)


# --- right after publishing --------------------------------------------------------------------------------


def test_the_page_right_after_support_publishes_says_it_is_going_out_and_nothing_contradicts_it(
    client, support, preapproved_draft
):
    client.force_login(support)
    response = client.post(reverse("message-action", args=[preapproved_draft.pk, "publish"]), follow=True)
    content = response.content.decode()
    assert Message.objects.get(pk=preapproved_draft.pk).state == MessageState.SCHEDULED  # dispatch has not run
    assert [str(m) for m in response.context["messages"]] == ["Published; it is going out now."]
    assert badge(content) == "Going out now"
    assert "Send now" not in content and "Publish now" not in content
    assert "Going out now…" in content
    assert "Nothing has been sent yet" not in content


def test_a_lead_sees_no_send_now_button_for_a_message_already_due_but_does_for_one_due_later(client, lead):
    due = scheduled_message(lead, channels=["statuspage"])
    later = scheduled_message(lead, channels=["statuspage"], headline="Checkout works again")
    Message.objects.filter(pk=later.pk).update(scheduled_for=timezone.now() + timezone.timedelta(hours=2))
    client.force_login(lead)

    content = page_of(client, due)
    assert badge(content) == "Going out now" and "Send now" not in content and "Going out now…" in content

    content = page_of(client, later)
    assert badge(content) == "Scheduled" and "Send now" in content and "Scheduled to go out at" in content


def test_a_lead_moving_a_scheduled_message_to_now_is_told_it_is_going_out_now(client, lead):
    message = scheduled_message(lead, channels=["statuspage"])
    Message.objects.filter(pk=message.pk).update(scheduled_for=timezone.now() + timezone.timedelta(hours=2))
    client.force_login(lead)
    response = client.post(reverse("message-action", args=[message.pk, "publish"]), follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Moved to now; it is going out now."]
    assert badge(response.content.decode()) == "Going out now"


def test_without_javascript_the_page_says_what_is_happening_and_offers_a_refresh_link_until_it_is_sent(
    client, lead
):
    message = scheduled_message(lead, channels=["statuspage"])
    client.force_login(lead)
    content = page_of(client, message)
    progress_url = reverse("message-progress", args=[message.pk])
    assert f'data-progress-url="{progress_url}"' in content and 'aria-live="polite"' in content
    assert ">Refresh</a>" in content and "ears/progress.js" in content

    Message.objects.filter(pk=message.pk).update(
        state=MessageState.SENDING, dispatched_at=timezone.now(), fanned_out_at=timezone.now()
    )
    with_deliveries(message, sent=3, queued=1)
    content = page_of(client, message)
    assert badge(content) == "Sending" and "Sent 4 of 5…" in content and ">Refresh</a>" in content

    Message.objects.filter(pk=message.pk).update(state=MessageState.SENT, finished_at=timezone.now())
    message.deliveries.filter(status=DeliveryStatus.QUEUED).update(status=DeliveryStatus.SENT)
    content = page_of(client, message)
    assert badge(content) == "Sent" and "Finished: sent 5 of 5." in content
    assert ">Refresh</a>" not in content and "data-progress-url" not in content


def test_the_progress_script_is_served_from_this_site():
    assert finders.find("ears/progress.js")


# --- the progress endpoint ---------------------------------------------------------------------------------


def test_the_progress_endpoint_gives_the_state_and_counts_per_channel_and_never_an_address(client, lead):
    message = scheduled_message(lead, channels=["email", "statuspage"])
    Message.objects.filter(pk=message.pk).update(
        state=MessageState.SENDING, dispatched_at=timezone.now(), fanned_out_at=timezone.now()
    )
    with_deliveries(message, sent=1980, failed=3, queued=17)
    client.force_login(lead)  # a lead may read addresses on the message page; the progress has none for anyone

    response = progress_of(client, message)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    body = response.json()
    assert (body["state"], body["label"], body["finished"], body["going_out"]) == ("sending", "Sending", False, True)
    assert body["text"] == "Sent 1,981 of 2,001 · 3 failed…"
    assert body["channels"] == [
        {"channel": "email", "total": 2000, "queued": 17, "sending": 0, "sent": 1980, "failed": 3, "skipped": 0},
        {"channel": "statuspage", "total": 1, "queued": 0, "sending": 0, "sent": 1, "failed": 0, "skipped": 0},
    ]
    assert "@" not in response.content.decode()
    assert "@example.com" in page_of(client, message)  # the addresses were there to leak


def test_the_progress_endpoint_says_when_a_message_is_going_out_and_when_it_has_finished(client, support, lead):
    message = scheduled_message(lead, channels=["statuspage"])
    client.force_login(support)
    body = progress_of(client, message).json()
    assert (body["state"], body["label"], body["text"], body["finished"]) == (
        "scheduled", "Going out now", "Going out now…", False
    )

    Message.objects.filter(pk=message.pk).update(
        state=MessageState.PARTIALLY_FAILED, dispatched_at=timezone.now(), fanned_out_at=timezone.now(),
        finished_at=timezone.now(),
    )
    with_deliveries(message, sent=1, failed=1)
    body = progress_of(client, message).json()
    assert (body["state"], body["label"], body["finished"], body["going_out"]) == (
        "partially_failed", "Partially failed", True, False
    )
    assert body["text"] == "Finished: sent 2 of 3 · 1 failed."


def test_the_progress_endpoint_sends_anonymous_visitors_to_sign_in_and_refuses_users_without_a_role(
    client, lead, roleless
):
    message = scheduled_message(lead, channels=["statuspage"])
    response = progress_of(client, message)
    assert response.status_code == 302 and response["Location"].startswith(f"{reverse('login')}?next=")
    client.force_login(roleless)
    assert progress_of(client, message).status_code == 403
    assert client.get(message.get_absolute_url()).status_code == 403  # the same rule as the message page


def test_the_progress_endpoint_answers_only_get(client, lead):
    message = scheduled_message(lead, channels=["statuspage"])
    client.force_login(lead)
    assert client.post(reverse("message-progress", args=[message.pk])).status_code == 405
