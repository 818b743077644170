"""Notices about maintenance windows: each due one once, to each subscriber of the affected components once, through
the delivery rows, claim and send that messages use."""

import json

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from comms.choices import DeliveryStatus
from comms.delivery import send_deliveries
from comms.maintenance import approval
from comms.maintenance.notices import send_due_notices
from comms.models import Delivery, MaintenanceNotice, Subscriber
from config.env import env_offsets
from incidents import maintenance as windows
from tests.comms.helpers import confirmed_subscribers
from tests.factories import ComponentFactory, UserFactory

pytestmark = pytest.mark.django_db
HOUR = timezone.timedelta(hours=1)


@pytest.fixture
def second_lead(db):
    return UserFactory(username="second-lead", role="Communications lead")


@pytest.fixture
def api_component(db):
    return ComponentFactory(name="API")


def window_for(author, approver, components, *, starts_in, lasts=HOUR, approve=True):
    now = timezone.now()
    window = windows.create_maintenance(
        author=author, components=components, title="Database upgrade", what="We upgrade the main database.",
        customer_impact="Writes pause for up to a minute.", internal_notes="Runbook: DB-42, ask Sam",
        scheduled_for=now + starts_in, scheduled_until=now + starts_in + lasts)
    approval.submit(window, actor=author)
    return approval.approve(window, actor=approver) if approve else window


def send_all() -> None:
    ids = list(Delivery.objects.filter(status=DeliveryStatus.QUEUED).values_list("pk", flat=True))
    send_deliveries(ids)


def test_the_offsets_setting_is_parsed_longest_first_and_a_bad_value_names_the_variable():
    assert env_offsets("MAINTENANCE_NOTICE_OFFSETS", "72h,1h") == [72 * 3600, 3600]
    assert env_offsets("X", "", env={"X": "30m, 2d ,30m"}) == [2 * 86400, 1800]
    for bad in ("72", "1w", "0h", "72h;1h", "h"):
        with pytest.raises(ImproperlyConfigured, match="MAINTENANCE_NOTICE_OFFSETS"):
            env_offsets("MAINTENANCE_NOTICE_OFFSETS", "72h,1h", env={"MAINTENANCE_NOTICE_OFFSETS": bad})


def test_an_advance_notice_goes_once_to_each_subscriber_of_the_affected_components(lead, second_lead, api_component):
    other = ComponentFactory(name="Billing")
    confirmed_subscribers(3, components=[api_component])
    confirmed_subscribers(2, prefix="everything")  # no components chosen: everything
    confirmed_subscribers(2, prefix="billing-only", components=[other])
    Subscriber.objects.create(email="unconfirmed@example.com")
    window_for(lead, second_lead, [api_component], starts_in=HOUR * 50)

    assert send_due_notices() == 1
    assert send_due_notices() == 0  # run again: nothing new
    send_all()
    send_all()

    recipients = sorted(address for email in mail.outbox for address in email.to)
    assert recipients == sorted([f"reader{n}@example.com" for n in range(3)]
                                + [f"everything{n}@example.com" for n in range(2)])
    email = mail.outbox[0]
    assert email.subject == "Scheduled maintenance: Database upgrade"
    assert email.body.startswith("Reminder: scheduled maintenance starts in 2 days")
    assert "Writes pause for up to a minute." in email.body
    assert "Runbook" not in email.body and "Runbook" not in email.alternatives[0][0]
    assert "List-Unsubscribe" in email.extra_headers


def test_when_both_offsets_are_due_only_the_nearer_notice_is_sent(lead, second_lead, api_component):
    confirmed_subscribers(1, components=[api_component])
    window_for(lead, second_lead, [api_component], starts_in=timezone.timedelta(minutes=30))

    assert send_due_notices() == 2
    send_all()

    notices = {notice.key.split(":")[1]: notice for notice in MaintenanceNotice.objects.filter(kind="advance")}
    assert notices["259200"].skipped and not notices["259200"].deliveries.exists()
    assert not notices["3600"].skipped
    assert len(mail.outbox) == 1
    assert "starts in 30 minutes" in mail.outbox[0].body


def test_each_offset_sends_its_own_notice_as_its_time_comes(lead, second_lead, api_component, settings):
    confirmed_subscribers(1, components=[api_component])
    window = window_for(lead, second_lead, [api_component], starts_in=HOUR * 100)

    assert send_due_notices(now=window.scheduled_for - HOUR * 80) == 0
    assert send_due_notices(now=window.scheduled_for - HOUR * 71) == 1
    assert send_due_notices(now=window.scheduled_for - HOUR * 70) == 0
    assert send_due_notices(now=window.scheduled_for - timezone.timedelta(minutes=59)) == 1
    send_all()
    assert [email.body.split(",")[0] for email in mail.outbox] == [
        "Reminder: scheduled maintenance starts in 3 days", "Reminder: scheduled maintenance starts in 59 minutes"]


def test_start_and_completion_each_send_one_notice(lead, second_lead, api_component):
    confirmed_subscribers(2, components=[api_component])
    window = window_for(lead, second_lead, [api_component], starts_in=HOUR * 50)
    send_due_notices(now=window.scheduled_for - HOUR * 49)  # the 72 h notice
    windows.move_due_windows(now=window.scheduled_for)
    send_due_notices(now=window.scheduled_for)
    windows.move_due_windows(now=window.scheduled_until)
    send_due_notices(now=window.scheduled_until)
    send_due_notices(now=window.scheduled_until)
    send_all()

    assert sorted(MaintenanceNotice.objects.values_list("kind", flat=True)) == ["advance", "completed", "started"]
    subjects = sorted({email.subject for email in mail.outbox})
    assert subjects == ["Maintenance completed: Database upgrade", "Maintenance started: Database upgrade",
                        "Scheduled maintenance: Database upgrade"]
    assert len(mail.outbox) == 6  # three notices, two subscribers, once each


def test_an_unapproved_window_sends_nothing(lead, api_component):
    confirmed_subscribers(2, components=[api_component])
    window_for(lead, None, [api_component], starts_in=timezone.timedelta(minutes=30), approve=False)
    assert send_due_notices() == 0
    assert not Delivery.objects.exists()


def test_cancelling_a_window_subscribers_were_told_of_tells_them_once(lead, second_lead, api_component):
    confirmed_subscribers(2, components=[api_component])
    window = window_for(lead, second_lead, [api_component], starts_in=HOUR * 50)
    send_due_notices()
    windows.cancel(window, actor=lead, reason="Vendor postponed")
    assert send_due_notices() == 1
    assert send_due_notices() == 0
    send_all()
    assert sorted(email.subject for email in mail.outbox)[:2] == ["Maintenance cancelled: Database upgrade"] * 2


def test_cancelling_a_window_nobody_was_told_of_sends_nothing(lead, second_lead, api_component):
    confirmed_subscribers(2, components=[api_component])
    window = window_for(lead, second_lead, [api_component], starts_in=HOUR * 200)
    send_due_notices()
    windows.cancel(window, actor=lead)
    assert send_due_notices() == 0
    assert not Delivery.objects.exists()


def test_a_rescheduled_window_waits_for_approval_then_tells_subscribers_once(lead, second_lead, api_component):
    confirmed_subscribers(1, components=[api_component])
    window = window_for(lead, second_lead, [api_component], starts_in=HOUR * 50)
    send_due_notices()
    later = window.scheduled_for + HOUR * 24
    window = windows.reschedule(window, actor=lead, scheduled_for=later, scheduled_until=later + HOUR)

    assert send_due_notices() == 0  # not approved again yet
    approval.approve(window, actor=second_lead)
    created = send_due_notices()
    send_all()

    kinds = list(MaintenanceNotice.objects.filter(skipped=False).values_list("kind", flat=True))
    assert kinds == ["advance", "rescheduled"]
    assert created == 1
    assert [email.subject for email in mail.outbox] == ["Scheduled maintenance: Database upgrade",
                                                        "Maintenance rescheduled: Database upgrade"]
    assert mail.outbox[1].body.startswith("Scheduled maintenance was rescheduled: it now runs")

    # The reminders start over for the new time.
    assert send_due_notices(now=later - HOUR * 71) == 1
    send_all()
    assert len(mail.outbox) == 3 and "starts in 3 days" in mail.outbox[2].body


def test_a_reminder_already_due_when_the_reschedule_is_announced_is_skipped(lead, second_lead, api_component):
    confirmed_subscribers(1, components=[api_component])
    window = window_for(lead, second_lead, [api_component], starts_in=HOUR * 100)
    send_due_notices(now=window.scheduled_for - HOUR * 71)
    earlier = window.scheduled_for - HOUR * 30  # now 41 h after "now - 71 h": within the 72 h range already
    window = windows.reschedule(window, actor=lead, scheduled_for=earlier, scheduled_until=earlier + HOUR)
    approval.approve(window, actor=second_lead)

    send_due_notices()
    send_all()
    assert MaintenanceNotice.objects.get(key="advance:259200:v1").skipped
    assert [email.subject for email in mail.outbox] == ["Scheduled maintenance: Database upgrade",
                                                        "Maintenance rescheduled: Database upgrade"]


def test_a_notice_goes_to_webhooks_as_a_signed_maintenance_event(lead, second_lead, api_component, settings):
    from comms.models import WebhookEndpoint

    endpoint = WebhookEndpoint.objects.create(name="Ops", url="https://hooks.example.com/ears")
    window_for(lead, second_lead, [api_component], starts_in=HOUR)
    send_due_notices()
    posted = []

    class Response:
        status_code = 200
        headers = {}

    def fake_post(self, url, data=None, headers=None, **kwargs):
        posted.append((url, data, headers))
        return Response()

    from core.outbound import OutboundSession

    original = OutboundSession.post
    OutboundSession.post = fake_post
    try:
        send_all()
    finally:
        OutboundSession.post = original
    assert len(posted) == 1
    url, body, headers = posted[0]
    assert url == endpoint.url and headers["X-EARS-Event"] == "maintenance.advance"
    assert b"Runbook" not in body and b"Database upgrade" in body


# --- Subscribers' Slack, Teams, Discord and webhook endpoints, and SMS --------------------------------------

@pytest.fixture
def chat_fakes(settings):
    from tests.fakes.discord import FakeDiscordWebhook
    from tests.fakes.slack import FakeSlackWebhook
    from tests.fakes.teams import FakeTeamsWorkflow

    settings.SLACK_WEBHOOK_HOSTS = settings.DISCORD_WEBHOOK_HOSTS = ["127.0.0.1"]
    with FakeSlackWebhook() as slack, FakeDiscordWebhook() as discord, FakeTeamsWorkflow() as teams:
        yield slack, discord, teams


def confirmed_endpoint(kind: str, url: str, components=()):
    from comms.models import SubscriberEndpoint

    now = timezone.now()
    endpoint = SubscriberEndpoint.objects.create(kind=kind, url=url, requested_at=now, confirmed_at=now)
    endpoint.components.set(components)
    return endpoint


def test_a_notice_reaches_each_subscribed_chat_channel_once_with_its_unsubscribe_link(
        lead, second_lead, api_component, chat_fakes):
    slack, discord, teams = chat_fakes
    slack_endpoint = confirmed_endpoint("slack", slack.hook_url, [api_component])
    confirmed_endpoint("discord", discord.hook_url)  # no components chosen: everything
    confirmed_endpoint("teams", teams.hook_url, [api_component])
    elsewhere = confirmed_endpoint("webhook", "https://billing.example.test/ears", [ComponentFactory(name="Billing")])
    window_for(lead, second_lead, [api_component], starts_in=HOUR * 50)

    assert send_due_notices() == 1
    send_all()
    send_all()

    assert (len(slack.posted), len(discord.posted), len(teams.cards)) == (1, 1, 1)
    assert not Delivery.objects.filter(recipient__endswith=f"-endpoint:{elsewhere.pk}").exists()
    assert teams.cards[0]["body"][0]["inlines"][0]["text"] == "[Scheduled maintenance] Database upgrade"
    posted = json.dumps(slack.posted[0])
    assert "*Database upgrade*" in posted
    assert "Reminder: scheduled maintenance starts in 2 days" in posted
    assert f"/status/unsubscribe/webhooks/{slack_endpoint.unsubscribe_token}/|Unsubscribe this channel>" in posted
    assert "Runbook" not in posted and "Runbook" not in json.dumps(discord.posted[0])
    [embed] = discord.posted[0]["embeds"]
    assert embed["title"] == "[Scheduled maintenance] Database upgrade"
    assert "Writes pause for up to a minute" in embed["description"]


def test_a_generic_webhook_subscriber_gets_the_signed_maintenance_event(lead, second_lead, api_component, settings):
    from comms.channels.webhook import sign
    from tests.security.test_outbound_requests import local_server

    settings.OUTBOUND_ALLOWED_HOSTS, settings.OUTBOUND_ALLOW_HTTP = ["127.0.0.1"], True
    with local_server() as server:
        endpoint = confirmed_endpoint("webhook", server.url + "/ears", [api_component])
        window_for(lead, second_lead, [api_component], starts_in=HOUR)
        send_due_notices()
        send_all()

    [(_, path, headers, body)] = server.received
    event = json.loads(body)
    assert (path, headers["X-EARS-Event"], event["event"]) == ("/ears", "maintenance.advance", "maintenance.advance")
    assert headers["X-EARS-Signature"] == sign(endpoint.secret, body)
    assert event["maintenance"]["title"] == "Database upgrade" and "internal_notes" not in event["maintenance"]
    assert event["unsubscribe_url"].endswith(f"/status/unsubscribe/webhooks/{endpoint.unsubscribe_token}/")


def test_sms_subscribers_get_a_notice_when_sms_is_configured_and_none_otherwise(
        lead, second_lead, api_component, settings):
    from comms.models import SmsSubscriber
    from tests.fakes.twilio import configured_twilio

    SmsSubscriber.objects.create(phone="+447911123456", confirmed_at=timezone.now())
    window_for(lead, second_lead, [api_component], starts_in=HOUR * 50)
    send_due_notices()
    assert not Delivery.objects.filter(channel="sms").exists()  # SMS is not configured: no rows that cannot go

    with configured_twilio(settings) as twilio:
        window = windows.start(MaintenanceNotice.objects.get().maintenance, actor=lead)
        send_due_notices()
        send_all()
        send_all()
        [text] = twilio.texts_to("+447911123456")

    assert window.state == "in_progress"
    assert "Database upgrade - Scheduled maintenance started at" in text and "Reply STOP" in text
    assert "Runbook" not in text


# --- Words waiting for approval never go out (security review) ----------------------------------------------

@pytest.fixture
def twilio(settings):
    from tests.fakes.twilio import configured_twilio

    with configured_twilio(settings) as fake:
        yield fake


def everything_sent(chat_fakes, twilio) -> str:
    slack, discord, teams = chat_fakes
    texts = [text for number in ("+447911123456",) for text in twilio.texts_to(number)]
    emails = [f"{email.subject}\n{email.body}\n{email.alternatives[0][0]}" for email in mail.outbox]
    return json.dumps([slack.posted, discord.posted, teams.cards, texts, emails])


def test_a_cancellation_after_an_unapproved_edit_carries_none_of_the_words_waiting_for_approval(
        lead, second_lead, api_component, chat_fakes, twilio):
    from comms.models import SmsSubscriber

    slack, discord, teams = chat_fakes
    for kind, fake in (("slack", slack), ("discord", discord), ("teams", teams)):
        confirmed_endpoint(kind, fake.hook_url, [api_component])
    SmsSubscriber.objects.create(phone="+447911123456", confirmed_at=timezone.now())
    confirmed_subscribers(1, components=[api_component])
    window = window_for(lead, second_lead, [api_component], starts_in=HOUR * 50)
    send_due_notices()
    send_all()
    assert "Database upgrade" in everything_sent(chat_fakes, twilio)  # the approved words went out
    window = windows.update_maintenance(window, actor=lead, title="DRAFT do not send",
                                        what="Unapproved: the breach fix", customer_action="Unapproved action",
                                        components=[api_component, ComponentFactory(name="Unapproved component")])
    assert window.approval == "submitted"

    windows.cancel(window, actor=lead)
    assert send_due_notices() == 1
    send_all()

    sent = everything_sent(chat_fakes, twilio)
    assert sent.count("was cancelled; it will not take place") >= 5  # Slack, Discord, Teams, SMS and email, each
    for unapproved in ("DRAFT do not send", "Unapproved"):
        assert unapproved not in sent


def test_the_rest_of_a_fan_out_under_way_when_the_window_is_edited_carries_none_of_the_new_words(
        lead, second_lead, api_component, chat_fakes):
    slack, _, _ = chat_fakes
    confirmed_endpoint("slack", slack.hook_url, [api_component])
    confirmed_subscribers(1, components=[api_component])
    window = window_for(lead, second_lead, [api_component], starts_in=HOUR * 50)
    assert send_due_notices() == 1  # the rows are queued; none is sent yet
    windows.update_maintenance(window, actor=lead, title="DRAFT do not send", why="Unapproved reason")

    send_all()

    sent = json.dumps([slack.posted, [f"{email.subject}\n{email.body}" for email in mail.outbox]])
    assert "Reminder: scheduled maintenance starts in 2 days" in sent
    assert "DRAFT do not send" not in sent and "Unapproved reason" not in sent
